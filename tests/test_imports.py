"""Revenue import, as a finance controller checks it: does every number reconcile?

Each format imports and its totals match the file's own totals to the last
decimal; every line is kept with its file and line number; a duplicate is
refused and leaves every table as it was; ``replace`` reverses what the earlier
import posted; currencies convert with the period's rates (a missing rate is
refused); bad lines are all reported as ``file:line: field: problem`` and
nothing is stored; unknown and malformed ISRCs go to suspense and come out
once the catalog knows the track; a dry run stores nothing; a closed period
accepts no import. Every test runs on SQLite and PostgreSQL (``database``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import inspect, text

from ledger.domain import accounts
from ledger.domain.errors import Conflict, InputError, PeriodClosed
from ledger.domain.money import Money, total
from ledger.domain.periods import Period
from ledger.services import documents, imports
from ledger.services.imports import (
    REASON_MALFORMED,
    REASON_UNKNOWN,
    ImportSummary,
    lines_of,
    list_imports,
)
from ledger.services.suspense import list_suspense, resolve_suspense
from ledger.store import bulk, periods, verify
from ledger.store.db import Database
from ledger.store.models import RevenueLine
from tests import fixtures_revenue as fx
from tests.adapters import import_file

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
D = Decimal
OCTOBER_2026 = Period(2026, 10)


def usd(amount: str | Decimal) -> Money:
    """An exact amount in the ledger currency."""
    return Money.of(amount, "USD")


# ---------------------------------------------------------------------------
# Helpers shared by the money-flow tests (imported by other test modules)


def load_examples(db: Database, *, agreements: bool = True) -> None:
    """The Walk My Walk catalog (and its agreements and October attribution) from examples/."""
    with db.write() as s:
        documents.load_catalog(s, (EXAMPLES / "catalog.yaml").read_text(), "catalog.yaml")
        if agreements:
            documents.load_agreements(
                s, (EXAMPLES / "agreements.yaml").read_text(), "agreements.yaml"
            )
            documents.load_attribution(
                s,
                (EXAMPLES / "attribution-2026-10.csv").read_text(),
                "attribution.csv",
                OCTOBER_2026,
            )


def table_counts(db: Database) -> dict[str, int]:
    """Rows in every table of the schema: proof that nothing at all was written."""
    with db.read() as s:
        conn = s.connection()
        names = sorted(inspect(conn).get_table_names())
        return {
            n: int(conn.execute(text(f'SELECT COUNT(*) FROM "{n}"')).scalar_one()) for n in names
        }


def account_balance(db: Database, code: str, currency: str = "USD") -> Money:
    """Balance of one account (debits positive) summed over the trial balance."""
    with db.read() as s:
        rows = verify.trial_balance(s).rows
    return total(
        (r.balance for r in rows if r.account == code and r.currency == currency), currency
    )


def assert_books_sound(db: Database) -> None:
    with db.read() as s:
        tb = verify.trial_balance(s)
        assert tb.balanced, tb.totals
        verify.verify(s)


def line_amount(line: object) -> Money:
    """A stored line's amount in the ledger currency (the two integers the store keeps)."""
    return Money.of_parts(line.amount_whole, line.amount_frac, line.currency)  # type: ignore[attr-defined]


def stored_lines(db: Database, import_id: int | None) -> list[SimpleNamespace]:
    """The stored lines of an import, read out of the session (plain values)."""
    assert import_id is not None
    with db.read() as s:
        return [
            SimpleNamespace(**{c: getattr(x, c) for c in RevenueLine.model_fields})
            for x in lines_of(s, import_id)
        ]


def do_import(db: Database, path: Path, **kw: Any) -> ImportSummary:
    with db.write() as s:
        return import_file(s, path, **kw)


