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


def _cache_kib(s: object) -> int:
    raw = s.connection().connection.dbapi_connection  # type: ignore[attr-defined]
    size = int(raw.execute("PRAGMA cache_size").fetchone()[0])
    return -size  # negative sizes are KiB


def test_bulk_jobs_hold_the_sqlite_page_cache_small_and_give_it_back(
    sqlite_database: Database,
) -> None:
    with sqlite_database.write() as s:
        before = _cache_kib(s)
        assert before > bulk.SMALL_CACHE_KIB
        with bulk.small_page_cache(s):
            assert _cache_kib(s) == bulk.SMALL_CACHE_KIB
            with bulk.small_page_cache(s):  # nested: stays small, gives back nothing early
                assert _cache_kib(s) == bulk.SMALL_CACHE_KIB
            assert _cache_kib(s) == bulk.SMALL_CACHE_KIB
        assert _cache_kib(s) == before
        with pytest.raises(RuntimeError), bulk.small_page_cache(s):
            raise RuntimeError("a failed bulk job")
        assert _cache_kib(s) == before


def test_empty_text_stands_for_null_where_the_caller_says_so(database: Database) -> None:
    rows = [("bank:a", "A", ""), ("bank:b", "B", "")]
    with database.write() as s:
        s.execute(
            text(
                "INSERT INTO party (id, name, kind, payout_currency, payout_threshold, is_operator) VALUES ('p', 'P', 'person', 'USD', '0.00', false)"
            )
        )
        bulk.insert_rows(
            s,
            "account",
            ("code", "name", "party_id"),
            rows,
            constants={"type": "asset"},
            empty_is_null=("party_id",),
        )
        bulk.insert_rows(
            s,
            "account",
            ("code", "name", "party_id"),
            [("payable:p", "P", "p")],
            constants={"type": "liability"},
            empty_is_null=("party_id",),
        )
    assert _accounts(database) == [
        ("bank:a", "A", "asset", None),
        ("bank:b", "B", "asset", None),
        ("payable:p", "P", "liability", "p"),
    ]
    with pytest.raises(ValueError, match="empty_is_null"), database.write() as s:
        bulk.insert_rows(s, "account", ("code", "name"), [("x", "y")], empty_is_null=("memo",))
