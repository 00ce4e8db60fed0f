"""The journal on both databases: exact, balanced, append-only, idempotent, verifiable."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError as SADatabaseError

from ledger.domain.entries import EntryDraft, Leg, check_balanced, reversal_draft
from ledger.domain.errors import (
    Conflict,
    IdempotencyConflict,
    LedgerTampered,
    PeriodClosed,
    UnbalancedEntry,
)
from ledger.domain.money import Money
from ledger.domain.periods import Period
from ledger.store import bulk, journal, periods
from ledger.store.db import Database
from ledger.store.models import Party
from ledger.store.verify import trial_balance, verify

OCT = Period(2026, 10)
NOV = Period(2026, 11)


def entry(key: str, amount: str, *, period: str = "2026-10", cur: str = "USD") -> EntryDraft:
    value = Money.of(amount, cur)
    return EntryDraft(
        key,
        Period.parse(period),
        "import",
        f"test {key}",
        (Leg.of("receivable:streamco", value), Leg.of("revenue:undistributed", -value)),
    )


def count(db: Database, table: str) -> int:
    with db.read() as s:
        return int(s.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


@pytest.mark.parametrize("amount", ["0.0000000001", "99999999999.9999999999", "-0.000003"])
def test_amounts_round_trip_exactly(database: Database, amount: str) -> None:
    with database.write() as s:
        posted = journal.post(s, entry("k", amount))
    with database.read() as s:
        _, _, legs = journal.entry_legs(s, posted.id)
    assert legs[0].money == Money.of(amount, "USD")
    assert legs[1].money == -Money.of(amount, "USD")
    assert str(legs[0].money.amount.normalize()) == str(Decimal(amount).normalize())


def test_unbalanced_entry_is_refused_and_leaves_no_rows(database: Database) -> None:
    bad = EntryDraft(
        "bad",
        OCT,
        "import",
        "bad",
        (
            Leg.of("receivable:streamco", Money(Decimal("10.00"), "USD")),
            Leg.of("revenue:undistributed", Money(Decimal("-9.99"), "USD")),
        ),
    )
    with pytest.raises(UnbalancedEntry, match=r"USD off by 0\.01"), database.write() as s:
        journal.post(s, bad)
    assert count(database, "journal_entry") == 0
    assert count(database, "posting") == 0


def test_balance_is_per_currency(database: Database) -> None:
    mixed = EntryDraft(
        "fx",
        OCT,
        "import",
        "mixed",
        (
            Leg.of("receivable:streamco", Money(Decimal("10"), "USD")),
            Leg.of("revenue:undistributed", Money(Decimal("-10"), "EUR")),
        ),
    )
    with (
        pytest.raises(UnbalancedEntry, match=r"EUR off by -10\.00, USD off by 10\.00"),
        database.write() as s,
    ):
        journal.post(s, mixed)


ADVANCE_HEAD = (
    "UPDATE ledger_head SET last_entry_id = last_entry_id + {e}, entry_count = entry_count + {e},"
    " posting_count = posting_count + {p}, last_hash = 'x' WHERE id = 1"
)


def raw_entry(
    entry_id: int, first_posting: int, period: str, amounts: tuple[int, int]
) -> list[str]:
    """SQL that writes an entry behind the ledger's back: its postings, then the entry."""
    return [
        "INSERT INTO posting (id, entry_id, account_id, currency, amount_whole, amount_frac) "
        f"VALUES ({first_posting}, {entry_id}, 1, 'USD', {amounts[0]}, 0), "
        f"({first_posting + 1}, {entry_id}, 2, 'USD', {amounts[1]}, 0)",
        "INSERT INTO journal_entry (id, idempotency_key, period, kind, description, posted_at, "
        f"content_hash, prev_hash, hash) VALUES ({entry_id}, 'raw', '{period}', 'manual', 'raw', "
        "'x', 'x', 'x', 'x')",
    ]


def test_database_refuses_unbalanced_rows_behind_the_code(database: Database) -> None:
    # PostgreSQL refuses the rows at once; SQLite checks a write as a whole when the
    # ledger head advances. Either way the transaction leaves nothing behind.
    with database.write() as s:
        journal.post(s, entry("ok", "5"))
    with pytest.raises(SADatabaseError, match="balance"), database.write() as s:
        for statement in raw_entry(2, 3, "2026-10", (5, -4)):
            s.execute(text(statement))
        s.execute(text(ADVANCE_HEAD.format(e=1, p=2)))
    assert count(database, "posting") == 2