# ---------------------------------------------------------------------------
# Each format: the file's own totals, to the last decimal


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_dsr_us_totals_match_the_files_summaries(
    database: Database, tmp_path: Path, gz: bool
) -> None:
    load_examples(database, agreements=False)
    path = fx.write_sample_dsr_us(tmp_path, gz=gz)
    summary = do_import(database, path)
    # SY01.02 S1 21873.41 + S2 3106.77 = 24980.18
    assert summary.totals == {"USD": usd("24980.18")}
    assert summary.ledger_total == usd("24980.18")
    assert summary.lines == 7 and summary.suspense_lines == 0
    assert (
        summary.format == "dsr" and summary.period == OCTOBER_2026 and summary.source == "StreamCo"
    )
    lines = stored_lines(database, summary.import_id)
    with database.read() as s:
        info = list_imports(s)[0]
    assert len(lines) == 7
    assert total((line_amount(x) for x in lines), "USD") == usd("24980.18")
    # every line is kept with its file and its line number (distinct, in the file's order)
    assert info.filename == path.name and len(info.sha256) == 64
    assert info.totals == {"USD": usd("24980.18")}
    assert [x.line_no for x in lines] == sorted({x.line_no for x in lines})
    assert all(x.import_id == summary.import_id and x.line_no > 3 for x in lines)
    raw = fx.sample_dsr_us_text().splitlines()
    for x in lines:  # the stored line number points at an SU02.02 line naming this ISRC's block
        assert raw[x.line_no - 1].startswith("SU02.02")
    assert account_balance(database, accounts.receivable("StreamCo")) == usd("24980.18")
    assert account_balance(database, accounts.UNDISTRIBUTED) == usd("-24980.18")
    assert_books_sound(database)


def test_dsr_gb_pro_rata_allocation_by_hand_and_suspense(
    database: Database, tmp_path: Path
) -> None:
    """S1 NetRevenue 6488.20 GBP over 1611380 + 77012 + 44698 = 1733090 streams.

    6488.20 * 1611380 / 1733090 = 6032.55209827533...  floor 6032.5520982753
    6488.20 *   77012 / 1733090 =  288.31120045698...  floor  288.3112004569
    6488.20 *   44698 / 1733090 =  167.33670126767...  floor  167.3367012676
    the floors sum to 6488.1999999998: the 2 leftover units go to the largest
    remainders (77012's .698, 44698's .676; 1611380's is .348) ->
    6032.5520982753 + 288.3112004570 + 167.3367012677 = 6488.2000000000.
    At GBP 1.2644 (rounded half-even to 10 places):
    6032.5520982753 * 1.2644 = 7627.55887305928932 -> 7627.5588730593
     288.3112004570 * 1.2644 =  364.54068185783080 ->  364.5406818578
     167.3367012677 * 1.2644 =  211.58052508287988 ->  211.5805250829  (QZK6H2600014: suspense)
    ledger total 8203.6800800000 (= 6488.20 * 1.2644 = 8203.68008: no drift)
    """
    load_examples(database, agreements=False)
    rates = fx.write_rates(tmp_path / "rates.csv")
    summary = do_import(database, fx.write_sample_dsr_gb(tmp_path), fx_path=rates)
    assert summary.totals == {"GBP": Money.of("6488.20", "GBP")}
    assert summary.ledger_total == usd("8203.68008")
    assert summary.suspense_lines == 1 and summary.suspense_amount == usd("211.5805250829")
    lines = stored_lines(database, summary.import_id)
    by_isrc = sorted(
        (x.isrc, x.original_amount, x.original_currency, x.fx_rate, line_amount(x)) for x in lines
    )
    assert [(i, D(a), c, D(r), v) for i, a, c, r, v in by_isrc] == [
        ("QZK6H2600014", D("167.3367012677"), "GBP", D("1.2644"), usd("211.5805250829")),
        ("USRW12600001", D("288.3112004570"), "GBP", D("1.2644"), usd("364.5406818578")),
        ("USRW12600001", D("6032.5520982753"), "GBP", D("1.2644"), usd("7627.5588730593")),
    ]
    assert {x.currency for x in lines} == {"USD"}
    assert [x.suspense_reason for x in lines if x.isrc == fx.UNKNOWN_ISRC] == [REASON_UNKNOWN]
    assert account_balance(database, accounts.SUSPENSE) == usd("-211.5805250829")
    assert account_balance(database, accounts.UNDISTRIBUTED) == usd("-7992.0995549171")
    assert account_balance(database, accounts.receivable("StreamCo")) == usd("8203.68008")
    assert_books_sound(database)


