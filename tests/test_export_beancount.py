"""Beancount export: an independent tool (bean-check) accepts the ledger, and beancount's
own totals per account equal the ledger's trial balance."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.periods import Period
from ledger.services.export import account_names, beancount_account, export_beancount, quote
from ledger.store import periods, verify
from ledger.store.db import Database
from tests.test_statements_service import build_ledger

beancount_loader = pytest.importorskip(
    "beancount.loader", reason="beancount is not installed (pip install beancount)"
)


def bean_check() -> str:
    found = shutil.which("bean-check") or str(Path(sys.executable).parent / "bean-check")
    if not Path(found).exists():
        pytest.skip("bean-check is not installed (pip install beancount)")
    return found


def test_account_names_follow_beancount_rules() -> None:
    assert beancount_account("payable:rust", "liability") == "Liabilities:Payable:Rust"
    assert beancount_account("income:fees", "income") == "Income:Fees"
    assert beancount_account("bank", "asset") == "Assets:Bank"
    assert beancount_account("payable:hook_curator.2", "liability") == (
        "Liabilities:Payable:Hook-curator-2"
    )
    assert beancount_account("payable:-x", "liability") == "Liabilities:Payable:X-x"
    names = account_names([("payable:a_b", "liability"), ("payable:a-b", "liability")])
    assert len(set(names.values())) == 2
    assert quote('say "hi"\\\n now') == '"say \\"hi\\"\\\\ now"'


def test_bean_check_accepts_the_export_and_totals_match_the_trial_balance(
    database: Database, tmp_path: Path
) -> None:
    build_ledger(database, tmp_path)
    with database.write() as s:
        periods.close(s, Period(2026, 10))
    out = io.StringIO()
    with database.read() as s:
        export_beancount(s, out)
        tb = verify.trial_balance(s)
        names = account_names([(r.account, r.type) for r in tb.rows])
        entries = s.execute(journal_count()).scalar_one()
    path = tmp_path / "ledger.beancount"
    path.write_text(out.getvalue(), encoding="utf-8")

    result = subprocess.run([bean_check(), str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

    loaded, errors, _ = beancount_loader.load_file(str(path))
    assert errors == []
    from beancount.core import data

    txns = [e for e in loaded if isinstance(e, data.Transaction)]
    assert len(txns) == entries
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for txn in txns:
        for posting in txn.postings:
            assert posting.units is not None and posting.units.number is not None
            totals[(posting.account, posting.units.currency)] += posting.units.number
    expected = {(names[r.account], r.currency): r.balance.amount for r in tb.rows}
    assert {k: v for k, v in totals.items() if v} == {k: v for k, v in expected.items() if v}
    # every entry keeps its id, hash and idempotency key
    first = txns[0].meta
    assert first["entry_id"] == "1" and len(first["hash"]) == 64 and first["idempotency_key"]


def journal_count() -> Any:
    from sqlalchemy import func, select

    from ledger.store.models import JournalEntry

    return select(func.count()).select_from(JournalEntry)
