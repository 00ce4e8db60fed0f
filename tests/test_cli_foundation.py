"""The CLI foundation: init, trial balance, verify, one-line errors, help with examples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.domain.entries import EntryDraft, Leg
from ledger.domain.money import Money
from ledger.domain.periods import Period
from ledger.store import journal, verify
from ledger.store.db import Database
from tests.cli_helpers import royalty


def test_init_then_empty_trial_balance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    r = royalty(capsys, url, "init", "--currency", "EUR")
    assert r.code == 0, r.err
    assert "currency EUR" in r.out
    r = royalty(capsys, url, "ledger", "trial-balance", "--json")
    assert r.code == 0
    data = json.loads(r.out)
    assert data == {"accounts": [], "totals": {}, "balanced": True}
    # init is idempotent and never changes the ledger currency
    assert royalty(capsys, url, "init", "--currency", "EUR").code == 0
    r = royalty(capsys, url, "init", "--currency", "USD")
    assert r.code == 1
    assert "already EUR" in r.err


def test_trial_balance_amounts_are_strings(
    database: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with database.write() as s:
        journal.post(
            s,
            EntryDraft(
                "k",
                Period(2026, 10),
                "import",
                "x",
                (
                    Leg.of("receivable:streamco", Money.of("0.0000000001", "USD")),
                    Leg.of("revenue:undistributed", Money.of("-0.0000000001", "USD")),
                ),
            ),
        )
    r = royalty(capsys, database_url, "ledger", "trial-balance", "--json")
    data = json.loads(r.out)
    assert r.code == 0
    by_account = {a["account"]: a for a in data["accounts"]}
    assert by_account["receivable:streamco"]["debit"] == "0.0000000001"
    assert by_account["revenue:undistributed"]["credit"] == "0.0000000001"
    assert data["totals"] == {"USD": "0.00"}
    r = royalty(capsys, database_url, "ledger", "verify")
    assert r.code == 0
    assert "1 entries and 2 postings verified" in r.out


def test_verify_fails_after_tampering(
    database: Database, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_journal import _tamper

    with database.write() as s:
        journal.post(
            s,
            EntryDraft(
                "k",
                Period(2026, 10),
                "import",
                "x",
                (
                    Leg.of("receivable:streamco", Money.of("10", "USD")),
                    Leg.of("revenue:undistributed", Money.of("-10", "USD")),
                ),
            ),
        )
    _tamper(database, ["UPDATE posting SET amount_whole = 11 WHERE amount_whole = 10"])
    r = royalty(capsys, database_url, "ledger", "verify")
    assert r.code == 1
    assert r.err.startswith("error: journal entry 1")
    assert "Traceback" not in r.err


def test_uninitialised_database_gets_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = royalty(capsys, str(tmp_path / "none.db"), "ledger", "trial-balance")
    assert r.code == 1
    assert r.err.strip().count("\n") == 0
    assert "run `royalty init` first" in r.err


def test_older_schema_is_named_and_init_upgrades_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ledger.store.db import Database, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url)
    upgrade(old, "0002")
    old.dispose()
    r = royalty(capsys, url, "ledger", "trial-balance")
    assert r.code == 1
    assert r.err.strip().count("\n") == 0
    assert "schema revision 0002" in r.err and "royalty init" in r.err
    assert royalty(capsys, url, "init").code == 0
    assert royalty(capsys, url, "ledger", "trial-balance").code == 0


def test_schema_revision_is_the_alembic_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from ledger.store.db import SCHEMA_REVISION, migrations_dir

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_REVISION


def test_unknown_command_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = royalty(capsys, str(tmp_path / "x.db"), "no-such-command")
    assert r.code == 2


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    import typer.main

    cmd = typer.main.get_command(group)  # type: ignore[arg-type]
    out: list[tuple[tuple[str, ...], object]] = []

    def walk(c: object, path: tuple[str, ...]) -> None:
        sub = getattr(c, "commands", None)
        if sub:
            for name, child in sub.items():
                walk(child, (*path, name))
        else:
            out.append((path, c))

    walk(cmd, prefix)
    return out


def test_every_command_has_help_with_an_example() -> None:
    from cli.main import app

    commands = _commands(app)
    assert len(commands) >= 3
    missing = [
        " ".join(path)
        for path, c in commands
        if "Example: royalty" not in (getattr(c, "help", "") or "")
    ]
    assert missing == []


def test_a_failing_check_and_ctrl_c_give_non_zero_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # typer hands back a command's `typer.Exit(1)`, and turns Ctrl-C into 130, as a
    # return value: the exit code must still reach the shell.
    url = f"sqlite:///{tmp_path / 'l.db'}"
    assert royalty(capsys, url, "init").code == 0
    off = verify.TrialBalance(rows=(), totals={"USD": Money.of("0.01", "USD")})
    with monkeypatch.context() as patch:
        patch.setattr(verify, "trial_balance", lambda *a, **k: off)
        r = royalty(capsys, url, "ledger", "verify")
    assert r.code == 1
    assert "trial balance is not zero" in r.err

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(verify, "trial_balance", interrupted)
        r = royalty(capsys, url, "ledger", "trial-balance")
    assert r.code == 130
    assert "Interrupted: the change in progress was rolled back" in r.err


def test_no_command_returns_a_value_that_would_become_its_exit_code() -> None:
    # Outside standalone mode typer returns a command's return value, and main() turns
    # a non-zero int into the exit code: commands must return None.
    import inspect

    import typer

    from cli.main import app

    def callbacks(t: typer.Typer) -> Iterator[tuple[str, object]]:
        for command in t.registered_commands:
            if command.callback is not None:
                yield command.name or command.callback.__name__, command.callback
        for group in t.registered_groups:
            if group.typer_instance is not None:
                yield from callbacks(group.typer_instance)

    found = list(callbacks(app))
    assert len(found) > 20
    for name, callback in found:
        annotation = inspect.signature(callback).return_annotation  # type: ignore[arg-type]
        assert annotation in (None, "None"), f"{name} returns {annotation}"