def test_dsr_su03_ugc_lines_carry_their_own_revenue(database: Database, tmp_path: Path) -> None:
    load_examples(database, agreements=False)
    text_ = fx.dsr_text(
        (
            fx.Summary("S1", "SubscriptionModel", "US", "USD", "100.00"),
            fx.Summary("S2", "UserGeneratedContentModel", "US", "USD", "0.00", total_usages=0),
        ),
        (
            fx.Block(
                "USRW12600001",
                "Walk My Walk",
                (fx.Usage("S1", 3), fx.Usage("S1", 1), fx.UgcUsage("S2", 5000, "1.2345678901")),
            ),
        ),
    )
    summary = do_import(database, fx.write_text(tmp_path / "ugc.tsv", text_))
    # 100.00 pro rata 3:1 = 75.00 + 25.00, plus the clip's own 1.2345678901
    assert summary.totals == {"USD": usd("101.2345678901")} and summary.lines == 3
    lines = stored_lines(database, summary.import_id)
    assert sorted((x.usage, line_amount(x), x.quantity) for x in lines) == [
        ("stream", usd("25.00"), 1),
        ("stream", usd("75.00"), 3),
        ("ugc", usd("1.2345678901"), 5000),
    ]


def test_distrokid_totals_corrections_and_hyphenated_isrcs(
    database: Database, tmp_path: Path
) -> None:
    load_examples(database, agreements=False)
    path = fx.write_distrokid(tmp_path / "distrokid.tsv")
    # two sale months (2026-10 and a -9.84 correction for 2026-09): the period must be given
    with pytest.raises(InputError) as err:
        do_import(database, path)
    assert any(p.field == "period" for p in err.value.problems)
    summary = do_import(database, path, period="2026-10")
    # 9875.33911804 + 2083.8740112 + 1682.68322 + 361.3236 + 3532.80 + 160.448 - 9.84
    assert summary.totals == {"USD": usd("17686.62794924")}
    assert summary.ledger_total == usd("17686.62794924") and summary.lines == 7
    lines = stored_lines(database, summary.import_id)
    assert [x.line_no for x in lines] == [2, 3, 4, 5, 6, 7, 8]  # line 1 is the header
    correction = [x for x in lines if x.usage_period == "2026-09"]
    assert len(correction) == 1 and line_amount(correction[0]) == usd("-9.84")
    assert correction[0].quantity == -1200
    assert {x.isrc for x in lines} == {"USRW12600001", "USRW12600003"}  # USRW1-26-00003
    assert summary.suspense_lines == 0
    assert_books_sound(database)


def test_tunecore_keeps_original_amount_currency_and_rate(
    database: Database, tmp_path: Path
) -> None:
    load_examples(database, agreements=False)
    summary = do_import(database, fx.write_tunecore(tmp_path / "tunecore.csv"))
    # Total Earned: 2157.5865 + 3056.7820 + 153.2626 = 5367.6311 USD
    assert summary.totals == {"USD": usd("5367.6311")}
    assert summary.ledger_total == usd("5367.6311")
    lines = stored_lines(database, summary.import_id)
    originals = sorted(
        (D(x.original_amount), x.original_currency, D(x.fx_rate), line_amount(x)) for x in lines
    )
    assert originals == [
        (D("209.92"), "CAD", D("0.7301"), usd("153.2626")),
        (D("1995.548"), "EUR", D("1.0812"), usd("2157.5865")),
        (D("2827.2124"), "EUR", D("1.0812"), usd("3056.7820")),
    ]


