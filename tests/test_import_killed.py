"""An import killed part-way (SIGKILL, a real process) leaves the database exactly as it was.

SQLite only, on purpose: the test watches the SQLite write-ahead log grow to know
the process is inside the import's transaction (writing lines), then kills it
with no chance to clean up. PostgreSQL's atomicity on a dropped connection is
the server's own guarantee; the property under test here is that the import is
one transaction, which the same code path gives on both backends.

An import holds its SQLite page cache small (ledger.store.bulk.small_page_cache),
so the pages of the uncommitted lines spill into the log while they are written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks.gen_dsr import generate_dsr
from ledger.services.imports import list_imports
from ledger.store import settings, verify
from ledger.store.db import Database, upgrade
from tests import fixtures_revenue as fx
from tests.test_imports import do_import, load_examples, table_counts

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fdinfo").exists(), reason="needs /proc to watch the import's progress"
)


def _wait_for_lines_being_written(proc: subprocess.Popen[bytes], wal: Path, at: int) -> int:
    """Block until the import's write-ahead log holds ``at`` bytes; return its size.

    The import validates the whole file first (nothing written), then stores its
    lines inside the transaction; with the child's small page cache, the log growing
    past a few pages means the lines are being written, uncommitted.
    """
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            size = wal.stat().st_size
        except FileNotFoundError:
            size = 0
        if size >= at:
            return size
        time.sleep(0.002)
    return -1


def _ledger(tmp_path: Path, *, with_import: bool) -> tuple[str, Path, dict[str, int]]:
    """A SQLite ledger with the example catalog (and one import): its URL, its file and
    the row count of every table."""
    db_path = tmp_path / "royalty.db"
    url = f"sqlite:///{db_path}"
    db = Database(url)
    upgrade(db)
    with db.write() as s:
        settings.initialise(s, "USD")
    load_examples(db, agreements=False)
    if with_import:
        do_import(db, fx.write_sample_dsr_us(tmp_path))  # the ledger is not empty before
    before = table_counts(db)
    db.dispose()
    return url, db_path, before


def _start_import(
    tmp_path: Path, url: str, db_path: Path, lines: int, **popen: Any
) -> subprocess.Popen[bytes]:
    """Start `royalty import` of a generated DSR in a real process; return it once it is
    writing lines inside its transaction (a megabyte of them in the log, uncommitted)."""
    big = generate_dsr(tmp_path / "big.tsv", lines)
    rates = fx.write_rates(tmp_path / "rates.csv")
    argv = ["--db", url, "import", str(big), "--fx", str(rates)]
    code = f"from cli.main import main; raise SystemExit(main({argv!r}))"
    wal = db_path.with_name(db_path.name + "-wal")
    start = wal.stat().st_size if wal.exists() else 0
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )
    writing_at = _wait_for_lines_being_written(proc, wal, start + (1 << 20))
    if proc.poll() is not None:
        _, err = proc.communicate()
        pytest.fail(
            f"the import ended (code {proc.returncode}) before it could be stopped: {err!r}"
        )
    if writing_at < 0:
        proc.kill()
        proc.wait()
        pytest.fail("the import wrote no lines within a minute")
    return proc


def test_import_killed_mid_file_leaves_no_trace(tmp_path: Path) -> None:
    url, db_path, before = _ledger(tmp_path, with_import=True)
    proc = _start_import(tmp_path, url, db_path, 120_000)
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    db = Database(url)
    try:
        assert table_counts(db) == before
        with db.read() as s:
            assert [i.filename for i in list_imports(s)] == [next(tmp_path.glob("DSR_*")).name]
            verify.verify(s)
            assert verify.trial_balance(s).balanced
    finally:
        db.dispose()
    # and the CLI agrees: `ledger verify` passes on the database the killed process left
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from cli.main import main; raise SystemExit(main({['--db', url, 'ledger', 'verify']!r}))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert "OK:" in check.stdout


def test_import_interrupted_with_ctrl_c_while_lines_are_stored_leaves_no_trace(
    tmp_path: Path,
) -> None:
    # Ctrl-C (SIGINT) reaches the import while it stores the lines (on the caller's
    # thread, inside the transaction): the transaction is rolled back, and the CLI says so.
    url, db_path, before = _ledger(tmp_path, with_import=False)
    proc = _start_import(
        tmp_path,
        url,
        db_path,
        300_000,
        # A shell's background jobs ignore SIGINT, and Python keeps an ignored SIGINT
        # ignored: give the child the default, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert b"Interrupted: the change in progress was rolled back" in err

    db = Database(url)
    try:
        assert table_counts(db) == before
        with db.read() as s:
            assert list_imports(s) == []
            verify.verify(s)
    finally:
        db.dispose()
