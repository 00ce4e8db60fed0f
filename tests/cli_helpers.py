"""Run the CLI in-process the way the `royalty` command does, capturing its output."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cli.main import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def royalty(capsys: pytest.CaptureFixture[str], db_url: str, *args: str) -> CliResult:
    capsys.readouterr()
    code = main(["--db", db_url, *args])
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)
