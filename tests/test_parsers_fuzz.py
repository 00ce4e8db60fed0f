"""Random and mutated files through every parser: a clean InputError or clean lines, nothing else.

Clean lines means: iteration yields exactly ``info.line_count`` lines, their
amounts sum to ``info.totals`` per currency (and to the DSR's declared totals),
and every amount is a Decimal at the ledger scale. A crash of any other kind,
or an error after validation passed, fails the test.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.errors import InputError
from ledger.parsers import USAGES, Mapping, open_revenue_file, parse_mapping
from tests.fixtures_revenue import (
    MAPPING_YAML,
    amounts,
    distrokid_text,
    mapped_text,
    sample_dsr_gb_text,
    sample_dsr_us_text,
    tunecore_text,
    write_text,
)

_MAPPING = parse_mapping(MAPPING_YAML, "acme.yaml")
_BASES: dict[str, tuple[str, str, Mapping | None, str]] = {
    # name: (text, fmt, mapping, encoding)
    "dsr_us": (sample_dsr_us_text(), "dsr", None, "utf-8"),
    "dsr_gb": (sample_dsr_gb_text(), "auto", None, "utf-8"),
    "distrokid": (distrokid_text(), "distrokid", None, "utf-8"),
    "tunecore": (tunecore_text(), "auto", None, "utf-8"),
    "mapped": (mapped_text(), "csv", _MAPPING, "latin-1"),
}

_FIELD_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "-",
            "0",
            "-0",
            "1e5",
            "NaN",
            "Infinity",
            "1,000",
            "0.00000000001",
            "99999999999999999999",
            "12.5",
            "XX",
            "WW",
            "2026-13",
            "202610",
            "EUR",
            "USRW12600001",
            "\t",
            ",",
            '"',
            "\r",
            "\x00",
            "S1",
            "S9",
            "1",
            "R1",
        ]
    ),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
)

_MUTATION = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 40)),
    st.tuples(st.just("duplicate"), st.integers(0, 40)),
    st.tuples(st.just("swap"), st.integers(0, 40), st.integers(0, 40)),
    st.tuples(st.just("field"), st.integers(0, 40), st.integers(0, 25), _FIELD_TEXT),
    st.tuples(st.just("insert"), st.integers(0, 40), st.text(max_size=60)),
    st.tuples(st.just("truncate"), st.integers(0, 4000)),
)


def _mutate(text: str, fmt_name: str, mutations: list[tuple]) -> str:
    sep = (
        "\t"
        if fmt_name.startswith(("dsr", "distrokid"))
        else (";" if fmt_name == "mapped" else ",")
    )
    lines = text.split("\n")
    for m in mutations:
        if not lines:
            break
        op = m[0]
        i = m[1] % len(lines)
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = m[2] % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "field":
            fields = lines[i].split(sep)
            fields[m[2] % len(fields)] = m[3]
            lines[i] = sep.join(fields)
        elif op == "insert":
            lines.insert(i, m[2])
        elif op == "truncate":
            joined = "\n".join(lines)
            lines = joined[: m[1] % (len(joined) + 1)].split("\n")
    return "\n".join(lines)


def _check_clean(path: Path, fmt: str, mapping: Mapping | None) -> None:
    try:
        parsed = open_revenue_file(path, fmt=fmt, mapping=mapping)
        info = parsed.validate()
    except InputError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.file == str(path)
            assert p.message
        return
    lines = list(parsed)  # must not raise after a clean validate
    assert len(lines) == info.line_count
    sums: dict[str, Decimal] = {}
    for line in lines:
        assert isinstance(line.amount, Decimal)
        exponent = line.amount.as_tuple().exponent
        assert isinstance(exponent, int) and exponent >= -10
        assert line.usage in USAGES
        assert isinstance(line.quantity, int)
        assert line.line_no >= 1
        sums[line.currency] = sums.get(line.currency, Decimal(0)) + line.amount
    assert {k: v for k, v in sums.items()} == amounts(info.totals)
    if info.declared_totals is not None:
        assert amounts(info.declared_totals) == amounts(info.totals)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(sorted(_BASES)),
    mutations=st.lists(_MUTATION, min_size=1, max_size=4),
    crlf=st.booleans(),
    gz=st.booleans(),
)
def test_mutated_files_give_clean_errors_or_clean_lines(
    base: str, mutations: list[tuple], crlf: bool, gz: bool
) -> None:
    text, fmt, mapping, encoding = _BASES[base]
    mutated = _mutate(text, base, mutations)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.txt"
        try:
            write_text(path, mutated, encoding=encoding, crlf=crlf, gz=gz)
        except UnicodeEncodeError:
            write_text(path, mutated, encoding="utf-8", crlf=crlf, gz=gz)
        _check_clean(path, fmt, mapping)


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=600),
    fmt=st.sampled_from(["auto", "dsr", "distrokid", "tunecore", "csv"]),
)
def test_random_bytes_give_clean_errors(data: bytes, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.bin"
        path.write_bytes(data)
        _check_clean(path, fmt, _MAPPING if fmt == "csv" else None)


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.text(max_size=80), max_size=8), base=st.sampled_from(sorted(_BASES)))
def test_random_lines_after_a_valid_header(lines: list[str], base: str) -> None:
    text, fmt, mapping, _ = _BASES[base]
    header = text.split("\n")[: 3 if base.startswith("dsr") else (2 if base == "mapped" else 1)]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_text(Path(tmp) / "in.txt", "\n".join(header + lines) + "\n")
        _check_clean(path, fmt, mapping)
