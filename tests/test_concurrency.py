"""Two real processes at once on one period never double-post (SQLite and PostgreSQL).

Each process is the CLI (``python -c "from cli.main import main; ..."``) held at
a start line until both are ready, so their transactions overlap. Afterwards
the party balances equal the hand-worked figures of one run
(tests/test_splits.py), the advance was paid once, and the ledger verifies.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ledger.domain import accounts
from ledger.domain.money import Money
from ledger.domain.periods import Period
from ledger.services.splits import run_split
from ledger.store import verify
from ledger.store.db import Database
from tests import fixtures_revenue as fx
from tests.test_imports import account_balance, assert_books_sound, usd
from tests.test_splits import OCTOBER, T1, import_rows, setup_ledger

REPO = Path(__file__).resolve().parent.parent

# one run of the worked example, after the 100.00 advance is recouped from prod
ONE_RUN = {
    "prod": usd("265.62324"),
    "cur": usd("274.21743"),
    "lic-a": usd("182.81162"),
    "lic-b": usd("91.40581"),
    "vendor": usd("21.0014"),
}
LATE = (fx.distrokid_row(store="Spotify", isrc=T1, quantity="100", country="US", earnings="10.00"),)
# the late 10.00 split (see test_splits: late file): prod +3.32, cur +2.49, ...
WITH_LATE = {
    "prod": usd("268.94324"),
    "cur": usd("276.70743"),
    "lic-a": usd("184.47162"),
    "lic-b": usd("92.23581"),
    "vendor": usd("21.2014"),
}

_RUNNER = """
import os, sys, time
from pathlib import Path
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
from cli.main import main
ready.touch()
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
raise SystemExit(main(sys.argv[3:]))
"""


def run_together(tmp_path: Path, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command, wait until all are ready, release them at once, collect them."""
    go = tmp_path / "go"
    procs = []
    readies = []
    for i, argv in enumerate(commands):
        ready = tmp_path / f"ready{i}"
        readies.append(ready)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _RUNNER, str(ready), str(go), *argv],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in readies) and time.monotonic() < deadline:
        time.sleep(0.005)
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


def payables(db: Database) -> dict[str, Money]:
    with db.read() as s:
        rows = verify.trial_balance(s).rows
    return {
        r.account.split(":", 1)[1]: -r.balance for r in rows if r.account.startswith("payable:")
    }


def test_two_splits_of_one_period_at_once_post_once(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    setup_ledger(database)
    import_rows(database, tmp_path / "october.tsv", OCTOBER)
    split = ["--db", database_url, "split", "--period", "2026-10"]
    results = run_together(tmp_path, split, split)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert sum("nothing to post" in r.stdout for r in results) == 1, [r.stdout for r in results]
    assert payables(database) == ONE_RUN
    assert account_balance(database, accounts.BANK) == usd("-100.00")  # one advance
    assert account_balance(database, accounts.UNDISTRIBUTED) == usd("0")
    assert_books_sound(database)


def test_a_split_and_an_import_at_once_never_double_post(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    setup_ledger(database)
    import_rows(database, tmp_path / "october.tsv", OCTOBER)
    late = fx.write_distrokid(tmp_path / "late.tsv", LATE)
    results = run_together(
        tmp_path,
        ["--db", database_url, "split", "--period", "2026-10"],
        ["--db", database_url, "import", str(late), "--period", "2026-10"],
    )
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    # whichever came first, the late 10.00 is either split already or still undistributed
    left = account_balance(database, accounts.UNDISTRIBUTED)
    assert payables(database) == (ONE_RUN if left else WITH_LATE)
    assert left in (usd("0"), usd("-10.00"))
    assert_books_sound(database)
    with database.write() as s:  # a rerun settles it either way
        run_split(s, Period(2026, 10))
    assert payables(database) == WITH_LATE
    assert account_balance(database, accounts.UNDISTRIBUTED) == usd("0")
    assert account_balance(database, accounts.BANK) == usd("-100.00")
    assert_books_sound(database)
