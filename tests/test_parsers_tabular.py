"""DistroKid, TuneCore and mapped CSV/TSV: real files' quirks, exact sums, every bad row."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledger.domain.errors import InputError
from ledger.domain.periods import Period
from ledger.parsers import detect_format, open_revenue_file, parse_mapping
from tests.fixtures_revenue import (
    DISTROKID_HEADER,
    DISTROKID_ROWS,
    EXPECTED_TOTALS,
    MAPPED_HEADER,
    MAPPED_ROWS,
    MAPPED_TOTAL_EUR,
    MAPPING_YAML,
    amounts,
    distrokid_row,
    distrokid_text,
    mapped_text,
    sample_dsr_us_text,
    tunecore_row,
    tunecore_text,
    write_distrokid,
    write_mapped,
    write_text,
    write_tunecore,
)


def totals(lines: list) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in lines:
        out[line.currency] = out.get(line.currency, Decimal(0)) + line.amount
    return out


def problems(path: Path, **kwargs: object) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(InputError) as caught:
        open_revenue_file(path, **kwargs).validate()  # type: ignore[arg-type]
    assert all(p.file == str(path) for p in caught.value.problems)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


# ---------------------------------------------------------------------------
# DistroKid


def test_distrokid_sample_sums_to_its_earnings_column(tmp_path: Path) -> None:
    parsed = open_revenue_file(write_distrokid(tmp_path / "dk.tsv"))
    info = parsed.validate()
    lines = list(parsed)
    assert info.format == "distrokid"
    assert info.source == "DistroKid"
    assert totals(lines) == amounts(info.totals) == EXPECTED_TOTALS["distrokid"]
    assert sum(Decimal(r[13]) for r in DISTROKID_ROWS) == EXPECTED_TOTALS["distrokid"]["USD"]
    assert info.periods == ("2026-09", "2026-10")
    assert info.period is None  # lines carry their own months
    assert [ln.line_no for ln in lines] == [2, 3, 4, 5, 6, 7, 8]
    assert [ln.usage for ln in lines] == [
        "stream",
        "stream",
        "stream",
        "ugc",
        "download",
        "stream",
        "stream",
    ]
    assert [ln.source for ln in lines][:4] == [
        "Apple Music",
        "Apple Music",
        "YouTube (Ads)",
        "TikTok",
    ]


def test_distrokid_correction_line_keeps_its_own_earlier_month(tmp_path: Path) -> None:
    lines = list(open_revenue_file(write_distrokid(tmp_path / "dk.tsv")))
    correction = lines[-1]
    assert (correction.period, correction.amount, correction.quantity) == (
        "2026-09",
        Decimal("-9.84"),
        -1200,
    )


def test_distrokid_hyphenated_isrc_is_normalised(tmp_path: Path) -> None:
    lines = list(open_revenue_file(write_distrokid(tmp_path / "dk.tsv")))
    assert (lines[5].isrc, lines[5].isrc_valid) == ("USRW12600003", True)


def test_distrokid_eight_decimals_kept_exactly(tmp_path: Path) -> None:
    lines = list(open_revenue_file(write_distrokid(tmp_path / "dk.tsv")))
    assert lines[0].amount == Decimal("9875.33911804")


def test_distrokid_unknown_store_usage_becomes_other(tmp_path: Path) -> None:
    path = write_distrokid(tmp_path / "dk.tsv", [distrokid_row(source_type="Creator Tools")])
    assert [ln.usage for ln in open_revenue_file(path)] == ["other"]


@pytest.mark.parametrize(
    "quirks",
    [
        {"bom": True},
        {"crlf": True},
        {"encoding": "utf-16-le"},
        {"encoding": "utf-16-be"},
        {"gz": True},
        {"bom": True, "crlf": True, "gz": True},
    ],
)
def test_encodings_and_line_ends_give_the_same_lines(tmp_path: Path, quirks: dict) -> None:
    reference = list(open_revenue_file(write_distrokid(tmp_path / "plain.tsv")))
    path = write_distrokid(tmp_path / "quirky.tsv", **quirks)
    assert detect_format(path) == "distrokid"
    assert list(open_revenue_file(path)) == reference


def test_non_ascii_titles_survive_utf16(tmp_path: Path) -> None:
    rows = [distrokid_row(title="Café Señorita ♪")]
    path = write_distrokid(tmp_path / "dk.tsv", rows, encoding="utf-16-le")
    assert [ln.title for ln in open_revenue_file(path)] == ["Café Señorita ♪"]


def test_undeclared_latin1_is_refused_naming_the_line(tmp_path: Path) -> None:
    rows = [distrokid_row(), distrokid_row(), distrokid_row(title="Café")]
    path = write_distrokid(tmp_path / "dk.tsv", rows, encoding="latin-1")
    [(line, _, message)] = problems(path)
    assert line == 4
    assert "latin-1" in message


def test_distrokid_bad_rows_are_all_reported(tmp_path: Path) -> None:
    rows = [
        distrokid_row(earnings="1,234.56"),  # thousands separator
        distrokid_row(country="XQ"),  # territory
        distrokid_row(sale_month="2026-13"),  # period
        distrokid_row(quantity="12.5"),  # quantity
        distrokid_row(earnings="abc"),  # number
        distrokid_row()[:-2],  # column count
        distrokid_row(earnings="0.00000000001"),  # 11 decimals
        distrokid_row(isrc="garbage"),  # NOT an error: suspense
    ]
    found = problems(write_distrokid(tmp_path / "dk.tsv", rows))
    assert [(line, field) for line, field, _ in found] == [
        (2, "Earnings (USD)"),
        (3, "Country of Sale"),
        (4, "Sale Month"),
        (5, "Quantity"),
        (6, "Earnings (USD)"),
        (7, None),
        (8, "Earnings (USD)"),
    ]
    assert "thousands separator" in found[0][2]
    assert "13 fields, but the header has 15" in found[5][2]
    assert "more than 10 decimal places" in found[6][2]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    header = [h for h in DISTROKID_HEADER if h != "Country of Sale"]
    text = distrokid_text([], header=header) + "x\n"
    path = write_text(tmp_path / "dk.tsv", text)
    found = problems(path, fmt="distrokid")
    assert (1, "territory") in {(ln, f) for ln, f, _ in found}
    assert any("'Country of Sale' not found" in m for _, _, m in found)


def test_blank_trailing_lines_are_ignored(tmp_path: Path) -> None:
    path = write_text(tmp_path / "dk.tsv", distrokid_text() + "\n\n")
    assert len(list(open_revenue_file(path))) == len(DISTROKID_ROWS)


# ---------------------------------------------------------------------------
# TuneCore


def test_tunecore_sample_amount_is_total_earned_with_the_conversion_kept(tmp_path: Path) -> None:
    parsed = open_revenue_file(write_tunecore(tmp_path / "tc.csv"))
    lines = list(parsed)
    assert parsed.info.format == "tunecore"
    assert totals(lines) == EXPECTED_TOTALS["tunecore"]
    first = lines[0]
    assert (first.amount, first.currency) == (Decimal("2157.5865"), "USD")
    assert (first.original_amount, first.original_currency, first.fx_rate) == (
        Decimal("1995.548"),
        "EUR",
        Decimal("1.0812"),
    )
    assert (lines[2].original_currency, lines[2].fx_rate) == ("CAD", Decimal("0.7301"))
    assert parsed.info.period == "2026-10"


def test_tunecore_conversion_that_does_not_add_up_is_refused(tmp_path: Path) -> None:
    rows = [tunecore_row(net="10.00", rate="1.0812", earned="10.8200")]
    [(line, field, message)] = problems(write_tunecore(tmp_path / "tc.csv", rows))
    assert (line, field) == (2, "Total Earned")
    assert "does not add up" in message


def test_tunecore_unknown_currency(tmp_path: Path) -> None:
    rows = [tunecore_row(net_currency="EUX")]
    [(line, field, _)] = problems(write_tunecore(tmp_path / "tc.csv", rows))
    assert (line, field) == (2, "Net Sales Currency")


def test_tunecore_quoted_fields_with_commas(tmp_path: Path) -> None:
    rows = [tunecore_row(title="Walk, My Walk")]
    lines = list(open_revenue_file(write_tunecore(tmp_path / "tc.csv", rows)))
    assert lines[0].title == "Walk, My Walk"


# ---------------------------------------------------------------------------
# Mapped CSV


def test_mapping_file_reads_a_new_source_without_code(tmp_path: Path) -> None:
    mapping = parse_mapping(MAPPING_YAML, "acme.yaml")
    path = write_mapped(tmp_path / "acme.csv")
    assert detect_format(path) == "csv"
    parsed = open_revenue_file(path, mapping=mapping)
    lines = list(parsed)
    assert parsed.info.source == "Acme Digital"
    assert parsed.info.format == "csv"
    assert totals(lines) == {"EUR": MAPPED_TOTAL_EUR}
    assert [ln.line_no for ln in lines] == [3, 4, 5]
    assert [ln.usage for ln in lines] == ["stream", "download", "stream"]
    assert lines[0].amount == Decimal("48.1234")
    assert lines[2].title == "Café Noir"
    assert lines[2].period == "2026-09"
    assert lines[1].territory == "BE"


def test_mapped_constants_and_period_given_at_import(tmp_path: Path) -> None:
    mapping = parse_mapping(
        "name: Tiny\ncolumns: {isrc: isrc, amount: amount, quantity: plays}\n"
        "constants: {currency: GBP, usage: radio, territory: GB}\n",
        "tiny.yaml",
    )
    path = write_text(tmp_path / "t.csv", "isrc,plays,amount\nGBAYE2600001,10,0.5\n")
    with pytest.raises(InputError, match="no period column"):
        open_revenue_file(path, mapping=mapping).validate()
    [line] = list(open_revenue_file(path, mapping=mapping, period=Period(2026, 10)))
    assert (line.currency, line.usage, line.territory, line.period, line.source) == (
        "GBP",
        "radio",
        "GB",
        "2026-10",
        "Tiny",
    )


def test_mapped_unknown_usage_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    mapping = parse_mapping(MAPPING_YAML, "acme.yaml")
    rows = [(*MAPPED_ROWS[0][:4], "Sonnerie", *MAPPED_ROWS[0][5:])]
    [(line, field, message)] = problems(write_mapped(tmp_path / "a.csv", rows), mapping=mapping)
    assert (line, field) == (3, "Type")
    assert "usage_map" in message


def test_mapped_decimal_comma_refuses_a_dot(tmp_path: Path) -> None:
    mapping = parse_mapping(MAPPING_YAML, "acme.yaml")
    rows = [(*MAPPED_ROWS[0][:6], "1.234,56", MAPPED_ROWS[0][7])]
    [(_, field, message)] = problems(write_mapped(tmp_path / "a.csv", rows), mapping=mapping)
    assert field == "Montant"
    assert "decimal separator" in message


def test_mapped_tsv_with_utf16(tmp_path: Path) -> None:
    mapping = parse_mapping(
        MAPPING_YAML.replace('delimiter: ";"', "delimiter: tab").replace(
            "encoding: latin-1", "encoding: utf-16"
        ),
        "m.yaml",
    )
    text = mapped_text(delimiter="\t")
    path = write_text(tmp_path / "a.tsv", text, encoding="utf-16-be")
    assert totals(list(open_revenue_file(path, mapping=mapping))) == {"EUR": MAPPED_TOTAL_EUR}


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("columns: {amount: A, quantity: Q, territory: T, usage: U, currency: C}", "columns.isrc"),
        ("columns: {isrc: I, amount: A, quantity: Q, territory: T, usage: U}", "columns.currency"),
        (
            "columns: {isrc: I, amount: A, quantity: Q, territory: T, usage: U, currency: C}\n"
            "constants: {currency: EUR}",
            "constants.currency",
        ),
        (
            "columns: {isrc: I, amount: A, quantity: Q, territory: T, usage: U}\n"
            "constants: {currency: EURO}",
            "constants.currency",
        ),
        (
            "columns: {isrc: I, amount: A, quantity: Q, territory: T, usage: U, currency: C, nope: N}",
            "columns.nope",
        ),
        (
            "columns: {isrc: I, amount: A, quantity: Q, territory: T, usage: U, currency: C}\n"
            "delimiter: ';;'",
            "delimiter",
        ),
        (
            "columns: {isrc: I, amount: A, quantity: Q, territory: T, usage: U, currency: C}\n"
            "usage_map: {Foo: banana}",
            "usage_map.Foo",
        ),
        (
            "columns: {isrc: I, amount: A, quantity: Q, territory: T, usage: U, currency: C,"
            " fx_rate: R}",
            "columns",
        ),
        (
            "columns: {isrc: I, amount: A, quantity: Q, territory: T, usage: U, currency: C}\n"
            "encoding: klingon",
            "encoding",
        ),
        ("colums: {}", "colums"),
    ],
)
def test_mapping_file_problems_are_named(yaml_text: str, key: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_mapping(yaml_text, "m.yaml")
    assert key in {p.field for p in caught.value.problems}
    assert all(p.file == "m.yaml" for p in caught.value.problems)


def test_mapping_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(InputError) as caught:
        parse_mapping("columns:\n  isrc: [unclosed\n", "m.yaml")
    assert caught.value.problems[0].line is not None


def test_csv_without_mapping_is_refused_clearly(tmp_path: Path) -> None:
    path = write_text(tmp_path / "x.csv", ";".join(MAPPED_HEADER) + "\n")
    with pytest.raises(InputError, match="mapping"):
        open_revenue_file(path)


# ---------------------------------------------------------------------------
# Format detection


@pytest.mark.parametrize(
    ("writer", "expected"),
    [
        (lambda p: write_distrokid(p), "distrokid"),
        (lambda p: write_tunecore(p), "tunecore"),
        (lambda p: write_text(p, sample_dsr_us_text(), gz=True), "dsr"),
        (lambda p: write_text(p, tunecore_text(), encoding="utf-16-le"), "tunecore"),
        (lambda p: write_mapped(p), "csv"),
    ],
)
def test_detect_format_by_content(tmp_path: Path, writer, expected: str) -> None:
    path = tmp_path / "misleading_name.dsr.txt"
    writer(path)
    assert detect_format(path) == expected


def test_unknown_format_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a format"):
        open_revenue_file(write_distrokid(tmp_path / "dk.tsv"), fmt="xlsx")


def test_mapped_fx_trio_is_kept_and_checked_unless_told_not_to(tmp_path: Path) -> None:
    base = (
        "columns: {isrc: isrc, amount: usd, quantity: n, original_amount: eur,"
        " original_currency: cur, fx_rate: rate, period: month}\n"
        "constants: {currency: USD, usage: stream, territory: DE}\nname: Fx Co\n"
    )
    path = write_text(
        tmp_path / "fx.csv",
        "isrc,n,eur,cur,rate,usd,month\nDEA122600001,5,10.00,EUR,1.0812,10.9000,2026-10\n",
    )
    [(line, field, _)] = problems(path, mapping=parse_mapping(base, "m.yaml"))
    assert (line, field) == (2, "usd")
    [ln] = list(open_revenue_file(path, mapping=parse_mapping(base + "check_fx: false\n", "m")))
    assert (ln.amount, ln.original_amount, ln.original_currency, ln.fx_rate) == (
        Decimal("10.9"),
        Decimal("10"),
        "EUR",
        Decimal("1.0812"),
    )
