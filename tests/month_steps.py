"""Helpers for the finance-month features (tests/test_month_features.py).

The month is driven only from outside the product: files written into the
scenario's folder (catalog and agreements YAML, revenue files in the real
formats, built with tests/fixtures_revenue.py) and the ``royalty`` command run
in-process (tests/cli_helpers.py) with ``--db``. Figures are read back from the
commands' ``--json`` output, the statement CSV files and the beancount export,
and compared as :class:`decimal.Decimal`, never as floats. Nothing here imports
``ledger``, so the steps keep working while its modules move.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import fixtures_revenue as fx
from tests.cli_helpers import CliResult, royalty

Cap = pytest.CaptureFixture[str]
Row = dict[str, str]


def amount(text: object) -> Decimal:
    """An amount written in a feature or printed by the product, exactly."""
    try:
        return Decimal(str(text).strip())
    except InvalidOperation:
        raise AssertionError(f"not an amount: {text!r}") from None


def rows(datatable: list[list[str]]) -> list[Row]:
    """A Gherkin table as dicts keyed by the header."""
    header = [h.strip() for h in datatable[0]]
    return [dict(zip(header, (c.strip() for c in row), strict=True)) for row in datatable[1:]]


@dataclass
class World:
    """One scenario: its database, its folder, and what the finance team did last."""

    url: str
    folder: Path
    capsys: Cap
    last: CliResult | None = None
    data: Any = None
    """The JSON printed by the last command run with --json that succeeded."""
    before: dict[str, Any] | None = None
    """The ledger as it was just before the last action (see :meth:`attempt`)."""
    operator: str = ""
    currency: str = "USD"
    parties: list[dict[str, str]] = field(default_factory=list)
    tracks: list[dict[str, str]] = field(default_factory=list)
    contributions: list[dict[str, str]] = field(default_factory=list)
    agreements: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    current: tuple[str, str] | None = None
    """The split sheet the fee and advance steps add to (the last one written)."""
    period: str = ""
    """The month the finance team last imported, split or paid."""
    statement_rows: list[Row] = field(default_factory=list)
    """The statement the "its ..." steps talk about."""
    statements: dict[str, Path] = field(default_factory=dict)
    """Per period, the folder its statements were last written to."""

    # -- the command ---------------------------------------------------------------

    def run(self, *args: str) -> CliResult:
        self.last = royalty(self.capsys, self.url, *args)
        self.data = None
        if self.last.code == 0 and "--json" in args:
            self.data = json.loads(self.last.out)
        return self.last

    def ok(self, *args: str) -> Any:
        result = self.run(*args)
        assert result.code == 0, f"royalty {' '.join(args)} failed: {result.err}"
        return self.data if "--json" in args else result.out

    def attempt(self, *args: str) -> CliResult:
        """Run a command that may be refused, remembering the ledger as it was before."""
        self.before = self.snapshot()
        return self.run(*args)

    def snapshot(self) -> dict[str, Any]:
        """What a finance team can see of the whole ledger: every account's balance, the
        verified hash chain (entry and posting counts, head), suspense and periods."""
        verified = self.ok("ledger", "verify")
        return {
            "trial balance": self.ok("ledger", "trial-balance", "--json"),
            "chain": re.sub(r"\s+", " ", verified).strip(),
            "suspense": self.ok("suspense", "list", "--json"),
            "periods": self.ok("period", "list", "--json"),
        }

    # -- what the ledger holds -----------------------------------------------------

    def account_balance(self, code: str) -> Decimal:
        """An account's balance (debits positive), 0 for an account never used."""
        tb = self.ok("ledger", "trial-balance", "--json")
        assert tb["balanced"] is True, tb
        found = [a for a in tb["accounts"] if a["account"] == code]
        for a in found:
            assert a["currency"] == self.currency, a
        return sum((amount(a["balance"]) for a in found), Decimal(0))

    def path(self, name: str) -> Path:
        return self.folder / name

    def money(self, value: str, currency: str) -> Decimal:
        """An amount written in a feature, in the ledger's currency."""
        assert currency == self.currency, f"the ledger is kept in {self.currency}"
        return amount(value)

    def done(self) -> dict[str, Any]:
        """The JSON of the last command, which must have succeeded."""
        assert self.last is not None and self.last.code == 0, self.last
        assert isinstance(self.data, dict), self.data
        return self.data

    # -- the documents the finance team writes ---------------------------------------

    def catalog_yaml(self) -> str:
        parties = []
        for p in self.parties:
            party = {
                "id": p["party"],
                "name": p["name"],
                "kind": p["kind"],
                "payout_currency": self.currency,
            }
            if p.get("payout threshold"):
                party["payout_threshold"] = p["payout threshold"]
            if p["party"] == self.operator:
                party["operator"] = "true"
            parties.append(party)
        doc = {"parties": parties, "tracks": self.tracks, "contributions": self.contributions}
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)

    def agreements_yaml(self) -> str:
        doc = {"agreements": list(self.agreements.values())}
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)

    def load_documents(self) -> None:
        catalog, agreements = self.path("catalog.yaml"), self.path("agreements.yaml")
        catalog.write_text(self.catalog_yaml(), encoding="utf-8")
        agreements.write_text(self.agreements_yaml(), encoding="utf-8")
        self.ok("catalog", "load", str(catalog))
        if self.agreements:
            self.ok("agreements", "load", str(agreements))

    def title_of(self, isrc: str) -> str:
        return next((t["title"] for t in self.tracks if t["isrc"] == isrc), isrc)

    # -- statements ------------------------------------------------------------------

    def statement(self, party: str, period: str, folder: str | None = None) -> list[Row]:
        """The rows of a holder's statement CSV (UTF-8 with BOM, CRLF: see reports/csv.py)."""
        where = self.path(folder) if folder else self.statements.get(period)
        assert where is not None, f"no statements of {period} were written"
        data = (where / f"statement_{period}_{party}.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), "the statement CSV starts with a BOM"
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# ---------------------------------------------------------------------------
# Revenue files, in the formats the senders use


def distrokid_file(world: World, table: list[Row], name: str) -> Path:
    lines = [
        fx.distrokid_row(
            sale_month=r["sale month"],
            store=r["store"],
            title=world.title_of(r["isrc"]),
            isrc=r["isrc"],
            quantity=r["quantity"],
            country=r["country"],
            earnings=r["earnings"],
            source_type=r.get("source type", "Stream"),
        )
        for r in table
    ]
    return fx.write_distrokid(world.path(name), lines)


def tunecore_file(world: World, table: list[Row], name: str) -> Path:
    lines = [
        fx.tunecore_row(
            period=r["sales period"],
            store=r["store"],
            country=r["country"],
            title=world.title_of(r["isrc"]),
            isrc=r["isrc"],
            units=r["units"],
            net=r["net sales"],
            net_currency=r["net sales currency"],
            rate=r["exchange rate"],
            earned=r["total earned"],
            currency=world.currency,
        )
        for r in table
    ]
    return fx.write_tunecore(world.path(name), lines)


def dsr_file(
    world: World,
    table: list[Row],
    name: str,
    period: str,
    net_revenue: str,
    currency: str,
    territory: str,
) -> Path:
    """A DDEX DSR with one subscription summary; its revenue is shared by the usage lines
    pro rata to their streams (the file states only the summary's NetRevenue)."""
    summary = fx.Summary("S1", "SubscriptionModel", territory, currency, net_revenue)
    blocks = [fx.Block(r["isrc"], r["title"], (fx.Usage("S1", int(r["streams"])),)) for r in table]
    text = fx.dsr_text((summary,), blocks, territory_tag=territory, period=period)
    return fx.write_text(world.path(name), text)


# ---------------------------------------------------------------------------
# The beancount export: the auditor's view of every entry


@dataclass
class Transaction:
    narration: str
    meta: dict[str, str]
    postings: list[tuple[str, Decimal, str]]
    """(account code, amount, currency)"""


_TXN = re.compile(r'^\d{4}-\d{2}-\d{2} \* "(?P<narration>(?:[^"\\]|\\.)*)"')
_OPEN = re.compile(r"^\d{4}-\d{2}-\d{2} open (?P<name>\S+)")
_META = re.compile(r'^  (?P<key>[a-z_]+): "(?P<value>(?:[^"\\]|\\.)*)"$')
_POSTING = re.compile(r"^  (?P<name>[A-Z]\S*)\s+(?P<amount>-?\d+(?:\.\d+)?) (?P<cur>[A-Z]{3})$")


def beancount_transactions(text: str) -> list[Transaction]:
    """The transactions of ``royalty export beancount``, accounts named by their ledger
    code (the ``code`` metadata of each ``open`` directive)."""
    codes: dict[str, str] = {}
    out: list[Transaction] = []
    opened: str | None = None
    for line in text.splitlines():
        if m := _OPEN.match(line):
            opened = m["name"]
            continue
        if m := _TXN.match(line):
            out.append(Transaction(m["narration"], {}, []))
            opened = None
            continue
        if m := _META.match(line):
            if opened is not None and m["key"] == "code":
                codes[opened] = m["value"]
            elif out and not out[-1].postings:
                out[-1].meta[m["key"]] = m["value"]
            continue
        if (m := _POSTING.match(line)) and out:
            out[-1].postings.append((m["name"], amount(m["amount"]), m["cur"]))
    for txn in out:
        txn.postings = [(codes.get(name, name), a, cur) for name, a, cur in txn.postings]
    return out


# ---------------------------------------------------------------------------
# Checks shared by several steps


def nonzero_changes(changes: list[dict[str, str]]) -> dict[str, tuple[Decimal, ...]]:
    """A split run's changes per account, (earned, fees, net), leaving out accounts that
    did not move (a rerun re-posts unchanged shares under the new rule version)."""
    out = {}
    for c in changes:
        figures = tuple(amount(c[k]) for k in ("earned", "fees", "net"))
        if any(figures):
            out[c["party_id"]] = figures
    return out


def check_balance_row(b: dict[str, str]) -> None:
    """`royalty balances` figures add up: opening + earned - fees - recouped - paid (+ other)."""
    closing = amount(b["opening"]) + amount(b["earned"]) - amount(b["fees"])
    closing += amount(b["other"]) - amount(b["recouped"]) - amount(b["paid"])
    assert closing == amount(b["closing"]), b


def traced_posting(world: World, party: str, value: str, isrc: str) -> dict[str, Any]:
    """The one posting of ``world.period`` that credits ``value`` to the party for the
    track, as `royalty ledger trace POSTING` shows it (credits are negative there)."""
    listed = world.ok("ledger", "trace", "--party", party, "--period", world.period, "--json")
    assert isinstance(listed, list), listed
    found = [p for p in listed if p["isrc"] == isrc and -amount(p["amount"]) == amount(value)]
    assert len(found) == 1, listed
    traced: dict[str, Any] = world.ok("ledger", "trace", str(found[0]["posting"]), "--json")
    return traced


SUMMARY_FIGURES = (
    "opening",
    "earned",
    "fees",
    "recouped",
    "paid",
    "closing",
    "payable_now",
    "carried_forward",
)


def summary_of(statement: list[Row]) -> dict[str, Decimal]:
    figures = {r["kind"]: amount(r["amount"]) for r in statement if r["record"] == "summary"}
    assert sorted(figures) == sorted(SUMMARY_FIGURES), figures
    return figures


def line_of(row: Row, share: str) -> tuple[object, ...]:
    """A statement line (or a row of a feature's table of lines) as comparable values."""
    keys = ("isrc", "source", "territory", "usage")
    return (*(row[k] for k in keys), int(row["quantity"]), row[share], amount(row["amount"]))


def total_of(statement: list[Row], record: str) -> Decimal:
    return sum((amount(r["amount"]) for r in statement if r["record"] == record), Decimal(0))
