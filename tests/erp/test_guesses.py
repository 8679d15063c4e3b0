"""What the BFF learns of a guessed shape, and when it proves it again (bff/erp/guesses.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bff.core.config import Settings
from bff.erp import ErpCall
from bff.erp.guesses import RECHECK_AFTER_S, Guesses, GuessState
from bff.services import Services


def learnt() -> Guesses:
    guesses = Guesses()
    guesses.line_order_filter.observed(GuessState.IGNORED)
    guesses.code_filter.observed(GuessState.HOLDS)
    return guesses


def test_an_ignored_guess_is_not_tried_and_a_holding_one_is() -> None:
    guesses = learnt()
    assert not guesses.line_order_filter.worth_trying
    assert guesses.code_filter.worth_trying and guesses.product_ids.worth_trying  # unknown: worth a try


def test_an_erp_error_makes_every_guess_be_proven_again_at_most_once_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("bff.erp.guesses.time.monotonic", lambda: clock[0])
    guesses = learnt()
    guesses.after_erp_error()
    assert {g.state for g in guesses.all()} == {GuessState.UNKNOWN}
    guesses.line_order_filter.observed(GuessState.IGNORED)  # proven again: still ignored
    clock[0] += RECHECK_AFTER_S / 2
    guesses.after_erp_error()  # the ERP still in trouble: not asked to prove it again yet
    assert guesses.line_order_filter.state is GuessState.IGNORED
    clock[0] += RECHECK_AFTER_S
    guesses.after_erp_error()
    assert guesses.line_order_filter.state is GuessState.UNKNOWN


@pytest.mark.parametrize(("outcome", "forgotten"), [("transient", True), ("timeout", False), ("ok", False), ("refused", False)])
async def test_only_a_failed_erp_call_makes_the_services_forget(outcome: str, forgotten: bool, tmp_path: object) -> None:
    services = Services.create(Settings(env="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/g.sqlite3"))
    try:
        services.guesses.line_order_filter.observed(GuessState.IGNORED)
        services.record_erp_call(ErpCall("getBusinessPageList", 100185, datetime.now(UTC), 5.0, outcome, 1))  # type: ignore[arg-type]
        assert (services.guesses.line_order_filter.state is GuessState.UNKNOWN) is forgotten
    finally:
        await services.aclose()
