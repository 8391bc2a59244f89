"""Commands about a machine's definition: `check` validates its YAML, `diagram` draws it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsm.cli.command import add
from fsm.cli.options import (
    DEFAULT_STATE_DIR,
    BaseUrlOpt,
    Common,
    JsonOpt,
    LimitsOpt,
    LiveOpt,
    MachineArg,
    StateDirOpt,
    account_limits,
    console,
)

if TYPE_CHECKING:
    from fsm.engine.machine import LoadedMachine
    from fsm.engine.view import ExchangeView
    from fsm.risk.entries import SizingVerdict

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
    limits: LimitsOpt = None,
) -> None:
    """Validate a machine's YAML (and its order and stop machines) and the hard limits it runs under; with
    --observe, the account it would trade and whether its sizing can pass its limits."""
    from fsm.cli.render import print_json
    from fsm.cli.render_status import account_line
    from fsm.engine.machine import load_machine
    from fsm.errors import ExitStatus

    common = Common(base_url=base_url, live=live, as_json=as_json)
    loaded = load_machine(machine, state_dir=DEFAULT_STATE_DIR, limits=account_limits(limits))
    spec = loaded.spec
    account = None
    sizing = None
    if observe:
        from fsm.cli.reports_status import account_fit_document
        from fsm.engine.account import check_leverage
        from fsm.engine.view import ExchangeView

        view = ExchangeView(common.reader())
        check_leverage(spec, loaded.params, view.instrument(loaded.params.symbol))  # a YAML error: exit 2
        account = account_fit_document(loaded, view)
        sizing = _sizing_document(loaded, view)
    limits_doc = _limits_document(loaded, sizing)
    if sizing is not None and sizing.refusal is not None:  # file, line and field of the sizing, with numbers
        key = "sizes" if loaded.params.sizes is not None else "notional_per_rung"
        raise spec.param_refused(key, limits_doc["said"])
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
                "limits": limits_doc,
            }
        )
    else:
        print(
            f"ok: {spec.path}: machine {spec.name} ({spec.kind}), {len(spec.states)} states, "
            f"{len(spec.rows)} rows; order machine {loaded.order_spec.name} ok; stop machine "
            f"{loaded.stop_spec.name} ok"
        )
        account_line(console(), account)
        print(f"limits: {limits_doc['said']}")
    if account is not None and account["refusal"]:
        raise typer.Exit(ExitStatus.EXCHANGE)


def _sizing_document(loaded: LoadedMachine, view: ExchangeView) -> SizingVerdict | None:
    """The machine's own sizing judged against its limits at the instrument OKX gives and the last price."""
    from fsm.risk.entries import last_price, shipped_sizing

    symbol = loaded.params.symbol
    last = None if loaded.limits is None else last_price(view, symbol)
    if loaded.limits is None or last is None:
        return None  # nothing to judge, or nothing to judge it by: said so
    return shipped_sizing(loaded.params, loaded.limits, view.instrument(symbol), last)


def _limits_document(loaded: LoadedMachine, sizing: SizingVerdict | None) -> dict[str, Any]:
    """What `check` says of the limits: the ones in force, and whether the shipped sizing can pass."""
    from dataclasses import fields

    from fsm.spec.limits import UNITS

    if loaded.limits is None:
        return {"limits": None, "sizing": None, "said": "none declared: nothing caps what this machine sends"}
    values = {f.name: getattr(loaded.limits, f.name) for f in fields(loaded.limits)}
    in_force = {k: str(v) for k, v in values.items() if v is not None}
    named = ", ".join(f"{k} {v}" + (f" ({UNITS[k]})" if k in UNITS else "") for k, v in in_force.items())
    named = named or "none"
    if sizing is None:
        said = f"{named}; sizing not judged (it needs the instrument and a last price: --observe)"
        return {"limits": in_force, "sizing": None, "said": said}
    rungs = "; ".join(sizing.rungs)
    if sizing.refusal is None:
        said = f"{named}; sizing passes ({rungs})"
    else:
        said = f"{named}; sizing can never pass: {sizing.refusal} ({rungs})"
    doc = {
        "rungs": list(sizing.rungs),
        "refusal": None if sizing.refusal is None else sizing.refusal.to_dict(),
    }
    return {"limits": in_force, "sizing": doc, "said": said}


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
