"""An auditor traces any posting back to the revenue file lines and the rule behind it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.domain.errors import NotFound
from ledger.services import trace
from ledger.store.db import Database
from tests.test_imports import usd
from tests.test_splits import run_worked_example


def _posting(db: Database, where: str) -> int:
    with db.read() as s:
        return int(
            s.execute(
                text(
                    "SELECT p.id FROM posting p JOIN account a ON a.id = p.account_id "
                    f"JOIN journal_entry e ON e.id = p.entry_id WHERE {where} ORDER BY p.id LIMIT 1"
                )
            ).scalar_one()
        )


def test_a_holders_share_traces_to_the_line_it_was_split_from(
    database: Database, tmp_path: Path
) -> None:
    run_worked_example(database, tmp_path)
    pid = _posting(
        database, "a.code = 'payable:prod' AND p.memo = 'earned' AND p.source = 'Spotify'"
    )
    with database.read() as s:
        result = trace.trace_posting(s, pid)
    assert result.entry_kind == "split"
    assert result.rule_ref and "@v1#" in result.rule_ref
    assert [(line.filename, line.line_no) for line in result.lines] == [("october.tsv", 2)]
    assert result.lines_total == usd("1000.00")


def test_a_holders_part_of_the_fees_traces_to_every_line_of_the_track(
    database: Database, tmp_path: Path
) -> None:
    run_worked_example(database, tmp_path)
    pid = _posting(database, "a.code = 'payable:prod' AND p.memo = 'fees'")
    with database.read() as s:
        result = trace.trace_posting(s, pid)
    assert result.source is None
    assert sorted(line.line_no for line in result.lines) == [2, 3, 4]
    assert result.lines_total == usd("1100.07")


def test_an_import_posting_traces_to_its_own_file_lines(database: Database, tmp_path: Path) -> None:
    run_worked_example(database, tmp_path)
    pid = _posting(
        database, "a.code = 'revenue:undistributed' AND e.kind = 'import' AND p.source = 'Deezer'"
    )
    with database.read() as s:
        result = trace.trace_posting(s, pid)
    assert [line.line_no for line in result.lines] == [4]
    assert result.amount == -result.lines_total


def test_an_unknown_posting_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound), database.read() as s:
        trace.trace_posting(s, 999_999)
