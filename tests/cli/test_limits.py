"""The hard limits end to end: the real CLI against the simulator, judged from the simulator's records
(its orders and request counts) and the machines' journals."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from fsm.engine.machine import REPO_MACHINES
from tests.cli.conftest import MACHINE, SYMBOL, Cli
from tests.cli.test_ladder_paths import fill_rung_fully, keep_away, open_entries, post_count
from tests.cli.test_stop_paths import algos

LADDER = REPO_MACHINES / f"{MACHINE}.yaml"


def write_limits(folder: Path, account: str = "", machine: str = "") -> Path:
    path = folder / "limits.yaml"
    text = ""
    if account:
        text += "account:\n" + "".join(f"  {line}\n" for line in account.split(";"))
    if machine:
        text += "machine:\n" + "".join(f"  {line}\n" for line in machine.split(";"))
    path.write_text(text)
    return path


def second_machine(folder: Path, name: str, extra: str = "") -> Path:
    """A copy of the ETH ladder with its own ids and state file (and `extra` params), beside its parent."""
    shutil.copy(LADDER, folder / LADDER.name)
    path = folder / f"{name}.yaml"
    path.write_text(
        f'machine: {name}\nextends: {LADDER.name}\ndescription: "a second ETH ladder"\nparams:\n'
        f"  strategy_id: {name}\n  client_order_id_prefix: sec\n  state_file: {name}_live.json\n{extra}"
    )
    return path


def risk_records(journal: Path) -> list[dict[str, object]]:
    import json

    return [r["data"] for r in map(json.loads, journal.read_text().splitlines()) if r["kind"] == "risk"]


def test_a_fat_fingered_notional_is_refused_with_nothing_sent(cli: Cli, tmp_path: Path) -> None:
    limits = write_limits(tmp_path, account='max_order_notional: "50"')
    cli.signal()
    posts_before = cli.posts()

    doc = cli.json("tick", "--submit", "--limits", str(limits))

    assert cli.posts() == posts_before == 0  # the simulator saw no POST at all
    assert cli.sim_orders() == []
    assert ("intent_rendered", "closed") in cli.transitions()
    (record,) = risk_records(cli.journal_path)
    assert record["rule"] == "max_order_notional"
    assert record["limit"] == "50"
    assert Decimal(str(record["value"])) > 50
    assert "ertw" in str(record["request"])
    assert doc["last_risk_refusal"]["rule"] == "max_order_notional"
    status = cli.machine("status").stdout
    assert "max_order_notional 50" in status
    cli.verify_log()


def test_within_the_limits_the_entries_go_out(cli: Cli, tmp_path: Path) -> None:
    limits = write_limits(tmp_path, account='max_order_notional: "1000";max_open_notional: "5000"')
    cli.signal()

    doc = cli.json("tick", "--submit", "--limits", str(limits))

    assert doc["state"] == "entries_open"
    assert len(cli.sim_orders()) == 3
    assert risk_records(cli.journal_path) == []


def test_the_second_machine_is_refused_by_max_open_notional_while_the_first_holds(
    cli: Cli, tmp_path: Path
) -> None:
    limits = write_limits(tmp_path, account='max_open_notional: "450"')
    other = second_machine(tmp_path, "eth_second")
    first = cli.entries_open()  # no limits file yet: ~300 of ETH entries rest on the book
    assert first["state"] == "entries_open"
    resting = {o["clOrdId"] for o in cli.sim_orders()}
    posts_before = cli.posts()

    result = cli.run(
        "tick", str(other), "--state-dir", str(cli.state_dir), "--submit", "--limits", str(limits), "--json"
    )

    assert cli.posts() == posts_before  # nothing of the second machine went out
    assert {o["clOrdId"] for o in cli.sim_orders()} == resting
    (record,) = risk_records(cli.state_dir / "eth_second_live.jsonl")
    assert record["rule"] == f"max_open_notional ({SYMBOL})"
    assert Decimal(str(record["value"])) > Decimal("450")
    assert '"last_risk_refusal"' in result.stdout


def test_exposure_counts_what_okx_shows_not_only_what_the_machines_believe(cli: Cli, tmp_path: Path) -> None:
    limits = write_limits(tmp_path, account='max_open_notional: "1000"')
    # An order by hand no machine knows: 3 contracts x 0.1 x 2900 = 870 resting on ETH.
    cli.trader().place_order(
        SYMBOL, side="buy", ord_type="limit", sz=Decimal("3"), px=Decimal("2900"), pos_side="long"
    )
    cli.signal()
    posts_before = cli.posts()

    cli.json("tick", "--submit", "--limits", str(limits))

    assert cli.posts() == posts_before
    (record,) = risk_records(cli.journal_path)
    assert record["rule"] == f"max_open_notional ({SYMBOL})"


def test_an_ad_hoc_order_over_the_limit_is_refused_in_one_line_with_nothing_sent(
    cli: Cli, tmp_path: Path
) -> None:
    limits = write_limits(tmp_path, account='max_order_notional: "1000"')

    result = cli.run(
        "order", SYMBOL, "--side", "buy", "--sz", "100", "--px", "2900", "--pos-side", "long",
        "--state-dir", str(cli.state_dir), "--limits", str(limits), "--submit",
        expect=3,
    )  # fmt: skip

    assert cli.posts() == 0
    assert cli.sim_orders() == []
    (line,) = result.stderr.strip().splitlines()
    assert "max_order_notional 1000" in line and "29000.00" in line and "Traceback" not in result.output


def test_check_says_what_the_trading_state_limits_count(cli: Cli, tmp_path: Path) -> None:
    limits = write_limits(tmp_path, account='max_daily_loss: "200";max_drawdown: "500"')

    said = cli.run("check", MACHINE, "--limits", str(limits)).stdout

    assert "max_daily_loss 200 (quote currency realized, the UTC day)" in said
    assert "max_drawdown 500 (quote currency below the peak of realized PnL, not a fraction)" in said


def test_a_sending_command_without_limits_says_so_once(cli: Cli) -> None:
    cli.signal()

    result = cli.machine("tick", "--submit")

    assert result.stderr.count("no limits: nothing caps what eth_robust_twap_15m sends") == 1


@pytest.mark.parametrize(
    ("account", "field", "problem"),
    [
        ("max_order_notional: 1000", "account.max_order_notional", "quoted strings"),
        ('max_daily_loss: "-250"', "account.max_daily_loss", "greater than 0"),
        ('max_ordr_notional: "1"', "account.max_ordr_notional", "unknown key"),
        ('max_drawdown: "0.1"', "account.max_drawdown", "reads as a fraction of equity, but max_drawdown"),
        ('max_drawdown: "10%"', "account.max_drawdown", "is a percentage"),
    ],
)
def test_check_names_the_limits_file_line_and_field(
    cli: Cli, tmp_path: Path, account: str, field: str, problem: str
) -> None:
    limits = write_limits(tmp_path, account=account)

    result = cli.run("check", MACHINE, "--limits", str(limits), expect=2)

    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {limits}: account (line 2): {field}: "), line
    assert problem in line


def test_check_refuses_a_machine_that_loosens_its_limits_at_its_own_line(cli: Cli, tmp_path: Path) -> None:
    limits = write_limits(tmp_path, account='max_order_notional: "1000"')
    loose = second_machine(tmp_path, "eth_loose", '  limits: {max_order_notional: "2000"}\n')

    result = cli.run("check", str(loose), "--limits", str(limits), expect=2)

    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {loose}: params (line 8): limits: max_order_notional 2000 is above"), line
    assert "may only tighten" in line


def test_check_judges_the_shipped_sizing_only_with_the_instrument(cli: Cli, tmp_path: Path) -> None:
    limits = write_limits(tmp_path, account='max_order_notional: "1000"')
    fat = second_machine(tmp_path, "eth_fat", '  notional_per_rung: "10000"\n')

    unjudged = cli.run("check", str(fat), "--limits", str(limits))
    refused = cli.run("check", str(fat), "--limits", str(limits), "--observe", expect=2)
    fits = cli.run("check", MACHINE, "--limits", str(limits), "--observe")

    assert "sizing not judged" in unjudged.stdout
    (line,) = refused.stderr.strip().splitlines()
    assert f"{fat}: params (line 8): notional_per_rung:" in line
    assert "sizing can never pass: max_order_notional 1000" in line and " x 0.1 x " in line
    assert "sizing passes" in fits.stdout
    assert cli.posts() == 0


@pytest.mark.e2e
def test_run_refuses_the_second_machine_of_one_round_by_what_the_first_just_sent(
    cli: Cli, tmp_path: Path
) -> None:
    # One round, one view: orders-pending was read before the first machine sent, so only its state
    # file tells the gate that its rungs now work on OKX.
    limits = write_limits(tmp_path, account='max_open_notional: "450"')
    other = second_machine(tmp_path, "eth_second")
    cli.signal()
    state_dir = str(cli.state_dir)

    cli.run(
        "run", MACHINE, str(other), "--submit", "--ticks", "1", "--interval", "0.01",
        "--state-dir", state_dir, "--limits", str(limits),
    )  # fmt: skip

    assert {o["clOrdId"][:4] for o in cli.sim_orders()} == {"ertw"}
    assert len(cli.sim_orders()) == 3
    assert cli.sim.stats()["requests"]["POST /api/v5/trade/batch-orders"] == 1
    (record,) = risk_records(cli.state_dir / "eth_second_live.jsonl")
    assert record["rule"] == f"max_open_notional ({SYMBOL})"
    second = cli.run("status", str(other), "--state-dir", state_dir).stdout
    assert "not sent: max_open_notional (ETH-USDT-SWAP) 450" in second


def test_an_unreadable_state_file_beside_leaves_the_exposure_unknown_and_nothing_sent(
    cli: Cli, tmp_path: Path
) -> None:
    limits = write_limits(tmp_path, account='max_open_notional: "5000"')
    cli.state_dir.mkdir(parents=True)
    broken = cli.state_dir / "other_live.json"
    broken.write_text("{")
    cli.signal()

    result = cli.machine("tick", "--submit", "--limits", str(limits), expect=3)

    (line,) = result.stderr.strip().splitlines()
    assert str(broken) in line and "Traceback" not in result.output
    assert cli.posts() == 0
    assert broken.read_text() == "{"  # nothing on disk overwritten


def test_limits_that_every_position_breaks_never_refuse_the_stop_nor_flatten(
    cli: Cli, tmp_path: Path
) -> None:
    # The entries went out before the limits were tightened; from the first fill on, every position
    # breaks them. The stop is placed, resized and cancelled, and flatten exits, all under those limits.
    limits = write_limits(
        tmp_path, account='max_order_notional: "1";max_open_notional: "1"', machine='max_cycle_notional: "1"'
    )
    strict = ("--limits", str(limits))
    px = open_entries(cli)

    fill_rung_fully(cli, px[0])
    keep_away(cli, px)
    doc = cli.json("tick", "--submit", *strict)
    assert doc["state"] == "partially_filled"
    (stop,) = algos(cli)
    assert stop["state"] == "live" and Decimal(stop["sz"]) == Decimal(doc["filled_sz"]) > 0

    fill_rung_fully(cli, px[1])
    keep_away(cli, px)
    doc = cli.json("tick", "--submit", *strict)
    (stop,) = algos(cli)  # the same stop, amended to the new own size
    assert stop["state"] == "live" and Decimal(stop["sz"]) == Decimal(doc["filled_sz"])
    assert post_count(cli, "amend-algos") == 1

    cli.json("flatten", "--submit", *strict)
    for _ in range(6):  # the cancels end, the reduce-only exit goes out and fills, the cycle ends
        cli.sim.advance(5)
        if cli.json("tick", "--submit", *strict)["state"] == "idle":
            break

    assert [a["state"] for a in algos(cli)] == ["canceled"]
    assert all(Decimal(p["pos"]) == 0 for p in cli.sim.state()["positions"])
    assert all(o["state"] in ("canceled", "filled") for o in cli.sim_orders())
    [exit_order] = [o for o in cli.sim_orders() if o["ordType"] == "market"]
    assert exit_order["state"] == "filled" and exit_order["reduceOnly"] == "true"
    assert risk_records(cli.journal_path) == []
