"""An import killed part-way (SIGKILL, a real process) leaves the database exactly as it was.

SQLite only, on purpose: the test watches the SQLite write-ahead log grow to know
the process is inside the import's transaction (writing lines), then kills it
with no chance to clean up. PostgreSQL's atomicity on a dropped connection is
the server's own guarantee; the property under test here is that the import is
one transaction, which the same code path gives on both backends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.gen_dsr import generate_dsr
from ledger import journal, settings
from ledger.db import Database, upgrade
from ledger.imports import list_imports
from tests import fixtures_revenue as fx
from tests.test_imports import do_import, load_examples, table_counts

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fdinfo").exists(), reason="needs /proc to watch the import's progress"
)


def _read_position(pid: int, path: Path) -> int | None:
    """Where process ``pid`` is reading ``path`` (from /proc), or None if it has no such fd."""
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        for fd in fd_dir.iterdir():
            if os.readlink(fd) == str(path):
                for row in Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().splitlines():
                    if row.startswith("pos:"):
                        return int(row.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def _wait_for_second_pass(proc: subprocess.Popen[bytes], path: Path, at: int) -> int:
    """Block until the import reads ``path`` a second time and is past byte ``at``.

    The import validates the whole file first (nothing written), then reads it
    again to store its lines inside the transaction: the read position going
    back down means the second pass, the one that writes, has begun.
    """
    highest, second = -1, False
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        pos = _read_position(proc.pid, path)
        if pos is not None:
            if pos < highest:
                second = True
            if second and pos >= at:
                return pos
            highest = max(highest, pos)
        time.sleep(0.002)
    return -1


def test_import_killed_mid_file_leaves_no_trace(tmp_path: Path) -> None:
    db_path = tmp_path / "royalty.db"
    url = f"sqlite:///{db_path}"
    db = Database(url)
    upgrade(db)
    with db.write() as s:
        settings.initialise(s, "USD")
    load_examples(db, agreements=False)
    do_import(db, fx.write_sample_dsr_us(tmp_path))  # the ledger is not empty before
    before = table_counts(db)
    db.dispose()

    big = generate_dsr(tmp_path / "big.tsv", 120_000)
    rates = fx.write_rates(tmp_path / "rates.csv")
    argv = ["--db", url, "import", str(big), "--fx", str(rates)]
    code = f"from cli.main import main; raise SystemExit(main({argv!r}))"
    size = big.stat().st_size
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        second_pass_at = _wait_for_second_pass(proc, big, size // 2)
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(
                f"the import ended (code {proc.returncode}) before it could be killed: {err!r}"
            )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # killed while reading the file the second time, i.e. while storing its lines
    assert second_pass_at >= size // 2

    db = Database(url)
    try:
        assert table_counts(db) == before
        with db.read() as s:
            assert [i.filename for i in list_imports(s)] == [next(tmp_path.glob("DSR_*")).name]
            journal.verify(s)
            assert journal.trial_balance(s).balanced
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