def test_mapped_latin1_csv_converted_with_the_rates_file(
    database: Database, tmp_path: Path
) -> None:
    """Acme Digital, EUR at 1.0812; products of 4 and 4 decimals are exact (no rounding):
    48.1234 * 1.0812 = 52.03102008;  9.99 * 1.0812 = 10.801188;  -0.16 * 1.0812 = -0.172992
    total 57.9534 EUR -> 62.65921608 USD; FRZ032600099 is not in the catalog: -0.172992 suspense.
    """
    load_examples(database, agreements=False)
    data = fx.write_mapped(tmp_path / "acme.csv")
    mapping = fx.write_mapping(tmp_path / "acme.yaml")
    rates = fx.write_rates(tmp_path / "rates.csv")
    summary = do_import(database, data, mapping_path=mapping, period="2026-10", fx_path=rates)
    assert summary.totals == {"EUR": Money(fx.MAPPED_TOTAL_EUR, "EUR")}
    assert summary.ledger_total == usd("62.65921608")
    assert summary.suspense_lines == 1 and summary.suspense_amount == usd("-0.172992")
    lines = stored_lines(database, summary.import_id)
    assert [line_amount(x) for x in lines] == [
        usd("52.03102008"),
        usd("10.801188"),
        usd("-0.172992"),
    ]
    assert [x.line_no for x in lines] == [3, 4, 5]  # title line, header, then data
    assert [x.usage for x in lines] == ["stream", "download", "stream"]
    assert account_balance(database, accounts.SUSPENSE) == usd("0.172992")
    assert_books_sound(database)


QUIRKS: tuple[dict[str, Any], ...] = (
    {"encoding": "utf-16-le"},
    {"encoding": "utf-16-be"},
    {"bom": True, "crlf": True},
    {"gz": True, "bom": True},
    {"encoding": "latin-1"},
)


def test_encodings_and_line_ends_import_the_same_figures(
    database: Database, tmp_path: Path
) -> None:
    """UTF-16 LE/BE with BOM, UTF-8 BOM + CRLF, gzip, Latin-1 (ASCII content): same figures."""
    load_examples(database, agreements=False)
    for i, quirks in enumerate(QUIRKS):
        path = fx.write_distrokid(tmp_path / f"dk{i}.tsv", **quirks)
        summary = do_import(database, path, period="2026-10")
        assert summary.totals == {"USD": usd("17686.62794924")}, quirks
        assert summary.lines == 7 and summary.import_id == i + 1, quirks
    assert account_balance(database, accounts.receivable("DistroKid")) == usd(
        5 * D("17686.62794924")
    )


# ---------------------------------------------------------------------------
# Duplicates and --replace


def test_duplicate_import_is_refused_naming_the_earlier_one(
    database: Database, tmp_path: Path
) -> None:
    load_examples(database, agreements=False)
    path = fx.write_sample_dsr_us(tmp_path)
    first = do_import(database, path)
    before = table_counts(database)
    with pytest.raises(Conflict) as err:
        do_import(database, path)
    assert f"import #{first.import_id}" in str(err.value)
    assert table_counts(database) == before
    # the same content under another name is the same file
    copy = tmp_path / "renamed.tsv"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(Conflict, match=f"import #{first.import_id}"):
        do_import(database, copy)
    assert table_counts(database) == before


def test_replace_reverses_what_the_earlier_import_posted(
    database: Database, tmp_path: Path
) -> None:
    load_examples(database, agreements=False)
    rates = fx.write_rates(tmp_path / "rates.csv")
    path = fx.write_sample_dsr_gb(tmp_path)
    first = do_import(database, path, fx_path=rates)
    second = do_import(database, path, fx_path=rates, replace=True)
    assert second.replaced_imports == (first.import_id,)
    assert first.import_id is not None and second.import_id is not None
    with database.read() as s:
        infos = {i.id: i for i in list_imports(s)}
        reversal = s.execute(
            text("SELECT id FROM journal_entry WHERE reverses_id = :e"), {"e": first.entry_id}
        ).all()
    assert infos[first.import_id].status == "superseded"
    assert infos[first.import_id].superseded_by == second.import_id
    assert infos[second.import_id].status == "posted"
    assert len(reversal) == 1
    # counted once, not twice
    assert account_balance(database, accounts.receivable("StreamCo")) == usd("8203.68008")
    assert account_balance(database, accounts.SUSPENSE) == usd("-211.5805250829")
    assert account_balance(database, accounts.UNDISTRIBUTED) == usd("-7992.0995549171")
    with database.read() as s:
        assert [i.import_id for i in list_suspense(s)] == [second.import_id]
    assert_books_sound(database)


