"""Any CSV or TSV revenue file, read through a mapping that names its columns.

This is how a finance team onboards a new source without code. The DistroKid
and TuneCore parsers are built-in mappings over the same engine.

The mapping file (YAML)::

    name: Acme Digital          # the source (sender) of the file; --source overrides it
    delimiter: ","              # one character; "tab" (or "\\t") for TSV. Default ","
    encoding: utf-8             # utf-8 (a BOM is fine), utf-16 (needs a BOM), latin-1, cp1252
    decimal: "."                # decimal separator of amounts: "." or ","
    skip_rows: 0                # lines above the header row to ignore
    columns:                    # ledger field: column header in the file (case-insensitive)
      isrc: ISRC                # required
      title: Track Title        # optional
      source: Store             # the store/DSP of each line
      territory: Country
      usage: Type
      quantity: Units
      amount: Revenue           # exact decimal, at most 10 places, no thousands separators
      currency: Currency
      period: Month             # YYYY-MM (also YYYYMM or YYYY-MM-DD: the month is kept)
      original_amount: Gross    # optional trio: the file converted the amount itself,
      original_currency: Gross Currency  # amount = original_amount x fx_rate
      fx_rate: Rate
    constants:                  # fields with one value for the whole file, instead of a column
      currency: EUR             # allowed for source, territory, usage, quantity, currency, period
      usage: stream
    usage_map:                  # the file's usage words -> stream|download|ugc|radio|other
      Premium Stream: stream    # (common words such as Streaming or Download are known already)
    unknown_usage: error        # or "other": what an unknown usage word becomes
    check_fx: true              # with the fx trio: amount must be original_amount x fx_rate
                                # to the last digit written (one unit of it allowed)

Each of source, territory, usage, quantity, amount, currency and period must
come from a column or a constant (period may instead be given at import time;
source defaults to the mapping's ``name``). A field in both is an error.

Every bad row is reported (file, line, field, what is wrong), all at once up
to the limit; a malformed ISRC is not an error (the line goes to suspense).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

import yaml

from ledger.domain.errors import InputError, Problem, ProblemCollector
from ledger.domain.money import MONEY_CONTEXT
from ledger.parsers.base import (
    USAGES,
    FieldError,
    FileInfo,
    IsrcCache,
    ParsedFile,
    RevenueLine,
    fast_line,
    freeze_totals,
    map_usage,
    parse_currency,
    parse_line_period,
    parse_money,
    parse_quantity,
    parse_rate,
    parse_territory,
    usage_key,
)
from ledger.parsers.textio import TextSource

FIELDS: Final = (
    "isrc",
    "title",
    "source",
    "territory",
    "usage",
    "quantity",
    "amount",
    "currency",
    "period",
    "original_amount",
    "original_currency",
    "fx_rate",
)
CONSTANT_OK: Final = frozenset({"source", "territory", "usage", "quantity", "currency", "period"})
FX_TRIO: Final = ("original_amount", "original_currency", "fx_rate")
_KEYS: Final = frozenset(
    {
        "name",
        "delimiter",
        "encoding",
        "decimal",
        "skip_rows",
        "columns",
        "constants",
        "usage_map",
        "unknown_usage",
        "check_fx",
    }
)


@dataclass(frozen=True, slots=True)
class Mapping:
    """How to read one source's CSV/TSV: which column holds which ledger field."""

    columns: MappingProxyType[str, str]
    constants: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    name: str | None = None
    delimiter: str = ","
    encoding: str | None = None
    decimal: str = "."
    skip_rows: int = 0
    usage_map: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Keys are :func:`usage_key` forms of the file's words."""
    unknown_usage: str = "error"
    check_fx: bool = True
    """With the fx trio: amount must equal original_amount x fx_rate to its last written digit."""
    format: str = "csv"


def make_mapping(
    columns: dict[str, str],
    *,
    constants: dict[str, str] | None = None,
    usage_map: dict[str, str] | None = None,
    **options: Any,
) -> Mapping:
    """A Mapping from plain dicts (for the built-in formats and tests)."""
    return Mapping(
        columns=MappingProxyType(dict(columns)),
        constants=MappingProxyType(dict(constants or {})),
        usage_map=MappingProxyType({usage_key(k): v for k, v in (usage_map or {}).items()}),
        **options,
    )


