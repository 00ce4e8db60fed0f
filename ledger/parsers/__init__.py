"""Revenue files to validated revenue lines: the pure parsing layer of an import.

One entry point, :func:`open_revenue_file`, whatever the source: a DDEX DSR
(:mod:`.dsr`), a DistroKid or TuneCore export (:mod:`.distrokid`,
:mod:`.tunecore`), or any CSV/TSV through a mapping file (:mod:`.mapped`).
The format is recognised by content (:func:`detect_format`), gzip by its magic
bytes, encodings by their byte-order mark (:mod:`.textio`).

Usage by the import service::

    parsed = open_revenue_file(path, fmt="auto", mapping=mapping)
    info = parsed.validate()        # InputError listing every problem, or FileInfo
    for line in parsed:             # RevenueLine values, streamed; memory flat
        ...

No database, no printing: the import service owns those.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ledger.domain.errors import InputError, Problem
from ledger.domain.periods import Period
from ledger.parsers.base import (
    FORMATS,
    USAGES,
    FieldError,
    FileInfo,
    ParsedFile,
    Progress,
    RevenueLine,
)
from ledger.parsers.distrokid import HEADER as DISTROKID_HEADER
from ledger.parsers.distrokid import MAPPING as DISTROKID_MAPPING
from ledger.parsers.dsr import DsrFile
from ledger.parsers.mapped import Mapping, TabularFile, make_mapping, parse_mapping
from ledger.parsers.textio import choose_encoding, read_head
from ledger.parsers.tunecore import HEADER as TUNECORE_HEADER
from ledger.parsers.tunecore import MAPPING as TUNECORE_MAPPING

__all__ = [
    "FORMATS",
    "USAGES",
    "DsrFile",
    "FieldError",
    "FileInfo",
    "Mapping",
    "ParsedFile",
    "Progress",
    "RevenueLine",
    "TabularFile",
    "detect_format",
    "make_mapping",
    "open_revenue_file",
    "parse_mapping",
]

_DISTROKID_KEYS = frozenset({"Sale Month", "Store", "ISRC", "Earnings (USD)"})
_TUNECORE_KEYS = frozenset({"Sales Period", "Store Name", "Optional ISRC", "Total Earned"})


def detect_format(path: str | Path) -> str:
    """'dsr', 'distrokid', 'tunecore' or 'csv' (anything else), from the file's first line."""
    head = read_head(path, 16384)
    try:
        encoding = choose_encoding(head[:4], None)
    except LookupError:  # pragma: no cover - no declared encoding here
        encoding = "utf-8-sig"
    text = head.decode(encoding, errors="replace")
    first = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    first = first.lstrip("\ufeff").rstrip("\r\n")
    if first.startswith("HEAD\t"):
        return "dsr"
    tab_cells = {cell.strip() for cell in first.split("\t")}
    if tab_cells >= _DISTROKID_KEYS:
        return "distrokid"
    comma_cells = {cell.strip() for cell in next(csv.reader([first]), [])}
    if comma_cells >= _TUNECORE_KEYS:
        return "tunecore"
    return "csv"


def open_revenue_file(
    path: str | Path,
    *,
    name: str | None = None,
    fmt: str = "auto",
    mapping: Mapping | None = None,
    source: str | None = None,
    period: Period | None = None,
    limit: int = 100,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> ParsedFile:
    """Open a revenue file for import: call ``validate()``, then iterate its lines.

    ``name`` is the file as problems name it (an upload's own name rather than the
    temp path it was stored at; default: the path). ``fmt='auto'`` detects the format
    (a given ``mapping`` means 'csv'). ``source`` overrides the sender's name;
    ``period`` is the import's period: checked against a DSR's own, used by lines of
    files without one. ``encoding`` declares a non-UTF encoding such as latin-1 (a BOM
    in the file wins; a mapping may declare it too). ``limit`` caps the problems
    reported. ``progress(phase, done, total)`` is called as bytes on disk are read, in
    phase 'validate' and then 'read': for a progress bar. Raises :class:`InputError`
    when the format cannot be read at all. Use it as a context manager (or ``close()``
    it): a DSR keeps what the second pass needs in a temporary file.
    """
    shown = name or str(path)
    if fmt not in {"auto", *FORMATS}:
        raise InputError(
            [
                Problem(
                    shown,
                    None,
                    "format",
                    f"{fmt!r} is not a format; use auto, {', '.join(FORMATS)}",
                )
            ]
        )
    options = _Options(
        name=shown,
        source=source,
        period=None if period is None else period.code,
        limit=limit,
        encoding=encoding,
    )
    parsed = _open(str(path), fmt, mapping, options)
    parsed.progress = progress
    return parsed


@dataclass(frozen=True, slots=True)
class _Options:
    name: str
    source: str | None
    period: str | None
    limit: int
    encoding: str | None


def _open(path: str, fmt: str, mapping: Mapping | None, o: _Options) -> ParsedFile:
    if fmt == "auto":
        fmt = "csv" if mapping is not None else detect_format(path)
    if fmt == "dsr":
        return DsrFile(
            path, name=o.name, source=o.source, period=o.period, limit=o.limit, encoding=o.encoding
        )
    known = {"distrokid": DISTROKID_MAPPING, "tunecore": TUNECORE_MAPPING}
    chosen = known.get(fmt, mapping)
    if chosen is None:
        raise InputError(
            [
                Problem(
                    o.name,
                    None,
                    "format",
                    "not a DSR, DistroKid or TuneCore file; describe its columns in a mapping file"
                    " (--mapping MAP.yaml)",
                )
            ]
        )
    return TabularFile(
        path,
        chosen,
        name=o.name,
        source=o.source,
        period=o.period,
        limit=o.limit,
        encoding=o.encoding,
    )


# Re-exported for the fixtures and docs: the exact headers of the built-in formats.
HEADERS = {"distrokid": DISTROKID_HEADER, "tunecore": TUNECORE_HEADER}
