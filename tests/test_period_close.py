"""Closing a month: only once its revenue has been split, and then for good."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.domain.errors import Conflict
from ledger.domain.periods import Period
from ledger.services.periods import close_period
from ledger.store.db import Database
from tests.test_imports import usd
from tests.test_splits import OCTOBER, import_rows, setup_ledger, split

OCT = Period(2026, 10)


def test_a_month_with_unsplit_revenue_cannot_be_closed(database: Database, tmp_path: Path) -> None:
    setup_ledger(database)
    import_rows(database, tmp_path / "october.tsv", OCTOBER)
    unsplit = r"2026-10 still has 1100\.07 USD of revenue that was not split"
    with pytest.raises(Conflict, match=unsplit), database.write() as s:
        close_period(s, OCT)
    split(database)
    with database.write() as s:
        closed = close_period(s, OCT)
    assert closed.status == "closed"


def test_a_late_file_after_the_split_blocks_the_close_until_split_again(
    database: Database, tmp_path: Path
) -> None:
    setup_ledger(database)
    import_rows(database, tmp_path / "october.tsv", OCTOBER)
    split(database)
    import_rows(database, tmp_path / "late.tsv", OCTOBER[:1])
    with pytest.raises(Conflict, match="not split"), database.write() as s:
        close_period(s, OCT)
    result = split(database)
    assert result.revenue > usd("1100.07")
    with database.write() as s:
        close_period(s, OCT)