def test_lines_are_stored_alike_whatever_the_batch_sizes(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks and statements (several full ones and a partial one) store what one
    # statement does: converted amounts, suspense, NULLs, SU03 lines, every column.
    load_examples(database, agreements=False)
    rates = fx.write_rates(tmp_path / "rates.csv")
    text_ = fx.dsr_text(
        [
            fx.Summary("S1", "SubscriptionModel", "US", "USD", "100.00"),
            fx.Summary("S2", "AdvertisementSupportedModel", "DE", "EUR", "-7.77"),
            fx.Summary("S3", "UserGeneratedContentModel", "GB", "GBP", "0.00", total_usages=0),
        ],
        [
            fx.Block(
                "USRW12600001",
                "A",
                (
                    fx.Usage("S1", 3),
                    fx.Usage("S2", 1),
                    fx.UgcUsage("S3", 5000, "1.2345678901"),
                    fx.Usage("S1", 7, "Radio"),
                ),
            ),
            fx.Block(fx.UNKNOWN_ISRC, "B", (fx.Usage("S2", 2), fx.UgcUsage("S3", 10, "0.5"))),
            fx.Block("not an isrc", "C", (fx.Usage("S1", 1), fx.Usage("S2", 5))),
        ],
    )
    path = fx.write_text(tmp_path / "mixed.tsv", text_)
    with monkeypatch.context() as patch:
        patch.setattr(imports, "_CHUNK", 3)
        patch.setattr(bulk, "ROWS_PER_STATEMENT", 2)
        small = do_import(database, path, fx_path=rates)
    whole = do_import(database, path, fx_path=rates, replace=True)

    def kept(import_id: int | None) -> list[tuple[Any, ...]]:
        fields = [f for f in RevenueLine.model_fields if f not in {"id", "import_id"}]
        return [tuple(getattr(x, f) for f in fields) for x in stored_lines(database, import_id)]

    assert kept(small.import_id) == kept(whole.import_id)
    assert len(kept(whole.import_id)) == whole.lines == 8
    currencies = {x.original_currency for x in stored_lines(database, whole.import_id)}
    assert currencies == {None, "EUR", "GBP"}
    assert whole.suspense_lines == small.suspense_lines == 4
    assert (small.totals, small.ledger_total) == (whole.totals, whole.ledger_total)


def test_a_batch_refused_while_lines_are_stored_leaves_nothing(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lines are stored in batches while the file is read on: an error storing one
    # reaches the caller, and the transaction keeps nothing of the import.
    load_examples(database, agreements=False)
    path = fx.write_sample_dsr_us(tmp_path)
    before = table_counts(database)
    store = imports._LineStore.write
    calls: list[int] = []

    def refuse_the_second(self: Any, rows: list[Any]) -> None:
        calls.append(len(rows))
        if len(calls) == 2:
            raise Conflict("revenue lines refused by the database: disk I/O error")
        store(self, rows)

    monkeypatch.setattr(imports, "_CHUNK", 1)
    monkeypatch.setattr(imports._LineStore, "write", refuse_the_second)
    with pytest.raises(Conflict, match="disk I/O error"):
        do_import(database, path)
    assert len(calls) >= 2
    assert table_counts(database) == before
    assert_books_sound(database)


# ---------------------------------------------------------------------------
# Currency


def test_missing_rate_is_refused_never_guessed(database: Database, tmp_path: Path) -> None:
    load_examples(database, agreements=False)
    path = fx.write_sample_dsr_gb(tmp_path)
    before = table_counts(database)
    with pytest.raises(InputError) as err:
        do_import(database, path)  # no rates file at all
    assert [p.field for p in err.value.problems] == ["currency"]
    assert "GBP" in str(err.value)
    no_gbp = fx.write_rates(tmp_path / "r1.csv", "period,currency,rate\n2026-10,EUR,1.0812\n")
    with pytest.raises(InputError, match="GBP"):
        do_import(database, path, fx_path=no_gbp)
    other_month = fx.write_rates(tmp_path / "r2.csv", "period,currency,rate\n2026-09,GBP,1.2\n")
    with pytest.raises(InputError, match="2026-09"):
        do_import(database, path, fx_path=other_month)
    assert table_counts(database) == before


# ---------------------------------------------------------------------------
# Bad input: every problem at once, nothing stored


def test_bad_tabular_lines_all_reported_and_nothing_stored(
    database: Database, tmp_path: Path
) -> None:
    load_examples(database, agreements=False)
    rows = [
        fx.distrokid_row(earnings="12.5x"),  # line 2: number
        fx.distrokid_row(country="ZZ"),  # line 3: territory
        fx.distrokid_row(sale_month="2026-13"),  # line 4: date
        fx.distrokid_row(earnings="1.5"),  # line 5: fine
        fx.distrokid_row()[:-3],  # line 6: column count
        fx.distrokid_row(quantity="ten"),  # line 7: quantity
        fx.distrokid_row(earnings="0.12345678901"),  # line 8: more than 10 decimals
    ]
    path = fx.write_distrokid(tmp_path / "bad.tsv", rows)
    before = table_counts(database)
    with pytest.raises(InputError) as err:
        do_import(database, path, period="2026-10")
    where = {p.line for p in err.value.problems}
    assert where == {2, 3, 4, 6, 7, 8}, err.value.lines()
    for p in err.value.problems:
        assert p.file.endswith("bad.tsv"), p
        if p.line != 6:  # a short line has no one field to blame; the others name theirs
            assert p.field and str(p).startswith(f"{p.file}:{p.line}: {p.field}: "), p
    assert table_counts(database) == before


def test_bad_dsr_lines_and_footer_all_reported_and_nothing_stored(
    database: Database, tmp_path: Path
) -> None:
    load_examples(database, agreements=False)
    blocks = (
        fx.Block("USRW12600001", "Walk My Walk", (fx.Usage("S1", "12x"), fx.Usage("S1", 100))),
        fx.Block("USRW12600002", "Club Mix", (fx.Usage("S1", 50),)),
    )
    text_ = fx.dsr_text(
        (fx.Summary("S1", "SubscriptionModel", "US", "USD", "10.0O", total_usages=999),),
        blocks,
        foot={"NumberOfLinesInFile": 3},
    )
    path = fx.write_text(tmp_path / "bad_dsr.tsv", text_)
    before = table_counts(database)
    with pytest.raises(InputError) as err:
        do_import(database, path)
    problems = err.value.problems
    assert len(problems) >= 3, err.value.lines()  # streams, NetRevenue, FOOT (all at once)
    assert all(p.file.endswith("bad_dsr.tsv") for p in problems)
    assert any(p.line is not None and p.field and "stream" in p.field.lower() for p in problems)
    assert any("foot" in str(p).lower() or "lines" in str(p).lower() for p in problems)
    assert table_counts(database) == before


# ---------------------------------------------------------------------------
# Suspense


def test_malformed_and_unknown_isrcs_go_to_suspense_with_the_reason(
    database: Database, tmp_path: Path
) -> None:
    load_examples(database, agreements=False)
    rows = [
        fx.distrokid_row(earnings="10.00"),
        fx.distrokid_row(isrc="NOT-AN-ISRC", earnings="2.50"),
        fx.distrokid_row(isrc="QZK6H2600014", earnings="0.0000000001"),
    ]
    summary = do_import(database, fx.write_distrokid(tmp_path / "dk.tsv", rows))
    assert summary.suspense_lines == 2 and summary.suspense_amount == usd("2.5000000001")
    with database.read() as s:
        items = {i.reason: i for i in list_suspense(s)}
    assert set(items) == {REASON_MALFORMED, REASON_UNKNOWN}
    assert items[REASON_MALFORMED].amount == usd("2.50") and items[REASON_MALFORMED].first_line == 3
    assert (
        items[REASON_UNKNOWN].amount == usd("0.0000000001")
        and items[REASON_UNKNOWN].first_line == 4
    )
    assert not any(i.resolvable for i in items.values())
    assert account_balance(database, accounts.SUSPENSE) == usd("-2.5000000001")
    assert account_balance(database, accounts.UNDISTRIBUTED) == usd("-10.00")
    # nothing resolvable yet: resolve posts nothing
    with database.write() as s:
        nothing = resolve_suspense(s)
    assert nothing.entry_id is None and nothing.remaining_lines == 2
    assert_books_sound(database)


EXTRA_TRACK = """\
parties:
  - {id: rust-label, name: Rust Label Ltd., kind: company, payout_currency: USD, operator: true}
tracks:
  - {isrc: QZK6H2600014, title: Chaos Avenue, display_artist: Lena & The Machines}
contributions:
  - {isrc: QZK6H2600014, party: rust-label, role: label}
"""


def test_suspense_resolve_after_the_catalog_learns_the_track(
    database: Database, tmp_path: Path
) -> None:
    load_examples(database, agreements=False)
    rates = fx.write_rates(tmp_path / "rates.csv")
    summary = do_import(database, fx.write_sample_dsr_gb(tmp_path), fx_path=rates)
    with database.write() as s:
        documents.load_catalog(s, EXTRA_TRACK, "extra.yaml")
    with database.read() as s:
        (item,) = list_suspense(s)
    assert item.resolvable and item.isrc == fx.UNKNOWN_ISRC
    assert item.import_id == summary.import_id and item.amount == usd("211.5805250829")
    with database.write() as s:
        released = resolve_suspense(s)
    assert released.amount == usd("211.5805250829") and released.lines == 1
    assert released.remaining_lines == 0 and released.period == OCTOBER_2026
    assert account_balance(database, accounts.SUSPENSE) == usd("0")
    assert account_balance(database, accounts.UNDISTRIBUTED) == usd("-8203.68008")
    with database.read() as s:
        assert list_suspense(s) == []
    with database.write() as s:  # a second resolve has nothing to do
        assert resolve_suspense(s).entry_id is None
    assert_books_sound(database)


# ---------------------------------------------------------------------------
# Dry run and closed periods


def test_dry_run_summarises_and_stores_nothing(database: Database, tmp_path: Path) -> None:
    load_examples(database, agreements=False)
    before = table_counts(database)
    rates = fx.write_rates(tmp_path / "rates.csv")
    summary = do_import(database, fx.write_sample_dsr_gb(tmp_path), fx_path=rates, dry_run=True)
    assert summary.dry_run and summary.import_id is None and summary.entry_id is None
    assert summary.ledger_total == usd("8203.68008") and summary.suspense_lines == 1
    assert table_counts(database) == before


def test_import_into_a_closed_period_is_refused(database: Database, tmp_path: Path) -> None:
    load_examples(database, agreements=False)
    with database.write() as s:
        periods.close(s, OCTOBER_2026)
    before = table_counts(database)
    with pytest.raises(PeriodClosed):
        do_import(database, fx.write_sample_dsr_us(tmp_path))
    assert table_counts(database) == before


def test_replace_after_resolve_leaves_other_imports_released(
    database: Database, tmp_path: Path
) -> None:
    """QA B5: one suspense release covering two imports; replacing one must not put the
    other's revenue back into suspense (where no list would show it)."""
    load_examples(database, agreements=False)
    a = fx.write_distrokid(
        tmp_path / "a.tsv", (fx.distrokid_row(isrc=fx.UNKNOWN_ISRC, earnings="10.00"),)
    )
    b = fx.write_distrokid(
        tmp_path / "b.tsv", (fx.distrokid_row(isrc=fx.UNKNOWN_ISRC, earnings="7.00"),)
    )
    do_import(database, a)
    do_import(database, b)
    with database.write() as s:
        documents.load_catalog(s, EXTRA_TRACK, "extra.yaml")
    with database.write() as s:
        assert resolve_suspense(s).amount == usd("17.00")
    replaced = do_import(database, a, replace=True)
    assert replaced.replaced_imports == (1,) and replaced.suspense_lines == 0
    # A's 10.00 (now a known track) and B's released 7.00 are undistributed; nothing held
    assert account_balance(database, accounts.UNDISTRIBUTED) == usd("-17.00")
    assert account_balance(database, accounts.SUSPENSE) == usd("0")
    with database.read() as s:
        assert list_suspense(s) == []
    assert_books_sound(database)
