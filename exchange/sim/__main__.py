"""`python -m exchange.sim`: run a simulator in the foreground (the same as `okx-fsm sim`)."""

from __future__ import annotations

import argparse

from .simulator import serve


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m exchange.sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--clock", choices=("manual", "realtime"), default="realtime")
    parser.add_argument("--speed", type=float, default=1.0, help="realtime clock speed factor")
    parser.add_argument("--start-px", default="3000", help="ETH-USDT-SWAP start price")
    args = parser.parse_args()
    return serve(args.host, args.port, args.seed, args.clock, args.speed, args.start_px)


if __name__ == "__main__":
    raise SystemExit(main())
