"""batch checks on SQLite; account totals per period

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Three changes, for the speed of bulk posting and of balances:

* On SQLite the journal was checked by row triggers on every entry and posting
  insert (balance, open period, no late leg), about 15 us an entry. The same
  checks now run once per write, set-based, when the ledger head advances: the
  head's update trigger aborts the write (``Database.write`` then rolls the
  transaction back) if any new entry does not
  balance per currency, has no postings, lies in a closed or unknown period, or
  if a new posting joins an entry posted before, or if the write's account
  totals (below) do not count its postings. (Comparing their amounts too would
  cost a second pass over the write, about 1 us a posting; ``verify`` does it.)
  Rows inserted behind the
  ledger's back without advancing the head are not refused by SQLite, but
  ``royalty ledger verify`` reports them (the head and the chain no longer
  match). PostgreSQL keeps its statement triggers, which already work per batch.
* ``account_total`` keeps, per write, the sum of the postings of each account,
  period, currency and (for party accounts) movement kind. Rows are append-only
  like the journal; balances and the trial balance read them instead of every
  posting, and ``royalty ledger verify`` recomputes them from the postings.
* The index on ``journal_entry.kind`` goes: nothing looks entries up by kind.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FRAC = 10_000_000_000

SQLITE_OLD_TRIGGERS = {
    "journal_entry_balanced": f"""CREATE TRIGGER journal_entry_balanced BEFORE INSERT ON journal_entry
    WHEN NOT EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id)
      OR EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id GROUP BY currency
                 HAVING SUM(amount_frac) % {FRAC} != 0
                     OR SUM(amount_whole) + SUM(amount_frac) / {FRAC} != 0)
    BEGIN SELECT RAISE(ABORT, 'journal entry does not balance per currency'); END""",
    "journal_entry_open_period": """CREATE TRIGGER journal_entry_open_period BEFORE INSERT ON journal_entry
    WHEN (SELECT status FROM period WHERE code = NEW.period) IS NOT 'open'
    BEGIN SELECT RAISE(ABORT, 'period is closed or unknown'); END""",
    "posting_no_late_leg": """CREATE TRIGGER posting_no_late_leg BEFORE INSERT ON posting
    WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'posting added to an entry already posted'); END""",
}

# Entry and posting ids are assigned consecutively from 1 under the writer lock, so the
# rows of one write are the id ranges (OLD.last_entry_id, NEW.last_entry_id] and
# (OLD.posting_count, NEW.posting_count]; no id is below 1. Each check reads those
# rowid ranges once: the unary + keeps SQLite from reading them through
# ix_posting_entry, which would scan every earlier posting on every write.
SQLITE_HEAD_TRIGGER = f"""CREATE TRIGGER ledger_head_advance BEFORE UPDATE ON ledger_head
BEGIN
  SELECT RAISE(ABORT, 'the ledger head cannot move backwards')
   WHERE NEW.last_entry_id < OLD.last_entry_id OR NEW.posting_count < OLD.posting_count
      OR NEW.entry_count - OLD.entry_count != NEW.last_entry_id - OLD.last_entry_id;
  SELECT RAISE(ABORT, 'journal entries were added without advancing the ledger head')
   WHERE (SELECT count(*) FROM journal_entry WHERE id > OLD.last_entry_id)
         != NEW.last_entry_id - OLD.last_entry_id
      OR (SELECT count(*) FROM posting WHERE id > OLD.posting_count)
         != NEW.posting_count - OLD.posting_count
      OR EXISTS (SELECT 1 FROM journal_entry WHERE id > NEW.last_entry_id)
      OR EXISTS (SELECT 1 FROM posting WHERE id > NEW.posting_count)
      OR EXISTS (SELECT 1 FROM journal_entry WHERE id < 1)
      OR EXISTS (SELECT 1 FROM posting WHERE id < 1);
  SELECT RAISE(ABORT, 'posting added to an entry already posted')
   WHERE EXISTS (SELECT 1 FROM posting WHERE id > OLD.posting_count
                 AND +entry_id <= OLD.last_entry_id);
  SELECT RAISE(ABORT, 'journal entry has no postings')
   WHERE (SELECT count(DISTINCT +entry_id) FROM posting WHERE id > OLD.posting_count)
         != NEW.last_entry_id - OLD.last_entry_id;
  SELECT RAISE(ABORT, 'journal entry does not balance per currency')
   WHERE EXISTS (SELECT 1 FROM posting WHERE id > OLD.posting_count
                 GROUP BY +entry_id, +currency
                 HAVING SUM(amount_frac) % {FRAC} != 0
                     OR SUM(amount_whole) + SUM(amount_frac) / {FRAC} != 0);
  SELECT RAISE(ABORT, 'period is closed or unknown')
   WHERE EXISTS (SELECT 1 FROM journal_entry e LEFT JOIN period p ON p.code = e.period
                 WHERE e.id > OLD.last_entry_id AND p.status IS NOT 'open');
  SELECT RAISE(ABORT, 'account totals do not match the postings of the write')
   WHERE EXISTS (SELECT 1 FROM account_total WHERE through_entry_id > NEW.last_entry_id)
      OR (NEW.last_entry_id > OLD.last_entry_id
          AND (SELECT coalesce(sum(postings), 0) FROM account_total
               WHERE through_entry_id = NEW.last_entry_id)
              != NEW.posting_count - OLD.posting_count);
