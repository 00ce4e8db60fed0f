"""foundation: parties, accounts, periods, journal

Revision ID: 0001
Revises:
Create Date: 2026-11-24

The journal is enforced by the database as well as by code: triggers refuse
updates and deletes of entries and postings, entries that do not balance per
currency, legs added to an entry already posted, and entries in a closed
period. SQLite gets row triggers; PostgreSQL gets statement triggers over
transition tables so that bulk COPY stays fast.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# BIGINT ids, but INTEGER on SQLite so the id is the rowid (no second index: inserts twice as fast)
ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

GENESIS = "0" * 64
FRAC = 10_000_000_000

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER journal_entry_balanced BEFORE INSERT ON journal_entry
    WHEN NOT EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id)
      OR EXISTS (SELECT 1 FROM posting WHERE entry_id = NEW.id GROUP BY currency
                 HAVING SUM(amount_frac) % {FRAC} != 0
                     OR SUM(amount_whole) + SUM(amount_frac) / {FRAC} != 0)
    BEGIN SELECT RAISE(ABORT, 'journal entry does not balance per currency'); END""",
    """CREATE TRIGGER journal_entry_open_period BEFORE INSERT ON journal_entry
    WHEN (SELECT status FROM period WHERE code = NEW.period) IS NOT 'open'
    BEGIN SELECT RAISE(ABORT, 'period is closed or unknown'); END""",
    """CREATE TRIGGER journal_entry_no_update BEFORE UPDATE ON journal_entry
    BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END""",
    """CREATE TRIGGER journal_entry_no_delete BEFORE DELETE ON journal_entry
    BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END""",
    """CREATE TRIGGER posting_no_late_leg BEFORE INSERT ON posting
    WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'posting added to an entry already posted'); END""",
    """CREATE TRIGGER posting_no_update BEFORE UPDATE ON posting
    BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END""",
    """CREATE TRIGGER posting_no_delete BEFORE DELETE ON posting
    BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END""",
    """CREATE TRIGGER period_no_reopen BEFORE UPDATE ON period
    WHEN OLD.status = 'closed'
    BEGIN SELECT RAISE(ABORT, 'a closed period stays closed'); END""",
    """CREATE TRIGGER period_no_delete BEFORE DELETE ON period
    BEGIN SELECT RAISE(ABORT, 'periods are never deleted'); END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "journal_entry_balanced",
        "journal_entry_open_period",
        "journal_entry_no_update",
        "journal_entry_no_delete",
        "posting_no_late_leg",
        "posting_no_update",
        "posting_no_delete",
        "period_no_reopen",
        "period_no_delete",
    )
]

POSTGRES_TRIGGERS = [
    """CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    # Statement triggers see a whole bulk insert at once. Entry ids of one statement
    # are consecutive, so each check reads one index range of posting; seq scans are
    # off inside the functions because the planner's statistics are stale mid-import.
    f"""CREATE FUNCTION journal_entry_check() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
    DECLARE lo bigint; hi bigint; n bigint; with_legs bigint;
    BEGIN
      SELECT min(id), max(id), count(*) INTO lo, hi, n FROM new_entries;
      IF n = 0 THEN RETURN NULL; END IF;
      IF EXISTS (SELECT 1 FROM posting WHERE entry_id BETWEEN lo AND hi
                 GROUP BY entry_id, currency
                 HAVING SUM(amount_whole::numeric * {FRAC} + amount_frac) <> 0) THEN
        RAISE EXCEPTION 'journal entry does not balance per currency'
          USING ERRCODE = 'check_violation';
      END IF;
      IF hi - lo + 1 = n THEN
        SELECT count(DISTINCT entry_id) INTO with_legs FROM posting
         WHERE entry_id BETWEEN lo AND hi;
      ELSE
        SELECT count(*) INTO with_legs FROM new_entries e
         WHERE EXISTS (SELECT 1 FROM posting p WHERE p.entry_id = e.id);
      END IF;
      IF with_legs <> n THEN
        RAISE EXCEPTION 'journal entry has no postings' USING ERRCODE = 'check_violation';
      END IF;
      IF EXISTS (SELECT 1 FROM (SELECT DISTINCT period FROM new_entries) e
                 LEFT JOIN period pe ON pe.code = e.period
                 WHERE pe.status IS DISTINCT FROM 'open') THEN
        RAISE EXCEPTION 'period is closed or unknown' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION posting_check() RETURNS trigger LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
    DECLARE lo bigint; hi bigint;
    BEGIN
      SELECT min(entry_id), max(entry_id) INTO lo, hi FROM new_postings;
      IF lo IS NULL THEN RETURN NULL; END IF;
      IF EXISTS (SELECT 1 FROM journal_entry e WHERE e.id BETWEEN lo AND hi
                 AND e.id IN (SELECT entry_id FROM new_postings)) THEN
        RAISE EXCEPTION 'posting added to an entry already posted'
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION period_check() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' OR OLD.status = 'closed' THEN
        RAISE EXCEPTION 'a closed period stays closed' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER journal_entry_check AFTER INSERT ON journal_entry
       REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION journal_entry_check()""",
    """CREATE TRIGGER posting_check AFTER INSERT ON posting
       REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION posting_check()""",
    """CREATE TRIGGER journal_entry_append_only BEFORE UPDATE OR DELETE ON journal_entry
       FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
    """CREATE TRIGGER journal_entry_no_truncate BEFORE TRUNCATE ON journal_entry
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()""",
    """CREATE TRIGGER posting_append_only BEFORE UPDATE OR DELETE ON posting
       FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
    """CREATE TRIGGER posting_no_truncate BEFORE TRUNCATE ON posting
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()""",
    """CREATE TRIGGER period_check BEFORE UPDATE OR DELETE ON period
       FOR EACH ROW EXECUTE FUNCTION period_check()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS period_check ON period",
    "DROP TRIGGER IF EXISTS posting_no_truncate ON posting",
    "DROP TRIGGER IF EXISTS posting_append_only ON posting",
    "DROP TRIGGER IF EXISTS journal_entry_no_truncate ON journal_entry",
    "DROP TRIGGER IF EXISTS journal_entry_append_only ON journal_entry",
    "DROP TRIGGER IF EXISTS posting_check ON posting",
    "DROP TRIGGER IF EXISTS journal_entry_check ON journal_entry",
    "DROP FUNCTION IF EXISTS period_check()",
    "DROP FUNCTION IF EXISTS posting_check()",
    "DROP FUNCTION IF EXISTS journal_entry_check()",
    "DROP FUNCTION IF EXISTS ledger_append_only()",
]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entry_count", sa.BigInteger(), nullable=False),
        sa.Column("posting_count", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ledger_head_single_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "party",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("payout_currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("payout_threshold", sa.String(length=64), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("ipi", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("isni", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("is_operator", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "period",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name="period_status"),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("party_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.CheckConstraint(
            "type IN ('asset', 'liability', 'income', 'expense', 'equity')", name="account_type"
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["party.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_party_id"), ["party_id"], unique=False)

    op.create_table(
        "journal_entry",
        sa.Column("id", ID_TYPE, autoincrement=False, nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("reverses_id", sa.BigInteger(), nullable=True),
        sa.Column("posted_at", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["period"],
            ["period.code"],
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("reverses_id"),
    )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_entry_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_journal_entry_period"), ["period"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_journal_entry_source_ref"), ["source_ref"], unique=False
        )

    op.create_table(
        "posting",
        sa.Column("id", ID_TYPE, autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("amount_whole", sa.BigInteger(), nullable=False),
        sa.Column("amount_frac", sa.BigInteger(), nullable=False),
        sa.Column("isrc", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("territory", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("usage", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("usage_period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=True),
        sa.Column("rule_ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "amount_frac > -10000000000 AND amount_frac < 10000000000 AND (amount_whole = 0 OR amount_frac = 0 OR (amount_whole > 0 AND amount_frac > 0) OR (amount_whole < 0 AND amount_frac < 0))",
            name="amount_canonical",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entry.id"], initially="DEFERRED", deferrable=True
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.create_index("ix_posting_account", ["account_id", "currency"], unique=False)
        batch_op.create_index("ix_posting_entry", ["entry_id", "currency"], unique=False)

    # ### end Alembic commands ###
    op.execute(
        "INSERT INTO ledger_head (id, last_entry_id, last_hash, entry_count, posting_count)"
        f" VALUES (1, 0, '{GENESIS}', 0, 0)"
    )
    bind = op.get_bind()
    for statement in POSTGRES_TRIGGERS if bind.dialect.name == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in POSTGRES_DROP if bind.dialect.name == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.drop_index("ix_posting_entry")
        batch_op.drop_index("ix_posting_account")

    op.drop_table("posting")
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entry_source_ref"))
        batch_op.drop_index(batch_op.f("ix_journal_entry_period"))
        batch_op.drop_index(batch_op.f("ix_journal_entry_kind"))

    op.drop_table("journal_entry")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_party_id"))

    op.drop_table("account")
    op.drop_table("setting")
    op.drop_table("period")
    op.drop_table("party")
    op.drop_table("ledger_head")
    # ### end Alembic commands ###
