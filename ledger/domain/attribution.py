"""Attribution reports: how much each training-data licensor's data shaped a period's output.

An attribution provider sends, per period, a weight per licensor, optionally
per model and per track. The rule engine divides a licensors' pool by these
weights (``divide_by: attribution`` in an agreement). Weights are exact
:class:`~fractions.Fraction` values, normalised so that each group sums to 1.

Attribution CSV reference (UTF-8, a header row, comma-separated)::

    licensor,model,isrc,weight
    northern-lights,MusicLM,,0.48
    sunset-catalog,MusicLM,,0.32
    blue-harbor,Jukebox,,0.20
    northern-lights,,USRW12600003,3

``licensor`` (a party id) and ``weight`` (``0.48``, ``48%``, ``12/25`` or a
whole number; never negative) are required; ``model`` and ``isrc`` columns are
optional and may be blank. Rows with an ISRC apply to that track only; rows
without one apply to every other track. Weights are normalised per group
(the catalog-wide rows, and each track's rows), so raw scores work as well as
percentages. One licensor appears at most once per (model, isrc).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from ledger.domain.catalog import Catalog
from ledger.domain.errors import LedgerError, ProblemCollector
from ledger.domain.identifiers import normalise_isrc
from ledger.domain.money import parse_share
from ledger.domain.periods import Period

_COLUMNS = ("licensor", "model", "isrc", "weight")


@dataclass(frozen=True, slots=True)
class AttributionWeight:
    """One licensor's normalised weight within its group (all rows with the same ISRC)."""

    licensor_id: str
    weight: Fraction
    model: str | None = None
    isrc: str | None = None


@dataclass(frozen=True, slots=True)
class AttributionReport:
    """A period's attribution weights, exact and normalised."""

    period: Period
    weights: tuple[AttributionWeight, ...]

    def weights_for(self, isrc: str, model: str | None = None) -> dict[str, Fraction] | None:
        """Normalised weights per licensor for a track (and model), or None if none apply.

        A track's own rows win over the catalog-wide rows; a ``model`` keeps only
        that model's rows. A licensor with rows for several models gets their sum.
        """
        rows = [w for w in self.weights if w.isrc == isrc]
        if not rows:
            rows = [w for w in self.weights if w.isrc is None]
        if model is not None:
            rows = [
                w for w in rows if w.model is not None and w.model.casefold() == model.casefold()
            ]
        total = sum((w.weight for w in rows), Fraction(0))
        if total == 0:
            return None
        out: dict[str, Fraction] = {}
        for w in rows:
            out[w.licensor_id] = out.get(w.licensor_id, Fraction(0)) + w.weight / total
        return out


def normalise(weights: Mapping[str, Fraction]) -> dict[str, Fraction]:
    """Scale weights exactly so that they sum to 1 (an all-zero group stays as it is)."""
    total = sum(weights.values(), Fraction(0))
    if total == 0:
        return dict(weights)
    return {k: v / total for k, v in weights.items()}


def parse_attribution(
    text: str, filename: str, period: Period, *, catalog: Catalog | None = None
) -> AttributionReport:
    """Parse an attribution CSV for ``period``; raise InputError listing every problem.

    With a ``catalog``, every licensor must be a party and every ISRC a track.
    """
    problems = ProblemCollector()
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    columns: dict[str, int] = {}
    if header is None:
        problems.add(filename, 1, None, "the file is empty; it needs a header row: licensor,weight")
    else:
        for i, name in enumerate(header):
            column = name.strip().lower()
            if column not in _COLUMNS:
                problems.add(filename, 1, name, f"unknown column; expected {', '.join(_COLUMNS)}")
            elif column in columns:
                problems.add(filename, 1, name, "column appears twice")
            columns.setdefault(column, i)
        for required in ("licensor", "weight"):
            if required not in columns:
                problems.add(filename, 1, required, "column is missing")
    raw: list[tuple[int, str, str | None, str | None, Fraction]] = []
    seen: dict[tuple[str, str | None, str | None], int] = {}
    if header is not None and "licensor" in columns and "weight" in columns:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.add(
                    filename, line, None, f"has {len(row)} columns, the header has {len(header)}"
                )
                continue

            def cell(name: str, row: list[str] = row) -> str | None:
                idx = columns.get(name)
                value = row[idx].strip() if idx is not None else ""
                return value or None

            licensor = cell("licensor")
            model = cell("model")
            isrc = cell("isrc")
            if licensor is None:
                problems.add(filename, line, "licensor", "is empty")
            elif catalog is not None and not catalog.has_party(licensor):
                problems.add(
                    filename, line, "licensor", f"party {licensor!r} is not in the catalog"
                )
            if isrc is not None:
                try:
                    isrc = normalise_isrc(isrc)
                    if catalog is not None and not catalog.has_track(isrc):
                        problems.add(filename, line, "isrc", f"track {isrc} is not in the catalog")
                except LedgerError as exc:
                    problems.add(filename, line, "isrc", str(exc))
            weight_text = cell("weight")
            weight: Fraction | None = None
            try:
                if weight_text is None:
                    raise LedgerError("is empty")
                weight = parse_share(weight_text, what="weight")
            except LedgerError as exc:
                problems.add(filename, line, "weight", str(exc))
            if licensor is None or weight is None:
                continue
            key = (licensor, model, isrc)
            if key in seen:
                problems.add(
                    filename,
                    line,
                    "licensor",
                    f"{licensor} already has a weight for this model and track (line {seen[key]})",
                )
                continue
            seen[key] = line
            raw.append((line, licensor, model, isrc, weight))
    if not raw and not problems:
        problems.add(filename, None, None, "the file has no weights")
    groups: dict[str | None, Fraction] = {}
    for _, _, _, isrc, weight in raw:
        groups[isrc] = groups.get(isrc, Fraction(0)) + weight
    for isrc, total in groups.items():
        if total == 0:
            problems.add(
                filename,
                None,
                "weight",
                f"all weights {'for ' + isrc if isrc else 'without an ISRC'} are zero",
            )
    problems.raise_if_any()
    return AttributionReport(
        period=period,
        weights=tuple(
            AttributionWeight(licensor, weight / groups[isrc], model, isrc)
            for _, licensor, model, isrc, weight in raw
        ),
    )