def test_rows_added_without_advancing_the_head_fail_verify(database: Database) -> None:
    with database.write() as s:
        journal.post(s, entry("ok", "5"))
    with database.write() as s:
        for statement in raw_entry(2, 3, "2026-10", (5, -5)):
            s.execute(text(statement))
    with pytest.raises(LedgerTampered), database.read() as s:
        verify(s)


def test_head_cannot_absorb_rows_it_does_not_count(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL checks rows as they are inserted; only SQLite checks at the head")
    with database.write() as s:
        journal.post(s, entry("ok", "5"))
    with pytest.raises(SADatabaseError), database.write() as s:
        for statement in raw_entry(2, 3, "2026-10", (5, -5)):
            s.execute(text(statement))
        s.execute(text(ADVANCE_HEAD.format(e=1, p=1)))
    assert count(database, "posting") == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE posting SET amount_whole = amount_whole + 1",
        "DELETE FROM posting",
        "UPDATE journal_entry SET description = 'edited'",
        "DELETE FROM journal_entry",
    ],
)
def test_raw_update_and_delete_are_refused(database: Database, statement: str) -> None:
    with database.write() as s:
        journal.post(s, entry("k", "12.34"))
    with pytest.raises(SADatabaseError, match="append-only"), database.write() as s:
        s.execute(text(statement))
    with database.read() as s:
        assert verify(s).entries == 1


def test_no_leg_can_be_added_to_a_posted_entry(database: Database) -> None:
    with database.write() as s:
        posted = journal.post(s, entry("k", "1"))
    with pytest.raises(SADatabaseError, match="already posted"), database.write() as s:
        s.execute(
            text(
                "INSERT INTO posting (id, entry_id, account_id, currency, amount_whole, amount_frac) "
                f"VALUES (3, {posted.id}, 1, 'USD', 0, 0)"
            )
        )
        s.execute(text(ADVANCE_HEAD.format(e=0, p=1)))


def test_same_key_same_content_returns_the_original(database: Database) -> None:
    with database.write() as s:
        first = journal.post(s, entry("key-1", "10"))
    with database.write() as s:
        again = journal.post(s, entry("key-1", "10"))
    assert again.id == first.id
    assert not again.created
    assert count(database, "journal_entry") == 1


def test_same_key_other_content_is_a_conflict(database: Database) -> None:
    with database.write() as s:
        journal.post(s, entry("key-1", "10"))
    with pytest.raises(IdempotencyConflict, match="key-1"), database.write() as s:
        journal.post(s, entry("key-1", "11"))


def test_reversal_is_linked_and_cancels(database: Database) -> None:
    with database.write() as s:
        posted = journal.post(s, entry("k", "42.4242"))
        rev = journal.reverse(s, posted.id, period=OCT)
    with database.read() as s:
        _, reversed_entry, legs = journal.entry_legs(s, rev.id)
        assert reversed_entry.reverses_id == posted.id
        tb = trial_balance(s)
    assert legs[0].money == Money.of("-42.4242", "USD")
    assert all(not row.balance for row in tb.rows)
    with pytest.raises(Conflict, match="already reversed"), database.write() as s:
        journal.reverse(s, posted.id, period=OCT, key="second")


def test_closed_period_refuses_postings_in_code_and_in_the_database(database: Database) -> None:
    with database.write() as s:
        journal.post(s, entry("k", "1", period="2026-09"))
        periods.close(s, Period(2026, 9))
    with pytest.raises(PeriodClosed), database.write() as s:
        journal.post(s, entry("late", "1", period="2026-09"))
    with pytest.raises(SADatabaseError, match="closed"), database.write() as s:
        for statement in raw_entry(2, 3, "2026-09", (1, -1)):
            s.execute(text(statement))
        s.execute(text(ADVANCE_HEAD.format(e=1, p=2)))
    with pytest.raises(SADatabaseError, match="closed"), database.write() as s:
        s.execute(text("UPDATE period SET status = 'open' WHERE code = '2026-09'"))


def test_periods_close_in_order(database: Database) -> None:
    with database.write() as s:
        periods.ensure(s, Period(2026, 9))
        periods.ensure(s, Period(2026, 10))
    with pytest.raises(Conflict, match="2026-09 is still open"), database.write() as s:
        periods.close(s, Period(2026, 10))


