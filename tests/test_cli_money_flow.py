"""The money-flow commands as a finance team types them: import, suspense, split, pay,
balances, period. JSON output carries every amount as a string (never a JSON number),
and a bad file gets one ``error: file:line: field: problem`` line per problem.
Runs in-process through tests/cli_helpers.royalty, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.store.db import Database
from tests import fixtures_revenue as fx
from tests.cli_helpers import royalty
from tests.test_imports import table_counts
from tests.test_splits import ATTRIBUTION, CATALOG, OCTOBER, T2, agreement

Cap = pytest.CaptureFixture[str]


def no_json_numbers(value: Any) -> None:
    """Amounts (and everything else numeric-looking) must not be floats; ints are counts."""
    if isinstance(value, dict):
        for v in value.values():
            no_json_numbers(v)
    elif isinstance(value, list):
        for v in value:
            no_json_numbers(v)
    else:
        assert not isinstance(value, float), value


def ok(capsys: Cap, url: str, *args: str) -> Any:
    r = royalty(capsys, url, *args)
    assert r.code == 0, r.err
    if "--json" in args:
        data = json.loads(r.out)
        no_json_numbers(data)
        return data
    return r.out


def load(capsys: Cap, url: str, tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    (tmp_path / "agreements.yaml").write_text(agreement())
    (tmp_path / "attribution.csv").write_text(ATTRIBUTION)
    ok(capsys, url, "catalog", "load", str(tmp_path / "catalog.yaml"))
    ok(capsys, url, "agreements", "load", str(tmp_path / "agreements.yaml"))
    ok(capsys, url, "attribution", "load", str(tmp_path / "attribution.csv"), "--period", "2026-10")


def test_month_through_the_cli_with_json(
    database: Database, database_url: str, tmp_path: Path, capsys: Cap
) -> None:
    url = database_url
    load(capsys, url, tmp_path)
    rows = (
        *OCTOBER,
        fx.distrokid_row(store="Spotify", isrc=T2, quantity="500", earnings="5.00"),
        fx.distrokid_row(isrc="QZZZZ2699999", earnings="0.0000000007"),
    )
    revenue = fx.write_distrokid(tmp_path / "october.tsv", rows)

    preview = ok(capsys, url, "import", str(revenue), "--period", "2026-10", "--dry-run", "--json")
    assert preview["dry_run"] is True and preview["import_id"] is None
    imported = ok(capsys, url, "import", str(revenue), "--period", "2026-10", "--json")
    assert imported["import_id"] == 1 and imported["lines"] == 5
    assert imported["totals"] == {"USD": "1105.0700000007"}
    assert imported["suspense_lines"] == 1 and imported["suspense_amount"] == "0.0000000007"

    held = ok(capsys, url, "suspense", "list", "--json")
    assert [(i["isrc"], i["amount"], i["first_line"]) for i in held] == [
        ("QZZZZ2699999", "0.0000000007", 6)
    ]

    dry = ok(capsys, url, "split", "--period", "2026-10", "--dry-run", "--json")
    assert dry["dry_run"] is True and dry["run_id"] is None
    run = ok(capsys, url, "split", "--period", "2026-10", "--json")
    nets = {c["party_id"]: c["net"] for c in run["changes"]}
    assert nets == {c["party_id"]: c["net"] for c in dry["changes"]}  # the preview was right
    # T2 has no agreement: held in suspense by the split (see tests/test_splits.py for the rest)
    assert run["suspense"] == "5.00" and nets["prod"] == "365.62324"
    assert run["recoupments"] == [["prod", "100.00"]]
    again = ok(capsys, url, "split", "--period", "2026-10")
    assert "nothing to post" in again

    paid = ok(capsys, url, "pay", "--period", "2026-10", "--json")
    assert paid["total_paid"] == "469.43"
    assert {x["party_id"]: x["paid"] for x in paid["lines"]}["prod"] == "265.62"

    bal = ok(capsys, url, "balances", "--period", "2026-10", "--party", "prod", "--json")
    assert [(b["earned"], b["fees"], b["recouped"], b["paid"], b["closing"]) for b in bal] == [
        ("440.028", "74.40476", "100.00", "265.62", "0.00324")
    ]

    ok(capsys, url, "period", "close", "2026-10")
    periods = ok(capsys, url, "period", "list", "--json")
    assert {"period": "2026-10", "status": "closed"} in periods
    r = royalty(capsys, url, "period", "close", "2026-10")
    assert r.code == 1 and r.err.startswith("error:") and "closed" in r.err

    tb = ok(capsys, url, "ledger", "trial-balance", "--json")
    assert tb["balanced"] is True
    assert "OK:" in ok(capsys, url, "ledger", "verify")


def test_bad_file_lists_every_problem_as_file_line_field(
    database: Database, database_url: str, tmp_path: Path, capsys: Cap
) -> None:
    load(capsys, database_url, tmp_path)
    rows = (fx.distrokid_row(earnings="1,5"), fx.distrokid_row(), fx.distrokid_row(country="XX"))
    bad = fx.write_distrokid(tmp_path / "bad.tsv", rows)
    before = table_counts(database)
    r = royalty(capsys, database_url, "import", str(bad), "--period", "2026-10")
    assert r.code == 1 and "Traceback" not in r.err
    errors = [line for line in r.err.splitlines() if line.startswith("error: ")]
    assert errors[0].startswith(f"error: {bad}:2: ") and errors[1].startswith(f"error: {bad}:4: ")
    for line in errors[:2]:
        _where, field, message = line.removeprefix("error: ").split(": ", 2)
        assert field and message, line
    assert "2 problem(s)" in errors[-1] and "nothing was changed" in errors[-1]
    assert table_counts(database) == before


def test_duplicate_and_missing_rate_are_one_line_errors(
    database: Database, database_url: str, tmp_path: Path, capsys: Cap
) -> None:
    load(capsys, database_url, tmp_path)
    us = fx.write_sample_dsr_us(tmp_path)
    ok(capsys, database_url, "import", str(us))
    r = royalty(capsys, database_url, "import", str(us))
    assert r.code == 1 and "import #1" in r.err and "--replace" in r.err
    assert len(r.err.strip().splitlines()) == 1
    replaced = ok(capsys, database_url, "import", str(us), "--replace", "--json")
    assert replaced["replaced_imports"] == [1] and replaced["import_id"] == 2
    gb = fx.write_sample_dsr_gb(tmp_path)
    r = royalty(capsys, database_url, "import", str(gb))
    assert r.code == 1 and f"error: {gb.name}: currency: " in r.err and "GBP" in r.err


def test_suspense_list_and_resolve_through_the_cli(
    database: Database, database_url: str, tmp_path: Path, capsys: Cap
) -> None:
    url = database_url
    load(capsys, url, tmp_path)
    unknown = fx.write_distrokid(
        tmp_path / "dk.tsv", (fx.distrokid_row(isrc=fx.UNKNOWN_ISRC, earnings="3.3333333333"),)
    )
    ok(capsys, url, "import", str(unknown))
    (item,) = ok(capsys, url, "suspense", "list", "--json")
    assert (item["isrc"], item["amount"], item["resolvable"]) == (
        fx.UNKNOWN_ISRC,
        "3.3333333333",
        False,
    )
    nothing = ok(capsys, url, "suspense", "resolve", "--json")
    assert nothing["lines"] == 0 and nothing["remaining_lines"] == 1
    (tmp_path / "extra.yaml").write_text(
        "parties:\n  - {id: label, name: Indie Label, kind: company, payout_currency: USD, operator: true}\n"
        f"tracks:\n  - {{isrc: {fx.UNKNOWN_ISRC}, title: Chaos Avenue, display_artist: Lena}}\n"
    )
    ok(capsys, url, "catalog", "load", str(tmp_path / "extra.yaml"))
    released = ok(capsys, url, "suspense", "resolve", "--json")
    assert (released["amount"], released["lines"], released["period"]) == (
        "3.3333333333",
        1,
        "2026-10",
    )
    assert ok(capsys, url, "suspense", "list", "--json") == []
    assert "Nothing in suspense." in ok(capsys, url, "suspense", "list")
