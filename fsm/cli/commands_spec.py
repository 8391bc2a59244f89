"""Commands about a machine's definition: `check` validates its YAML, `diagram` draws it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from fsm.cli.command import add
from fsm.cli.options import (
    DEFAULT_STATE_DIR,
    BaseUrlOpt,
    Common,
    JsonOpt,
    LiveOpt,
    MachineArg,
    StateDirOpt,
    console,
)

FORMATS = ("mermaid", "dot", "svg", "png")


def _output_file(value: Path | None) -> Path | None:
    """Refuse an -o that cannot be a file (a directory, or in a folder that does not exist) before drawing."""
    if value is not None:
        if value.is_dir():
            raise typer.BadParameter(f"{value} is a directory")
        if not value.parent.is_dir():
            raise typer.BadParameter(f"{value.parent} is not an existing directory")
    return value


def check(
    machine: MachineArg,
    as_json: JsonOpt = False,
    observe: Annotated[
        bool, typer.Option("--observe", help="also ask OKX (read-only) whether the account's modes fit")
    ] = False,
    base_url: BaseUrlOpt = None,
    live: LiveOpt = False,
) -> None:
    """Validate a machine's YAML (and its order and stop machines); with --observe, the account it would
    trade."""
    from fsm.cli.render import print_json
    from fsm.cli.render_status import account_line
    from fsm.engine.machine import load_machine
    from fsm.errors import ExitStatus

    common = Common(base_url=base_url, live=live, as_json=as_json)
    loaded = load_machine(machine, state_dir=DEFAULT_STATE_DIR)
    spec = loaded.spec
    account = None
    if observe:
        from fsm.cli.reports_status import account_fit_document
        from fsm.engine.account import check_leverage
        from fsm.engine.view import ExchangeView

        view = ExchangeView(common.reader())
        check_leverage(spec, loaded.params, view.instrument(loaded.params.symbol))  # a YAML error: exit 2
        account = account_fit_document(loaded, view)
    if as_json:
        print_json(
            {
                "path": str(spec.path),
                "machine": spec.name,
                "kind": spec.kind,
                "states": list(spec.state_names),
                "rows": len(spec.rows),
                "spec_hash": spec.spec_hash,
                "order_machine": loaded.order_spec.name,
                "stop_machine": loaded.stop_spec.name,
                "account": account,
            }
        )
    else:
        print(
            f"ok: {spec.path}: machine {spec.name} ({spec.kind}), {len(spec.states)} states, "
            f"{len(spec.rows)} rows; order machine {loaded.order_spec.name} ok; stop machine "
            f"{loaded.stop_spec.name} ok"
        )
        account_line(console(), account)
    if account is not None and account["refusal"]:
        raise typer.Exit(ExitStatus.EXCHANGE)


def diagram(
    machine: MachineArg,
    fmt: Annotated[str, typer.Option("--format", help="mermaid | dot | svg | png")] = "mermaid",
    out: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", metavar="FILE", help="write to FILE, not stdout", callback=_output_file
        ),
    ] = None,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
) -> None:
    """Draw the machine from its YAML, guards on the edges; the current state highlighted if known."""
    from fsm.engine.machine import load_any_spec, load_machine, resolve_machine_path
    from fsm.engine.tick import read_state_unlocked
    from fsm.errors import EngineError
    from fsm.spec import diagram as draw

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be mermaid, dot, svg or png, not {fmt!r}")
    spec = load_any_spec(resolve_machine_path(machine))
    current = None
    if spec.kind == "ladder":
        loaded = load_machine(machine, state_dir=state_dir)
        if loaded.state_path.exists():
            try:
                current = read_state_unlocked(loaded)[0].state
            except EngineError:
                current = None  # a refused state file is `status`'s business; the drawing needs none
    if fmt in ("svg", "png"):
        target = out or Path(f"{spec.name}.{fmt}")
        draw.render(spec, fmt, target, current=current)  # type: ignore[arg-type]
        print(f"wrote {target}")
        return
    text = draw.to_mermaid(spec, current) if fmt == "mermaid" else draw.to_dot(spec, current)
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.write_text(text)
        print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add check and diagram to `app`."""
    add(app, check)
    add(app, diagram)