def _tamper(db: Database, statements: list[str]) -> None:
    """Edit the database behind the ledger's back, triggers disabled, as an attacker would."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).all()
            for name, _ in triggers:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            for st_ in statements:
                conn.exec_driver_sql(st_)
            for _, sql in triggers:
                conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("SET session_replication_role = replica")
            for st_ in statements:
                conn.exec_driver_sql(st_)
            conn.exec_driver_sql("SET session_replication_role = DEFAULT")


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (["UPDATE posting SET amount_frac = amount_frac + 1 WHERE id = 3"], "altered"),
        (["UPDATE journal_entry SET description = 'x' WHERE id = 1"], "altered"),
        (
            ["DELETE FROM posting WHERE entry_id = 3", "DELETE FROM journal_entry WHERE id = 3"],
            "removed",
        ),
        (
            ["DELETE FROM posting WHERE entry_id = 2", "DELETE FROM journal_entry WHERE id = 2"],
            "missing",
        ),
        (
            ["UPDATE account_total SET amount_whole = amount_whole + 1 WHERE account_id = 1"],
            "account totals of receivable:streamco in 2026-10",
        ),
    ],
)
def test_verify_detects_tampering(database: Database, statements: list[str], message: str) -> None:
    with database.write() as s:
        for i in range(3):
            journal.post(s, entry(f"k{i}", f"{i + 1}.5"))
    with database.read() as s:
        assert verify(s).entries == 3
    _tamper(database, statements)
    with pytest.raises(LedgerTampered, match=message), database.read() as s:
        verify(s)


@pytest.mark.parametrize("chunk", [128, 600])  # 600 entries: 1,200 rows, 3 statements on SQLite
def test_bulk_posting_checks_the_same_rules(database: Database, chunk: int) -> None:
    drafts = [entry(f"b{i}", f"{i}.0000000001") for i in range(1, 501)]
    with database.write() as s:
        assert journal.post_many(s, drafts, chunk=chunk) == 500
    with database.read() as s:
        report = verify(s)
        tb = trial_balance(s)
    assert (report.entries, report.postings) == (500, 1000)
    assert tb.balanced
    debits = sum((Decimal(f"{i}.0000000001") for i in range(1, 501)), Decimal(0))
    assert {row.account: row.balance.amount for row in tb.rows} == {
        "receivable:streamco": debits,
        "revenue:undistributed": -debits,
    }
    bad = [
        entry("c1", "1"),
        EntryDraft(
            "c2",
            OCT,
            "import",
            "x",
            (Leg.of("bank", Money(Decimal(1), "USD")), Leg.of("bank", Money(Decimal(-2), "USD"))),
        ),
    ]
    with pytest.raises(UnbalancedEntry), database.write() as s:
        journal.post_many(s, bad)
    with pytest.raises(IdempotencyConflict), database.write() as s:
        journal.post_many(s, [entry("b1", "1.0000000001")])
    assert count(database, "journal_entry") == 500


def test_parties_hold_payable_accounts(database: Database) -> None:
    with database.write() as s:
        s.add(Party(id="rust", name="Rust"))
        s.flush()
        journal.post(
            s,
            EntryDraft(
                "p",
                OCT,
                "split",
                "split",
                (
                    Leg.of("revenue:undistributed", Money(Decimal(5), "USD")),
                    Leg.of("payable:rust", Money(Decimal(-5), "USD")),
                ),
            ),
        )
    with database.read() as s:
        balances = {r.account: r.balance.amount for r in trial_balance(s).rows}
    assert balances == {"payable:rust": Decimal(-5), "revenue:undistributed": Decimal(5)}


amounts = st.decimals(min_value=-(10**6), max_value=10**6, places=10, allow_nan=False)
ops: st.SearchStrategy[list[tuple[str, object, str, list[int]]]] = st.lists(
    st.one_of(
        st.tuples(
            st.just("post"),
            amounts,
            st.sampled_from(["USD", "EUR", "JPY"]),
            st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=4),
        ),
        st.tuples(
            st.just("reverse"), st.integers(min_value=1, max_value=15), st.just(""), st.just([])
        ),
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=ops)
def test_any_sequence_of_postings_and_reversals_keeps_the_trial_balance_at_zero(
    database: Database, ops: list[tuple[str, object, str, list[int]]]
) -> None:
    import uuid

    from ledger.domain.allocation import allocate
    from ledger.domain.errors import NotFound

    run = uuid.uuid4().hex[:8]
    for i, (op, value, cur, weights) in enumerate(ops):
        with database.write() as s:
            if op == "post":
                assert isinstance(value, Decimal)
                if sum(weights) == 0:
                    weights = [1]
                parts = allocate(
                    Money(-value, cur), {f"revenue:w{j}": w for j, w in enumerate(weights)}
                )
                legs = (
                    Leg.of("receivable:a", Money(value, cur)),
                    *(Leg.of(acc, amt) for acc, amt in parts.items()),
                )
                journal.post(s, EntryDraft(f"{run}-{i}", OCT, "manual", "prop", legs))
            else:
                assert isinstance(value, int)
                # an unknown or already reversed entry is refused, nothing posted
                with contextlib.suppress(Conflict, NotFound):
                    journal.reverse(s, value, period=OCT, key=f"{run}-r{i}")
        with database.read() as s:
            assert trial_balance(s).balanced
    with database.read() as s:
        verify(s)


def test_migration_0003_backfills_account_totals_from_postings(database: Database) -> None:
    from alembic import command
    from alembic.config import Config

    from ledger.store.db import migrations_dir, upgrade

    with database.write() as s:
        for i in range(3):
            journal.post(s, entry(f"k{i}", f"{i + 1}.0000000007", period=f"2026-0{i + 7}"))
    with database.read() as s:
        before = trial_balance(s)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    upgrade(database)
    with database.read() as s:
        assert verify(s).entries == 3
        assert trial_balance(s) == before
        assert trial_balance(s, up_to_period=Period(2026, 8)).rows[0].balance == Money.of(
            "3.0000000014", "USD"
        )
    with database.write() as s:
        journal.post(s, entry("after", "1"))
    with database.read() as s:
        assert verify(s).entries == 4


def test_an_entry_period_must_be_a_period_value() -> None:
    draft = entry("k", "1")
    text_period = EntryDraft("k", "2026-10", draft.kind, draft.description, draft.legs)  # type: ignore[arg-type]
    with pytest.raises(UnbalancedEntry, match="not a Period"):
        check_balanced(text_period)


def test_models_and_migrations_agree(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import ledger.store.models  # noqa: F401  (registers every table)

    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_head_refuses_a_write_whose_totals_miss_its_postings(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("only SQLite checks the totals when the head advances")
    with database.write() as s:
        journal.post(s, entry("ok", "5"))
    with pytest.raises(SADatabaseError, match="account totals"), database.write() as s:
        for statement in raw_entry(2, 3, "2026-10", (5, -5)):
            s.execute(text(statement))
        s.execute(text(ADVANCE_HEAD.format(e=1, p=2)))
    with pytest.raises(SADatabaseError, match="account totals"), database.write() as s:
        journal.post(s, entry("next", "1"))
        s.execute(
            text(
                "INSERT INTO account_total (through_entry_id, account_id, period, currency,"
                " memo, amount_whole, amount_frac, postings)"
                " VALUES (99, 1, '2026-10', 'USD', NULL, 7, 0, 1)"
            )
        )
        s.execute(text(ADVANCE_HEAD.format(e=0, p=0)))
    with database.read() as s:
        assert verify(s).entries == 1


def test_rows_below_id_one_are_refused_and_detected(database: Database) -> None:
    with database.write() as s:
        journal.post(s, entry("ok", "5", period="2026-09"))
        journal.post(s, entry("open", "1"))
        periods.close(s, Period(2026, 9))
    # An entry at id 0 in the closed period, with a head advance: refused.
    with pytest.raises(SADatabaseError), database.write() as s:
        for statement in raw_entry(0, -1, "2026-09", (100, -100)):
            s.execute(text(statement))
        s.execute(text(ADVANCE_HEAD.format(e=0, p=0)))
    # The same rows without touching the head: verify reports them.
    with database.write() as s:
        for statement in raw_entry(0, -1, "2026-10", (100, -100)):
            s.execute(text(statement))
    with pytest.raises(LedgerTampered, match="behind the ledger's back"), database.read() as s:
        verify(s)


def test_the_head_check_reads_only_the_new_rows(sqlite_database: Database) -> None:
    """The SQLite head trigger must read the write's id ranges, not every earlier
    posting: its cost for one entry stays flat as the ledger grows."""
    import sqlite3 as sqlite

    db = sqlite_database

    def steps_of_one_post(key: str) -> int:
        count = 0

        def tick() -> int:
            nonlocal count
            count += 1
            return 0

        with db.write() as s:
            raw: sqlite.Connection = s.connection().connection.dbapi_connection  # type: ignore[assignment]
            raw.set_progress_handler(tick, 100)
            try:
                journal.post(s, entry(key, "1"))
            finally:
                raw.set_progress_handler(None, 0)
        return count

    def grow(n: int, start: int) -> None:
        with db.write() as s:
            journal.post_many(s, (entry(f"g{start + i}", "1") for i in range(n)))

    grow(500, 0)
    small = steps_of_one_post("small")
    grow(20_000, 500)
    large = steps_of_one_post("large")
    assert large < small * 2, (small, large)


# ---------------------------------------------------------------------------
# Large writes: many rows to a statement (ledger.store.bulk)


def _mixed_drafts() -> list[EntryDraft]:
    """Entries over two periods, a new account half-way and a reversal: each makes the
    bulk writer wait for its worker before it asks the database."""
    drafts = [entry(f"m{i}", f"{i}.25") for i in range(1, 40)]
    drafts += [entry(f"n{i}", f"-{i}.5", period="2026-11") for i in range(1, 20)]
    drafts.append(
        EntryDraft(
            "fresh-account",
            NOV,
            "import",
            "a new account",
            (
                Leg.of("receivable:newdsp", Money(Decimal("3.3333333333"), "EUR")),
                Leg.of("revenue:undistributed", Money(Decimal("-3.3333333333"), "EUR")),
            ),
        )
    )
    drafts += [entry(f"o{i}", f"{i}.0000000001") for i in range(1, 30)]
    return drafts


def _postings(db: Database) -> list[tuple[object, ...]]:
    with db.read() as s:
        return [
            tuple(r)
            for r in s.execute(
                text(
                    "SELECT e.id, e.idempotency_key, e.period, a.code, p.id, p.currency, "
                    "p.amount_whole, p.amount_frac FROM posting p "
                    "JOIN journal_entry e ON e.id = p.entry_id JOIN account a ON a.id = p.account_id "
                    "ORDER BY p.id"
                )
            )
        ]


@pytest.mark.parametrize("part", [1, 7, 10**9], ids=["row-by-row", "statements-of-7", "one"])
def test_writes_in_statements_of_any_size_store_the_same_rows(
    database: Database, monkeypatch: pytest.MonkeyPatch, part: int
) -> None:
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", part)
    with database.write() as s:
        journal.post_many(s, iter(_mixed_drafts()), chunk=5)
        posted, row, legs = journal.entry_legs(s, 3)
        undo = reversal_draft(posted, legs, key="undo-3", period=NOV, source_ref=row.source_ref)
        journal.post_many(s, iter([entry("p1", "1"), undo, entry("p2", "2")]), chunk=1)
        big = EntryDraft(
            "big",
            NOV,
            "import",
            "one entry of many legs",
            (
                *(
                    Leg.of("revenue:undistributed", Money.of(f"-{i}.1", "USD"))
                    for i in range(1, 30)
                ),
                Leg.of("receivable:streamco", Money.of("437.9", "USD")),
            ),
        )
        journal.post(s, big)
    with database.read() as s:
        report = verify(s)
        assert trial_balance(s).balanced
    assert (report.entries, report.postings) == (88 + 3 + 1, 2 * 88 + 6 + 30)
    rows = _postings(database)
    assert [r[4] for r in rows] == list(range(1, len(rows) + 1))  # ids in order, no gap
    assert rows[-1][1] == "big"


def test_an_error_in_a_later_statement_keeps_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 3)
    with database.write() as s:
        journal.post_many(s, [entry("dup", "1")])
    before = _postings(database)
    drafts = [entry(f"q{i}", "1") for i in range(20)] + [entry("dup", "1")]
    with pytest.raises(IdempotencyConflict, match="refused by the database"), database.write() as s:
        journal.post_many(s, iter(drafts), chunk=4)
    assert _postings(database) == before
    with database.read() as s:
        verify(s)
