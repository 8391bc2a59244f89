"""`python -m exchange.sim`: run a simulator in the foreground (the same as `okx-fsm sim`)."""

from __future__ import annotations

import argparse

from .command import ALLOW_REMOTE_HELP, serve


def main() -> int:
    """Flags are taken as text: `serve` checks them all, so a bad one is one line on stderr and exit 2."""
    parser = argparse.ArgumentParser(prog="python -m exchange.sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (loopback unless --allow-remote)")
    parser.add_argument("--allow-remote", action="store_true", help=ALLOW_REMOTE_HELP)
    parser.add_argument("--port", default="0", help="0 picks a free port")
    parser.add_argument("--seed", default="0", help="seed of the price path and faults")
    parser.add_argument("--clock", default="realtime", help="manual | realtime")
    parser.add_argument("--speed", default="1", help="realtime clock speed factor (positive)")
    parser.add_argument("--start-px", default="3000", help="ETH-USDT-SWAP start price")
    args = parser.parse_args()
    return serve(args.host, args.port, args.seed, args.clock, args.speed, args.start_px, args.allow_remote)


if __name__ == "__main__":
    raise SystemExit(main())
