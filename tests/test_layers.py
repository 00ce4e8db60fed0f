"""The layer contract (pyproject.toml, import-linter): run as part of the suite.

Dependencies point down only: CLI -> API -> services -> store -> parsers -> domain;
the domain and the parsers touch no database, service, renderer or adapter;
reports render what they are given and run no query. `lint-imports` checks every
import; this test runs it so the README's one test command keeps the layers honest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_layer_contract_is_kept() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as l; l()"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_no_threads_collector_pauses_or_switch_intervals_in_library_code() -> None:
    # Bulk writes run on the caller's thread; a process-wide pause of the collector is
    # the CLI's own business (cli/context.py), never the library's or the server's.
    found = []
    for folder in ("ledger", "api", "reports"):
        for path in sorted((REPO / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for word in ("threading", "gc.disable", "setswitchinterval"):
                if word in text:
                    found.append(f"{path.relative_to(REPO)}: {word}")
    assert found == []
