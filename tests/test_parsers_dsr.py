"""DDEX DSR parser: exact allocation, the file's own checks, every bad line reported."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.allocation import allocate_units
from ledger.domain.errors import InputError
from ledger.domain.money import to_units
from ledger.domain.periods import Period
from ledger.parsers import DsrFile, open_revenue_file
from ledger.parsers.base import line_of, record_of
from ledger.parsers.dsr_spill import Spill
from tests.fixtures_revenue import (
    EXPECTED_TOTALS,
    GB_BLOCKS,
    GB_SUMMARIES,
    UNKNOWN_ISRC,
    US_BLOCKS,
    US_SUMMARIES,
    Block,
    Summary,
    UgcUsage,
    Usage,
    amounts,
    dsr_text,
    sample_dsr_us_text,
    write_sample_dsr_gb,
    write_sample_dsr_us,
    write_text,
)


def totals(lines: list) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in lines:
        out[line.currency] = out.get(line.currency, Decimal(0)) + line.amount
    return out


def problems_of(path: Path, **kwargs: object) -> list[tuple[int | None, str | None, str]]:
    parsed = open_revenue_file(path, fmt="dsr", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InputError) as caught:
        parsed.validate()
    for p in caught.value.problems:
        assert p.file == str(path)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def write_dsr(tmp_path: Path, text: str, name: str = "report.tsv") -> Path:
    return write_text(tmp_path / name, text)


# ---------------------------------------------------------------------------
# The sample files


def test_us_sample_sums_to_its_summaries_net_revenue(tmp_path: Path) -> None:
    parsed = open_revenue_file(write_sample_dsr_us(tmp_path))
    info = parsed.validate()
    lines = list(parsed)
    assert info.format == "dsr"
    assert info.source == "StreamCo"
    assert info.period == "2026-10"
    assert info.reference == "SCQ-US-202610"
    assert amounts(info.declared_totals) == EXPECTED_TOTALS["dsr_us"]
    assert totals(lines) == EXPECTED_TOTALS["dsr_us"]
    assert info.line_count == len(lines) == 7
    assert [ln.line_no for ln in lines] == [11, 12, 13, 16, 17, 20, 21]
    assert {ln.isrc for ln in lines} == {"USRW12600001", "USRW12600002", "USRW12600003"}
    assert all(ln.usage == "stream" and ln.territory == "US" for ln in lines)
    assert lines[0].detail == "S1 SubscriptionModel"
    assert lines[2].detail == "S2 AdvertisementSupportedModel"
    assert lines[0].title == "Walk My Walk"


def test_gb_sample_keeps_the_isrc_that_is_not_in_the_catalog(tmp_path: Path) -> None:
    parsed = open_revenue_file(write_sample_dsr_gb(tmp_path))
    lines = list(parsed)
    assert totals(lines) == EXPECTED_TOTALS["dsr_gb"]
    unknown = [ln for ln in lines if ln.isrc == UNKNOWN_ISRC]
    assert len(unknown) == 1
    assert unknown[0].isrc_valid  # well-formed; the import service finds it is not catalogued
    assert unknown[0].quantity == 44698
    assert unknown[0].line_no == 14


def test_each_summary_is_allocated_exactly_as_allocate_units(tmp_path: Path) -> None:
    lines = list(open_revenue_file(write_sample_dsr_us(tmp_path)))
    for summary in US_SUMMARIES:
        mine = [ln for ln in lines if ln.detail and ln.detail.split()[0] == summary.sid]
        expected = allocate_units(
            to_units(Decimal(summary.net_revenue)), {ln.line_no: ln.quantity for ln in mine}
        )
        assert {ln.line_no: to_units(ln.amount) for ln in mine} == expected


def test_gzipped_file_gives_the_same_lines_and_content_hash(tmp_path: Path) -> None:
    plain = open_revenue_file(write_sample_dsr_us(_mk(tmp_path / "a")))
    packed = open_revenue_file(write_sample_dsr_us(_mk(tmp_path / "b"), gz=True))
    assert list(plain) == list(packed)
    assert plain.info.sha256 == packed.info.sha256
    assert plain.info.physical_lines == packed.info.physical_lines == 23


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_crlf_and_bom_are_accepted(tmp_path: Path) -> None:
    path = write_text(tmp_path / "x.tsv", sample_dsr_us_text(), bom=True, crlf=True)
    assert totals(list(open_revenue_file(path))) == EXPECTED_TOTALS["dsr_us"]


def test_detected_by_content_not_name(tmp_path: Path) -> None:
    path = write_text(tmp_path / "statement.csv", sample_dsr_us_text())
    assert open_revenue_file(path).format == "dsr"


def test_headings_decide_the_columns(tmp_path: Path) -> None:
    text = sample_dsr_us_text()
    # Swap NumberOfStreams and UseType in the SU02 heading and in every SU02 line.
    out = []
    for line in text.splitlines():
        fields = line.split("\t")
        if fields[0] in {"#SU02.02", "SU02.02"}:
            fields[7], fields[10] = fields[10], fields[7]
        out.append("\t".join(fields))
    path = write_dsr(tmp_path, "\n".join(out) + "\n")
    assert list(open_revenue_file(path)) == list(open_revenue_file(write_sample_dsr_us(tmp_path)))


# ---------------------------------------------------------------------------
# Allocation: exact, the one rule, any shape


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cents=st.integers(min_value=-(10**9), max_value=10**11),
    streams=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=25),
    blocks=st.integers(min_value=1, max_value=4),
)
def test_allocation_matches_allocate_units(
    tmp_path: Path, cents: int, streams: list[int], blocks: int
) -> None:
    if sum(streams) == 0:
        cents = 0
    amount = Decimal(cents).scaleb(-2)
    per_block = [streams[i::blocks] for i in range(blocks)]
    text = dsr_text(
        [Summary("S1", "SubscriptionModel", "DE", "EUR", f"{amount:f}")],
        [
            Block(f"DEA122600{i:03d}", f"T{i}", tuple(Usage("S1", n) for n in chunk))
            for i, chunk in enumerate(per_block)
            if chunk
        ],
    )
    path = write_dsr(tmp_path, text, f"p{abs(hash((cents, tuple(streams), blocks)))}.tsv")
    lines = list(open_revenue_file(path))
    assert sum(ln.amount for ln in lines) == amount
    expected = allocate_units(to_units(amount), {ln.line_no: ln.quantity for ln in lines})
    assert {ln.line_no: to_units(ln.amount) for ln in lines} == expected


def test_refund_summary_mirrors_a_payment(tmp_path: Path) -> None:
    def amounts(revenue: str) -> list[Decimal]:
        text = dsr_text(
            [Summary("S1", "SubscriptionModel", "US", "USD", revenue)],
            [Block("USRW12600001", "A", (Usage("S1", 1), Usage("S1", 1), Usage("S1", 1)))],
        )
        path = write_dsr(tmp_path, text, f"r{revenue}.tsv")
        return [ln.amount for ln in open_revenue_file(path)]

    assert amounts("-10.00") == [-a for a in amounts("10.00")]
    assert amounts("10.00") == [
        Decimal("3.3333333334"),
        Decimal("3.3333333333"),
        Decimal("3.3333333333"),
    ]


def test_zero_revenue_summary_with_no_streams_is_fine(tmp_path: Path) -> None:
    text = dsr_text(
        [Summary("S1", "SubscriptionModel", "US", "USD", "0.00")],
        [Block("USRW12600001", "A", (Usage("S1", 0),))],
    )
    lines = list(open_revenue_file(write_dsr(tmp_path, text)))
    assert [ln.amount for ln in lines] == [Decimal(0)]


def test_streams_beyond_32_bits_are_allocated_exactly(tmp_path: Path) -> None:
    streams = [3, 2**40, 7, 2**33 + 1, 0]
    text = dsr_text(
        [
            Summary("S1", "SubscriptionModel", "DE", "EUR", "123456.78"),
            Summary("S2", "SubscriptionModel", "FR", "EUR", "5.00"),
        ],
        [Block("DEA122600001", "T", (*(Usage("S1", n) for n in streams), Usage("S2", 9)))],
    )
    lines = list(open_revenue_file(write_dsr(tmp_path, text)))
    mine = [ln for ln in lines if ln.territory == "DE"]
    expected = allocate_units(
        to_units(Decimal("123456.78")), {ln.line_no: ln.quantity for ln in mine}
    )
    assert [ln.quantity for ln in mine] == streams
    assert {ln.line_no: to_units(ln.amount) for ln in mine} == expected


def test_a_number_of_streams_beyond_64_bits_is_refused(tmp_path: Path) -> None:
    text = dsr_text(
        [Summary("S1", "SubscriptionModel", "DE", "EUR", "1.00", total_usages=2**64 + 1)],
        [Block("DEA122600001", "T", (Usage("S1", 1), Usage("S1", 2**64)))],
    )
    found = problems_of(write_dsr(tmp_path, text))
    assert (11, "NumberOfStreams", f"'{2**64}' is too large a number of streams") in found


# ---------------------------------------------------------------------------
# UGC lines and identifiers


def test_su03_lines_carry_their_own_revenue(tmp_path: Path) -> None:
    text = dsr_text(
        [
            Summary("S1", "SubscriptionModel", "US", "USD", "100.00"),
            Summary("S2", "UserGeneratedContentModel", "GB", "GBP", "0.00", total_usages=0),
        ],
        [
            Block(
                "USRW12600001",
                "A",
                (
                    Usage("S1", 3),
                    UgcUsage("S2", 5000, "1.2345678901"),
                    UgcUsage("S2", 10, "0.5", "EUR", "FR"),
                ),
            )
        ],
    )
    parsed = open_revenue_file(write_dsr(tmp_path, text))
    lines = list(parsed)
    ugc = [ln for ln in lines if ln.usage == "ugc"]
    assert [(ln.amount, ln.currency, ln.territory, ln.quantity) for ln in ugc] == [
        (Decimal("1.2345678901"), "GBP", "GB", 5000),
        (Decimal("0.5"), "EUR", "FR", 10),
    ]
    assert amounts(parsed.info.declared_totals) == {
        "USD": Decimal("100"),
        "GBP": Decimal("1.2345678901"),
        "EUR": Decimal("0.5"),
    }
    assert totals(lines) == amounts(parsed.info.totals)


def _mixed_text() -> str:
    """Several blocks, summaries in two currencies, SU03 lines, an empty resource reference."""
    text = dsr_text(
        [
            Summary("S1", "SubscriptionModel", "US", "USD", "100.00"),
            Summary("S2", "AdvertisementSupportedModel", "DE", "EUR", "-7.77"),
            Summary("S3", "UserGeneratedContentModel", "GB", "GBP", "0.00", total_usages=0),
        ],
        [
            Block(
                "USRW12600001",
                "A",
                (
                    Usage("S1", 3),
                    Usage("S2", 1, "ProgrammedContentStream"),
                    UgcUsage("S3", 5000, "1.2345678901"),
                    Usage("S1", 7, "Radio"),
                ),
            ),
            Block("QZK6H2600014", "B", (Usage("S2", 2), UgcUsage("S3", 10, "0.5", "EUR", "FR"))),
            Block("not an isrc", "C", (Usage("S1", 1), Usage("S2", 5), Usage("S1", 0))),
        ],
    )
    return text.replace("\tR3-not an isrc\tTRUE\t1\t", "\t\tTRUE\t1\t", 1)


def test_records_are_the_lines_as_tuples(tmp_path: Path) -> None:
    parsed = open_revenue_file(write_dsr(tmp_path, _mixed_text()))
    lines = list(parsed)
    assert len(lines) == parsed.info.line_count == 9
    assert [ln.isrc for ln in lines[-3:]] == ["not an isrc"] * 3  # one with no reference
    assert list(parsed.records()) == [record_of(ln) for ln in lines]
    assert [line_of(r) for r in parsed.records()] == lines


def test_second_pass_reads_back_chunks_spilled_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_dsr(tmp_path, _mixed_text())
    expected = list(open_revenue_file(path))
    for chunk in (1, 2, 3, 4):
        monkeypatch.setattr(Spill, "CHUNK", chunk)
        parsed = open_revenue_file(path)
        assert list(parsed) == expected
        assert list(parsed) == expected  # again, from the same spill
        parsed.close()
        assert list(parsed) == expected  # validates again after close()


def test_malformed_isrc_is_yielded_for_suspense_not_refused(tmp_path: Path) -> None:
    text = dsr_text(
        [Summary("S1", "SubscriptionModel", "US", "USD", "5.00")],
        [
            Block("NOT-AN-ISRC", "Mystery", (Usage("S1", 10),)),
            Block("us-rw1-26-00001", "Walk My Walk", (Usage("S1", 10),)),
        ],
    )
    lines = list(open_revenue_file(write_dsr(tmp_path, text)))
    assert [(ln.isrc, ln.isrc_valid) for ln in lines] == [
        ("NOT-AN-ISRC", False),
        ("USRW12600001", True),
    ]
    assert sum(ln.amount for ln in lines) == Decimal("5.00")


# ---------------------------------------------------------------------------
# Bad files: every problem, at once, nothing yielded


def test_every_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    text = sample_dsr_us_text()
    lines = text.splitlines()
    lines[3] = lines[3].replace("\tUS\t", "\tXQ\t")  # SY01 S1 territory
    lines[4] = lines[4].replace("\tUSD\t3106.77", "\tUSD\t3,106.77")  # thousands separator
    lines[10] = lines[10].replace("4811202", "48l1202")  # streams not a number
    lines[15] = lines[15] + "\textra"  # column count
    lines[16] = lines[16].replace("\tS2\t", "\tS9\t")  # unknown summary
    path = write_dsr(tmp_path, "\n".join(lines) + "\n")
    found = problems_of(path)
    where = {(line, field) for line, field, _ in found}
    assert (4, "Territory") in where
    assert (5, "NetRevenue") in where
    assert (11, "NumberOfStreams") in where
    assert (16, None) in where
    assert (17, "SummaryRecordId") in where
    messages = " ".join(m for _, _, m in found)
    assert "thousands separator" in messages
    assert "12 fields, expected 11" in messages


def test_nothing_is_yielded_from_a_bad_file(tmp_path: Path) -> None:
    text = sample_dsr_us_text().replace("\t113127\t", "\t113128\t")
    parsed = open_revenue_file(write_dsr(tmp_path, text))
    got = []
    with pytest.raises(InputError):
        for line in parsed:
            got.append(line)
    assert got == []


def test_total_usages_mismatch(tmp_path: Path) -> None:
    text = dsr_text(
        [Summary("S1", "SubscriptionModel", "US", "USD", "1.00", total_usages=11)],
        [Block("USRW12600001", "A", (Usage("S1", 10),))],
    )
    [(line, field, message)] = problems_of(write_dsr(tmp_path, text))
    assert (line, field) == (4, "TotalUsages")
    assert "says 11" in message and "10 streams" in message


def test_foot_counts_are_checked(tmp_path: Path) -> None:
    text = dsr_text(
        GB_SUMMARIES,
        GB_BLOCKS,
        foot={"NumberOfLinesInFile": 99, "NumberOfBlocksInFile": 3, "NumberOfSummaryRecords": 2},
    )
    found = problems_of(write_dsr(tmp_path, text))
    assert {field for _, field, _ in found} == {
        "NumberOfLinesInFile",
        "NumberOfBlocksInFile",
        "NumberOfSummaryRecords",
    }
    assert all(line == 16 for line, _, _ in found)


def test_a_file_cut_off_before_foot_is_refused(tmp_path: Path) -> None:
    text = "\n".join(sample_dsr_us_text().splitlines()[:-5]) + "\n"
    found = problems_of(write_dsr(tmp_path, text))
    assert any("no FOOT" in m for _, _, m in found)


def test_record_order(tmp_path: Path) -> None:
    lines = sample_dsr_us_text().splitlines()
    summary = lines.pop(4)  # SY01 S2
    lines.insert(12, summary)  # after the first block started
    found = problems_of(write_dsr(tmp_path, "\n".join(lines) + "\n"))
    assert any(line == 13 and "summaries come first" in m for line, _, m in found)


def test_usage_line_outside_its_block(tmp_path: Path) -> None:
    lines = sample_dsr_us_text().splitlines()
    lines[10] = lines[10].replace("SU02.02\t1\t", "SU02.02\t2\t")
    lines[11] = lines[11].replace("R1-USRW12600001", "R9-XX")
    found = problems_of(write_dsr(tmp_path, "\n".join(lines) + "\n"))
    assert (11, "BlockId") in {(ln, f) for ln, f, _ in found}
    assert (12, "TransactedResource") in {(ln, f) for ln, f, _ in found}


def test_missing_head_and_unknown_record(tmp_path: Path) -> None:
    lines = sample_dsr_us_text().splitlines()
    lines[0] = "HEAD\tbad"  # wrong column count
    lines.insert(5, "ZZ01.01\tfoo")
    found = problems_of(write_dsr(tmp_path, "\n".join(lines) + "\n"))
    messages = [m for _, _, m in found]
    assert any("2 fields" in m for m in messages)
    assert any("'ZZ01.01' is not part of the DSR" in m for m in messages)


def test_bad_dates_and_wrong_period(tmp_path: Path) -> None:
    bad = sample_dsr_us_text().replace("2026-10-31", "2026-10-32")
    found = problems_of(write_dsr(tmp_path, bad, "a.tsv"))
    assert (1, "UsageEndDate") in {(ln, f) for ln, f, _ in found}
    good = write_dsr(tmp_path, sample_dsr_us_text(), "b.tsv")
    found = problems_of(good, period=Period(2026, 11))
    assert any("reports 2026-10 but period 2026-11" in m for _, _, m in found)
    assert open_revenue_file(good, period=Period(2026, 10)).validate().period == "2026-10"


def test_too_many_decimals_and_unknown_currency(tmp_path: Path) -> None:
    text = dsr_text(
        [Summary("S1", "SubscriptionModel", "US", "USX", "1.000000000001")],
        [Block("USRW12600001", "A", (Usage("S1", 10),))],
    )
    found = problems_of(write_dsr(tmp_path, text))
    fields = {f for _, f, _ in found}
    assert {"CurrencyOfReporting", "NetRevenue"} <= fields


def test_problem_limit_truncates(tmp_path: Path) -> None:
    usages = tuple(Usage("S1", "x") for _ in range(30))
    text = dsr_text(
        [Summary("S1", "SubscriptionModel", "US", "USD", "1.00", total_usages=0)],
        [Block("USRW12600001", "A", usages)],
    )
    path = write_dsr(tmp_path, text)
    with pytest.raises(InputError) as caught:
        open_revenue_file(path, limit=10).validate()
    assert len(caught.value.problems) == 10
    assert caught.value.truncated


def test_lines_are_the_validated_content_even_if_the_file_changes_after(
    tmp_path: Path,
) -> None:
    # The second pass does not read the file again: what it yields is exactly what
    # was validated and hashed, whatever happens to the file in between.
    path = write_sample_dsr_us(tmp_path)
    expected = list(open_revenue_file(path))
    parsed = DsrFile(str(path))
    info = parsed.validate()
    path.write_text(sample_dsr_us_text().replace("\t21873.41\t", "\t1.00\t"))
    assert list(parsed) == expected
    assert totals(expected) == amounts(info.totals) == EXPECTED_TOTALS["dsr_us"]


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        open_revenue_file(tmp_path / "nope.tsv", fmt="dsr").validate()


def test_every_sample_summary_is_checked() -> None:
    # The fixtures' own consistency: what the samples say is what they contain.
    assert sum(Decimal(s.net_revenue) for s in US_SUMMARIES) == Decimal("24980.18")
    assert len(US_BLOCKS) == 3


def test_blank_lines_after_foot_are_tolerated_but_records_are_not(tmp_path: Path) -> None:
    path = write_dsr(tmp_path, sample_dsr_us_text() + "\n\n", "blank.tsv")
    assert totals(list(open_revenue_file(path))) == EXPECTED_TOTALS["dsr_us"]
    path = write_dsr(
        tmp_path,
        sample_dsr_us_text() + "SU02.02\t3\tS1\tT9\t\tR3-USRW12600003"
        "\tTRUE\t1\t\t\tOnDemandStream\n",
        "after.tsv",
    )
    assert any("after FOOT" in m for _, _, m in problems_of(path))


def test_a_bad_summary_does_not_flood_the_report_with_its_usage_lines(tmp_path: Path) -> None:
    text = sample_dsr_us_text().replace("\t21873.41\t", "\t21,873.41\t")
    found = problems_of(write_dsr(tmp_path, text))
    assert [(line, field) for line, field, _ in found] == [(4, "NetRevenue")]
