"""The limits file and a ladder's own `limits` param: read, checked, and only ever tightening."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from fsm.engine.machine import REPO_MACHINES, load_machine
from fsm.spec.limits import Cooldown, Limits, load_limits
from fsm.spec.model import SpecError

LADDER = REPO_MACHINES / "eth_robust_twap_15m.yaml"


def limits_file(folder: Path, text: str) -> Path:
    path = folder / "limits.yaml"
    path.write_text(text)
    return path


def family(folder: Path, parent_limits: str, child_limits: str = "") -> Path:
    """A parent ladder (the ETH one with `parent_limits`) and a child extending it (with its own)."""
    parent = folder / "parent.yaml"
    text = LADDER.read_text().replace("machine: eth_robust_twap_15m", "machine: parent")
    parent.write_text(text.replace("params:\n", f"params:\n{parent_limits}", 1))
    shutil.copy(REPO_MACHINES / "okx_order.yaml", folder / "okx_order.yaml")
    child = folder / "child.yaml"
    child.write_text(
        'machine: child\nextends: parent.yaml\ndescription: "a child"\nparams:\n  strategy_id: child\n'
        f"  client_order_id_prefix: chld\n  state_file: child_live.json\n{child_limits}"
    )
    return child


def test_a_limits_file_is_read_with_both_sections() -> None:
    path = Path(__file__).parent / "fixtures" / "limits.yaml"
    loaded = load_limits(path)
    assert loaded.limits == Limits(
        max_order_notional=Decimal("1000"),
        max_open_notional=Decimal("5000"),
        max_leverage=Decimal(5),
        max_cycle_notional=Decimal("400"),
    )
    assert loaded.lines["max_cycle_notional"] == 6


def test_a_child_inherits_its_parents_limits_and_the_file_caps_both(tmp_path: Path) -> None:
    child = family(tmp_path, '  limits: {max_order_notional: "500"}\n')
    account = load_limits(
        limits_file(tmp_path, 'account:\n  max_order_notional: "1000"\n  max_leverage: 3\n')
    )

    loaded = load_machine(str(child), state_dir=tmp_path, limits=account)

    assert loaded.limits == Limits(max_order_notional=Decimal("500"), max_leverage=Decimal(3))


def test_a_child_may_tighten_but_never_loosen(tmp_path: Path) -> None:
    account = load_limits(limits_file(tmp_path, 'machine:\n  max_cycle_notional: "400"\n'))
    tight = family(tmp_path, "", '  limits: {max_cycle_notional: "300"}\n')
    assert load_machine(str(tight), state_dir=tmp_path, limits=account).limits == Limits(
        max_cycle_notional=Decimal("300")
    )

    loose = family(tmp_path, "", '  limits: {max_cycle_notional: "401"}\n')
    with pytest.raises(SpecError) as caught:
        load_machine(str(loose), state_dir=tmp_path, limits=account)
    assert (caught.value.path, caught.value.line, caught.value.field) == (loose, 8, "limits")
    assert "max_cycle_notional 401 is above the limits file's 400" in str(caught.value)


def test_without_a_file_the_machines_own_limits_still_hold(tmp_path: Path) -> None:
    child = family(tmp_path, "", '  limits: {max_open_notional: "250"}\n')
    assert load_machine(str(child), state_dir=tmp_path).limits == Limits(max_open_notional=Decimal("250"))
    assert load_machine(str(LADDER), state_dir=tmp_path).limits is None


def test_a_limit_that_is_not_a_positive_decimal_is_named_at_its_line(tmp_path: Path) -> None:
    path = limits_file(tmp_path, 'account:\n  max_order_notional: "1000"\n  max_open_notional: "-5"\n')
    with pytest.raises(SpecError) as caught:
        load_limits(path)
    assert (caught.value.path, caught.value.line, caught.value.field) == (
        path,
        3,
        "account.max_open_notional",
    )


def test_the_order_budget_and_the_cooldown_are_read(tmp_path: Path) -> None:
    path = limits_file(
        tmp_path,
        "account:\n  max_orders_per_minute: 30\nmachine:\n  cooldown_after_losses: {count: 3, bars: 8}\n",
    )
    loaded = load_limits(path)
    assert loaded.orders_per_minute == 30 and loaded.lines["max_orders_per_minute"] == 2
    assert loaded.limits == Limits(cooldown_after_losses=Cooldown(3, 8))


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("account:\n  max_orders_per_minute: 0\n", 2, "account.max_orders_per_minute"),
        ('account:\n  max_orders_per_minute: "5"\n', 2, "account.max_orders_per_minute"),
        ("machine:\n  cooldown_after_losses: {count: 3}\n", 2, "bars"),
        (
            "machine:\n  cooldown_after_losses:\n    count: 0\n    bars: 8\n",
            3,
            "machine.cooldown_after_losses.count",
        ),
        ('account:\n  max_daily_loss: "-100"\n', 2, "account.max_daily_loss"),
        ('account:\n  max_daily_loss: "1"\n  max_drawdown: "0.1"\n', 3, "account.max_drawdown"),
        ('account:\n  max_drawdown: "10%"\n', 2, "account.max_drawdown"),
        ('account:\n  max_drawdown: "0.999"\n', 2, "account.max_drawdown"),
        ("machine:\n  max_orders_per_minute: 5\n", 2, "machine.max_orders_per_minute"),  # the account's
    ],
)
def test_a_bad_budget_or_cooldown_is_named_at_its_line(
    tmp_path: Path, text: str, line: int, field: str
) -> None:
    path = limits_file(tmp_path, text)
    with pytest.raises(SpecError) as caught:
        load_limits(path)
    assert (caught.value.path, caught.value.line, caught.value.field) == (path, line, field)


def test_a_machines_cooldown_may_only_tighten_the_files(tmp_path: Path) -> None:
    account = load_limits(limits_file(tmp_path, "machine:\n  cooldown_after_losses: {count: 3, bars: 8}\n"))
    tight = family(tmp_path, "", "  limits: {cooldown_after_losses: {count: 2, bars: 10}}\n")
    assert load_machine(str(tight), state_dir=tmp_path, limits=account).limits == Limits(
        cooldown_after_losses=Cooldown(2, 10)
    )
    for loose in ("{count: 4, bars: 8}", "{count: 3, bars: 7}"):
        child = family(tmp_path, "", f"  limits: {{cooldown_after_losses: {loose}}}\n")
        with pytest.raises(SpecError) as caught:
            load_machine(str(child), state_dir=tmp_path, limits=account)
        assert (caught.value.path, caught.value.field) == (child, "limits")
    budget = family(tmp_path, "", "  limits: {max_orders_per_minute: 5}\n")  # the account's alone
    with pytest.raises(SpecError):
        load_machine(str(budget), state_dir=tmp_path)


@pytest.mark.parametrize("amount", ["1", "500", "12.5"])
def test_max_drawdown_is_an_amount_of_quote_currency(tmp_path: Path, amount: str) -> None:
    loaded = load_limits(limits_file(tmp_path, f'account:\n  max_drawdown: "{amount}"\n'))
    assert loaded.limits == Limits(max_drawdown=Decimal(amount))
