"""Bytes to text and the shared field parsers: encodings, gzip, numbers, usage words."""

from __future__ import annotations

import codecs
import dataclasses
import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.domain.errors import InputError
from ledger.parsers import RevenueLine, open_revenue_file
from ledger.parsers.base import FieldError, fast_line, map_usage, parse_money, parse_quantity
from ledger.parsers.textio import choose_encoding
from tests.fixtures_revenue import distrokid_row, sample_dsr_us_text, write_distrokid, write_text

ARGS = (
    7,
    "USRW12600001",
    True,
    "Walk My Walk",
    "US",
    "stream",
    12,
    Decimal("0.5"),
    "USD",
    "2026-10",
    "Spotify",
    None,
    None,
    None,
    "S1 SubscriptionModel",
)


def test_fast_line_builds_an_ordinary_frozen_revenue_line() -> None:
    fast = fast_line(*ARGS)
    slow = RevenueLine(*ARGS)
    assert type(fast) is RevenueLine
    assert fast == slow
    assert dataclasses.astuple(fast) == ARGS
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.amount = Decimal(1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("head", "declared", "expected"),
    [
        (codecs.BOM_UTF8 + b"x", None, "utf-8-sig"),
        (codecs.BOM_UTF16_LE + b"x\x00", None, "utf-16"),
        (codecs.BOM_UTF16_BE + b"\x00x", "latin-1", "utf-16"),  # the BOM wins
        (b"abc", "latin-1", "iso8859-1"),
        (b"abc", "UTF8", "utf-8-sig"),
        (b"abc", None, "utf-8-sig"),
    ],
)
def test_encoding_choice(head: bytes, declared: str | None, expected: str) -> None:
    assert choose_encoding(head, declared) == expected


def test_declared_latin1_is_read(tmp_path: Path) -> None:
    path = write_distrokid(tmp_path / "dk.tsv", [distrokid_row(title="Café")], encoding="latin-1")
    with pytest.raises(InputError):
        open_revenue_file(path).validate()
    [line] = list(open_revenue_file(path, encoding="latin-1"))
    assert line.title == "Café"


def test_unknown_declared_encoding_is_a_clean_error(tmp_path: Path) -> None:
    path = write_distrokid(tmp_path / "dk.tsv")
    with pytest.raises(InputError, match="unknown encoding"):
        open_revenue_file(path, encoding="klingon").validate()


def test_damaged_gzip_is_a_clean_error(tmp_path: Path) -> None:
    data = gzip.compress(sample_dsr_us_text().encode())
    path = tmp_path / "x.tsv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="gzip"):
        open_revenue_file(path, fmt="dsr").validate()


@pytest.mark.parametrize("fmt", ["dsr", "distrokid", "tunecore"])
def test_empty_file_is_a_clean_error(tmp_path: Path, fmt: str) -> None:
    path = write_text(tmp_path / "empty.txt", "")
    with pytest.raises(InputError):
        open_revenue_file(path, fmt=fmt).validate()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,234.56", "thousands separator"),
        ("1 234.56", "thousands separator"),
        ("(12.50)", "minus sign"),
        ("12.5.1", "not a number"),
        ("", "empty"),
        ("NaN", "not a finite number"),
        ("0.00000000001", "more than 10 decimal places"),
    ],
)
def test_parse_money_refuses_clearly(text: str, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        parse_money(text)


def test_parse_money_exact() -> None:
    assert parse_money(" -9.84 ") == Decimal("-9.84")
    assert parse_money("9875.33911804") == Decimal("9875.33911804")
    assert parse_money("12,5", ",") == Decimal("12.5")
    with pytest.raises(FieldError, match="decimal separator"):
        parse_money("1.234,5", ",")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,204,433", "thousands separator"),
        ("12.0", "not a whole number"),
        ("", "empty"),
    ],
)
def test_parse_quantity_refuses_clearly(text: str, message: str) -> None:
    with pytest.raises(FieldError, match=message):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("word", "usage"),
    [
        ("OnDemandStream", "stream"),
        ("ProgrammedContentStream", "stream"),
        ("Streaming", "stream"),
        ("Permanent Download", "download"),
        ("UGC", "ugc"),
        ("UserGeneratedContent", "ugc"),
        ("NonInteractiveStream", "radio"),
        ("Webcast", "radio"),
        ("Ringtone", None),
    ],
)
def test_usage_vocabulary(word: str, usage: str | None) -> None:
    assert map_usage(word) == usage


@pytest.mark.parametrize("gz", [False, True])
def test_progress_reports_bytes_on_disk_for_both_passes(tmp_path: Path, gz: bool) -> None:
    path = write_text(tmp_path / "x.tsv", sample_dsr_us_text() * 1, gz=gz)
    seen: list[tuple[str, int, int]] = []
    parsed = open_revenue_file(
        path, progress=lambda phase, done, total: seen.append((phase, done, total))
    )
    list(parsed)
    size = path.stat().st_size
    phases = [phase for phase, _, _ in seen]
    assert phases == sorted(phases, key=["validate", "read"].index)
    for phase in ("validate", "read"):
        last = [(done, total) for p, done, total in seen if p == phase][-1]
        assert last == (size, size)