END"""

SQLITE_TOTAL_TRIGGERS = [
    """CREATE TRIGGER account_total_no_update BEFORE UPDATE ON account_total
    BEGIN SELECT RAISE(ABORT, 'account totals are append-only'); END""",
    """CREATE TRIGGER account_total_no_delete BEFORE DELETE ON account_total
    BEGIN SELECT RAISE(ABORT, 'account totals are append-only'); END""",
]
POSTGRES_TOTAL_TRIGGERS = [
    """CREATE TRIGGER account_total_append_only BEFORE UPDATE OR DELETE ON account_total
       FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
    """CREATE TRIGGER account_total_no_truncate BEFORE TRUNCATE ON account_total
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()""",
]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.create_table(
        "account_total",
        sa.Column("id", ID_TYPE, nullable=False),
        sa.Column("through_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("amount_whole", sa.BigInteger(), nullable=False),
        sa.Column("amount_frac", sa.BigInteger(), nullable=False),
        sa.Column("postings", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "amount_frac > -10000000000 AND amount_frac < 10000000000 AND (amount_whole = 0 OR amount_frac = 0 OR (amount_whole > 0 AND amount_frac > 0) OR (amount_whole < 0 AND amount_frac < 0))",
            name="amount_canonical",
        ),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["period"], ["period.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_total_account", "account_total", ["account_id", "period"])
    op.create_index("ix_account_total_through", "account_total", ["through_entry_id"])
    # Nothing looks entries up by kind; the index only slowed every entry insert.
    op.drop_index("ix_journal_entry_kind", table_name="journal_entry")
    _backfill(bind)
    if sqlite:
        for name in SQLITE_OLD_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(SQLITE_HEAD_TRIGGER)
        for statement in SQLITE_TOTAL_TRIGGERS:
            op.execute(statement)
    else:
        for statement in POSTGRES_TOTAL_TRIGGERS:
            op.execute(statement)


def _backfill(bind: sa.Connection) -> None:
    """Totals of a ledger posted before this revision: one row per account, period,
    currency and (party accounts) memo; whole and frac are normalised in Python."""
    rows = bind.execute(
        sa.text(
            "SELECT p.account_id, e.period, p.currency,"
            " CASE WHEN a.party_id IS NULL THEN NULL ELSE p.memo END,"
            " SUM(p.amount_whole), SUM(p.amount_frac), COUNT(*)"
            " FROM posting p JOIN journal_entry e ON e.id = p.entry_id"
            " JOIN account a ON a.id = p.account_id"
            " GROUP BY p.account_id, e.period, p.currency,"
            " CASE WHEN a.party_id IS NULL THEN NULL ELSE p.memo END"
        )
    ).all()
    if not rows:
        return
    head = bind.execute(sa.text("SELECT last_entry_id FROM ledger_head WHERE id = 1")).scalar_one()
    totals: dict[tuple[object, ...], list[int]] = defaultdict(lambda: [0, 0])
    for account_id, period, currency, memo, whole, frac, n in rows:
        slot = totals[(account_id, period, currency, memo)]
        slot[0] += int(whole) * FRAC + int(frac)
        slot[1] += int(n)
    values = []
    for (account_id, period, currency, memo), (units, n) in sorted(totals.items(), key=str):
        sign = -1 if units < 0 else 1
        whole, frac = divmod(abs(units), FRAC)
        values.append(
            {
                "t": head,
                "a": account_id,
                "p": period,
                "c": currency,
                "m": memo,
                "w": sign * whole,
                "f": sign * frac,
                "n": n,
            }
        )
    bind.execute(
        sa.text(
            "INSERT INTO account_total (through_entry_id, account_id, period, currency, memo,"
            " amount_whole, amount_frac, postings) VALUES (:t, :a, :p, :c, :m, :w, :f, :n)"
        ),
        values,
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ledger_head_advance")
        for statement in SQLITE_TOTAL_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]}")
        for statement in SQLITE_OLD_TRIGGERS.values():
            op.execute(statement)
    else:
        op.execute("DROP TRIGGER IF EXISTS account_total_no_truncate ON account_total")
        op.execute("DROP TRIGGER IF EXISTS account_total_append_only ON account_total")
    op.create_index("ix_journal_entry_kind", "journal_entry", ["kind"])
    op.drop_index("ix_account_total_through", table_name="account_total")
    op.drop_index("ix_account_total_account", table_name="account_total")
    op.drop_table("account_total")