def parse_mapping(text: str, filename: str) -> Mapping:
    """Read a mapping file; every problem is reported at once as an InputError."""
    problems = ProblemCollector()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError([Problem(filename, line, None, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise InputError(
            [Problem(filename, None, None, "a mapping file is a YAML mapping with a 'columns' key")]
        )

    def add(key: str, message: str) -> None:
        problems.add(filename, None, key, message)

    for key in data:
        if key not in _KEYS:
            add(str(key), f"unknown key; expected one of {', '.join(sorted(_KEYS))}")
    columns = _str_dict(data.get("columns"), "columns", add)
    constants = _str_dict(data.get("constants"), "constants", add)
    raw_usage = _str_dict(data.get("usage_map"), "usage_map", add)
    for key in columns:
        if key not in FIELDS:
            add(f"columns.{key}", f"not a ledger field; use {', '.join(FIELDS)}")
    for key in constants:
        if key not in CONSTANT_OK:
            add(f"constants.{key}", f"cannot be a constant; only {', '.join(sorted(CONSTANT_OK))}")
        if key in columns:
            add(f"constants.{key}", "is also a column; keep one of the two")
    if "isrc" not in columns:
        add("columns.isrc", "missing: name the column that holds the ISRC")
    if "amount" not in columns:
        add("columns.amount", "missing: name the column that holds the amount")
    for key in ("territory", "usage", "quantity", "currency"):
        if key not in columns and key not in constants:
            add(f"columns.{key}", "missing: name a column or give a constant")
    present = [k for k in FX_TRIO if k in columns]
    if present and len(present) != len(FX_TRIO):
        add(
            "columns",
            f"{', '.join(FX_TRIO)} go together; the mapping has only {', '.join(present)}",
        )
    usage_map: dict[str, str] = {}
    for word, usage in raw_usage.items():
        if usage not in USAGES:
            add(f"usage_map.{word}", f"{usage!r} is not one of {', '.join(sorted(USAGES))}")
        usage_map[usage_key(word)] = usage
    checks: list[tuple[str, Callable[[str], object]]] = [
        ("currency", parse_currency),
        ("territory", parse_territory),
        ("period", parse_line_period),
        ("quantity", parse_quantity),
    ]
    for key, check in checks:
        if key in constants:
            try:
                check(constants[key])
            except FieldError as exc:
                add(f"constants.{key}", exc.message)
    if "usage" in constants and map_usage(constants["usage"], usage_map) is None:
        add("constants.usage", f"{constants['usage']!r} is not one of {', '.join(sorted(USAGES))}")
    delimiter = str(data.get("delimiter", ","))
    if delimiter.lower() in {"tab", "\\t"}:
        delimiter = "\t"
    if len(delimiter) != 1:
        add("delimiter", f"{delimiter!r} is not one character; use ',', ';', '|' or tab")
    decimal_sep = str(data.get("decimal", "."))
    if decimal_sep not in {".", ","}:
        add("decimal", f"{decimal_sep!r}: the decimal separator is '.' or ','")
    if decimal_sep == delimiter:
        add("decimal", "the decimal separator cannot be the delimiter")
    skip = data.get("skip_rows", 0)
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        add("skip_rows", f"{skip!r} is not a whole number of rows (0 or more)")
        skip = 0
    unknown = str(data.get("unknown_usage", "error"))
    if unknown not in {"error", "other"}:
        add("unknown_usage", f"{unknown!r}: use 'error' or 'other'")
    check_fx = data.get("check_fx", True)
    if not isinstance(check_fx, bool):
        add("check_fx", f"{check_fx!r}: use true or false")
        check_fx = True
    encoding = data.get("encoding")
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(str(encoding))
        except LookupError:
            add("encoding", f"unknown encoding {encoding!r}; use utf-8, utf-16, latin-1 or cp1252")
    name = data.get("name")
    problems.raise_if_any()
    return Mapping(
        columns=MappingProxyType(columns),
        constants=MappingProxyType(constants),
        name=str(name) if name is not None else None,
        delimiter=delimiter,
        encoding=str(encoding) if encoding is not None else None,
        decimal=decimal_sep,
        skip_rows=skip,
        usage_map=MappingProxyType(usage_map),
        unknown_usage=unknown,
        check_fx=check_fx,
    )


def _str_dict(value: object, key: str, add: Callable[[str, str], None]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        add(key, "must be a mapping of names to text")
        return {}
    out: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, bool | float) or v is None or isinstance(v, dict | list):
            add(f"{key}.{k}", f"{v!r}: write it as text (quote numbers such as '0.25')")
            continue
        out[str(k)] = str(v)
    return out


class TabularFile(ParsedFile):
    """A delimited file read through a :class:`Mapping`; validated, then streamed."""

    def __init__(
        self,
        path: str,
        mapping: Mapping,
        *,
        name: str | None = None,
        source: str | None = None,
        period: str | None = None,
        limit: int = 100,
        default_source: str | None = None,
        encoding: str | None = None,
    ) -> None:
        super().__init__(
            path,
            name=name,
            source=source,
            period=period,
            limit=limit,
            encoding=encoding or mapping.encoding,
        )
        self.mapping = mapping
        self.format = mapping.format
        self.file_source = (
            source or mapping.name or default_source or mapping.constants.get("source", "")
        )

    def _validate(self) -> FileInfo:
        problems = ProblemCollector(self.limit)
        if not self.file_source:
            problems.add(
                self.name, None, "source", "no source: give --source or a name in the mapping"
            )
        if self.period_override:
            try:
                parse_line_period(self.period_override)
            except FieldError as exc:
                problems.add(self.name, None, "period", exc.message)
        problems.raise_if_any()
        totals: dict[str, Decimal] = {}
        periods: set[str] = set()
        count = 0
        stats_sha = ""
        physical = 0
        encoding = ""
        for item in self._rows(problems, "validate"):
            if isinstance(item, RevenueLine):
                count += 1
                totals[item.currency] = totals.get(item.currency, Decimal(0)) + item.amount
                periods.add(item.period)
            else:
                stats_sha, physical, encoding, size = item
        problems.raise_if_any()
        period = self.period_override or (next(iter(periods)) if len(periods) == 1 else None)
        return FileInfo(
            format=self.format,
            source=self.file_source,
            period=period,
            declared_totals=None,
            totals=freeze_totals(totals),
            line_count=count,
            physical_lines=physical,
            periods=tuple(sorted(periods)),
            sha256=stats_sha,
            size=size,
            encoding=encoding,
            name=self.name,
        )

    def _lines(self) -> Generator[RevenueLine, None, str]:
        problems = ProblemCollector(self.limit)
        sha = ""
        for item in self._rows(problems, "read"):
            if isinstance(item, RevenueLine):
                yield item
            elif not problems:  # else the file changed: ParsedFile.__iter__ reports it
                sha = item[0]
        return sha

    def _rows(self, problems: ProblemCollector, phase: str) -> Iterator[Any]:
        """Every good row as a RevenueLine, problems collected; finally (sha, lines, enc, size)."""
        m = self.mapping
        name = self.name
        add = problems.add
        line_no = 0
        with (
            TextSource(
                self.path, name=self.name, encoding=self.encoding, progress=self._progress(phase)
            ) as src,
            src.guard(),
        ):
            stream = src.stream
            for _ in range(m.skip_rows):
                if stream.readline():
                    line_no += 1
            if m.delimiter == "\t":
                reader = csv.reader(stream, delimiter="\t", quoting=csv.QUOTE_NONE, strict=True)
            else:
                reader = csv.reader(stream, delimiter=m.delimiter, strict=True)
            base = line_no
            try:
                header = next(reader, None)
            except csv.Error as exc:
                add(name, base + reader.line_num, None, f"unreadable header row: {exc}")
                header = None
            if header is None:
                if not problems:
                    add(name, base + 1, None, "no header row; the file is empty")
                return
            header_line = base + reader.line_num
            index = {h.strip().lstrip("\ufeff").casefold(): i for i, h in enumerate(header)}
            cols: dict[str, int] = {}
            for fname, col in m.columns.items():
                i = index.get(col.strip().casefold())
                if i is None:
                    add(
                        name,
                        header_line,
                        fname,
                        f"column {col!r} not found; the header has: {', '.join(header)}",
                    )
                else:
                    cols[fname] = i
            if "period" not in cols and "period" not in m.constants and not self.period_override:
                add(
                    name,
                    header_line,
                    "period",
                    "the file has no period column; give the period (--period)",
                )
            if problems:
                return
            width = len(header)
            consts = m.constants
            const_line_source = consts.get("source") or self.file_source
            const = _Constants(consts, self.period_override, m.usage_map)
            isrcs = IsrcCache()
            dec = m.decimal
            fx = "fx_rate" in cols
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    add(name, base + reader.line_num, None, f"unreadable row: {exc}")
                    break
                line_no = base + reader.line_num
                if len(row) != width:
                    if not any(cell.strip() for cell in row):
                        continue  # a blank line
                    add(
                        name,
                        line_no,
                        None,
                        f"{len(row)} fields, but the header has {width}; check the delimiter"
                        " and quoting",
                    )
                    continue
                bad = False

                def get(
                    fname: str,
                    parse: Callable[[str], Any],
                    row: list[str] = row,
                    line_no: int = line_no,
                ) -> Any:
                    nonlocal bad
                    try:
                        return parse(row[cols[fname]])
                    except FieldError as exc:
                        add(name, line_no, m.columns[fname], exc.message)
                        bad = True
                        return None

                isrc, valid = isrcs(row[cols["isrc"]])
                territory = (
                    get("territory", parse_territory) if "territory" in cols else const.territory
                )
                quantity = get("quantity", parse_quantity) if "quantity" in cols else const.quantity
                amount = get("amount", lambda t: parse_money(t, dec))
                cur = get("currency", parse_currency) if "currency" in cols else const.currency
                period = get("period", parse_line_period) if "period" in cols else const.period
                if "usage" in cols:
                    raw_usage = row[cols["usage"]]
                    usage = map_usage(raw_usage, m.usage_map)
                    if usage is None:
                        if m.unknown_usage == "other":
                            usage = "other"
                        else:
                            add(
                                name,
                                line_no,
                                m.columns["usage"],
                                f"{raw_usage!r} is not a known usage type; add it to usage_map"
                                f" as one of {', '.join(sorted(USAGES))}",
                            )
                            bad = True
                else:
                    usage = const.usage
                line_source = row[cols["source"]].strip() if "source" in cols else const_line_source
                if not line_source:
                    add(name, line_no, m.columns["source"], "empty; which store is this line from?")
                    bad = True
                title = row[cols["title"]].strip() or None if "title" in cols else None
                original = original_cur = rate = None
                if fx:
                    original = get("original_amount", lambda t: parse_money(t, dec))
                    original_cur = get("original_currency", parse_currency)
                    rate = get("fx_rate", _rate)
                    if (
                        m.check_fx
                        and not bad
                        and original is not None
                        and rate is not None
                        and amount is not None
                    ):
                        problem = _fx_mismatch(row[cols["amount"]], dec, amount, original, rate)
                        if problem:
                            add(name, line_no, m.columns["amount"], problem)
                            bad = True
                if bad:
                    continue
                yield fast_line(
                    line_no,
                    isrc,
                    valid,
                    title,
                    territory,
                    usage,
                    quantity,
                    amount,
                    cur,
                    period,
                    line_source,
                    original,
                    original_cur,
                    rate,
                    None,
                )
            stats = src.finish()
        yield stats.sha256, line_no, stats.encoding, stats.size


class _Constants:
    """The mapping's constants, parsed once."""

    __slots__ = ("currency", "period", "quantity", "territory", "usage")

    def __init__(
        self,
        consts: MappingProxyType[str, str],
        period: str | None,
        usage_map: MappingProxyType[str, str],
    ) -> None:
        # parse_mapping validated these; built-in mappings use only good constants.
        self.territory = parse_territory(consts["territory"]) if "territory" in consts else "WW"
        self.quantity = parse_quantity(consts["quantity"]) if "quantity" in consts else 0
        self.currency = parse_currency(consts["currency"]) if "currency" in consts else ""
        self.period = (
            parse_line_period(consts.get("period") or period or "")
            if consts.get("period") or period
            else ""
        )
        self.usage = (
            (map_usage(consts["usage"], usage_map) or "other") if "usage" in consts else "other"
        )


def _rate(text: str) -> Decimal:
    return parse_rate(text)


def _fx_mismatch(
    text: str, dec: str, amount: Decimal, original: Decimal, rate: Decimal
) -> str | None:
    """Does ``amount`` equal ``original x rate`` to the last digit the file wrote?

    One unit of that digit is allowed: sources round their conversions differently.
    """
    stripped = text.strip()
    places = len(stripped.split(dec, 1)[1]) if dec in stripped else 0
    tolerance = Decimal(1).scaleb(-places)
    exact = MONEY_CONTEXT.multiply(original, rate)
    if abs(exact - amount) <= tolerance:
        return None
    return (
        f"{stripped} is not {original} x {rate} (= {exact}); the file's conversion does not add up"
    )
