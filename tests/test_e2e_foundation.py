"""End to end: the installed `royalty` command, as a finance team runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def royalty_bin() -> str:
    candidate = Path(sys.executable).with_name("royalty")
    found = str(candidate) if candidate.exists() else shutil.which("royalty")
    if not found:
        pytest.fail("the royalty command is not installed: pip install -e '.[test]'")
    return found


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "ROYALTY_DB"}
    full_env.update(env or {})
    return subprocess.run(
        [royalty_bin(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


def test_readme_first_steps_on_a_fresh_directory(tmp_path: Path) -> None:
    r = run(tmp_path, "init")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "royalty.db").exists()
    r = run(tmp_path, "ledger", "trial-balance", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["balanced"] is True
    r = run(tmp_path, "ledger", "verify")
    assert r.returncode == 0
    assert "verified" in r.stdout


def test_env_var_selects_the_database(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    r = run(tmp_path, "init", env={"ROYALTY_DB": str(other)})
    assert r.returncode == 0, r.stderr
    assert other.exists()
    assert not (tmp_path / "royalty.db").exists()


def test_user_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    r = run(tmp_path, "ledger", "verify")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("error:")
    assert len(r.stderr.strip().splitlines()) == 1
