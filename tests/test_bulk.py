"""Bulk insert (ledger.store.bulk): the same rows whatever the statement size, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.store import bulk
from ledger.store.db import Database


def _accounts(db: Database) -> list[tuple[object, ...]]:
    with db.read() as s:
        return [
            tuple(r)
            for r in s.execute(text("SELECT code, name, type, party_id FROM account ORDER BY code"))
        ]


@pytest.mark.parametrize("per_statement", [1, 3, 2000])
def test_rows_and_constants_are_stored_exactly(
    database: Database, monkeypatch: pytest.MonkeyPatch, per_statement: int
) -> None:
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", per_statement)
    rows = [(f"bank:{i}", f"Bank 'no. {i}'", None) for i in range(10)]
    with database.write() as s:
        n = bulk.insert_rows(
            s, "account", ("code", "name", "party_id"), iter(rows), constants={"type": "asset"}
        )
    assert n == 10
    assert _accounts(database) == sorted((c, name, "asset", None) for c, name, _ in rows)


def test_a_refused_row_keeps_the_whole_write_out(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 2)
    rows = [(f"bank:{i}", "x", "asset") for i in range(5)] + [("bank:0", "again", "asset")]
    with pytest.raises(Exception, match=r"(?i)unique"), database.write() as s:
        bulk.insert_rows(s, "account", ("code", "name", "type"), rows)
    assert _accounts(database) == []


@pytest.mark.parametrize("value", ["asset'; DROP TABLE account; --", 1.5, ""])
def test_constants_are_plain_codes_or_integers(database: Database, value: object) -> None:
    with pytest.raises(ValueError, match="constant"), database.write() as s:
        bulk.insert_rows(s, "account", ("code", "name"), [("bank", "x")], constants={"type": value})  # type: ignore[dict-item]
