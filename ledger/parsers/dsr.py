"""DDEX DSR flat files (Basic Audio profile): summaries allocated exactly over usage lines.

A DSR is tab-separated, one record per line; a line starting with ``#`` is the
heading of the record type named after the ``#`` and, when present, decides
which column holds which field (otherwise the layout of the profile below is
assumed). Records, in order:

- ``HEAD``: sender, service, usage start and end dates (one calendar month).
- ``SY01.xx`` summaries, before the first block: per commercial model and
  territory, ``TotalUsages`` and ``NetRevenue`` in ``CurrencyOfReporting``.
- blocks: ``RE01.xx`` (release, opens block ``BlockId``), ``AS02.xx``
  (resource: ``ResourceReference`` and ``ISRC``), ``SU02.xx`` usage lines
  (``SummaryRecordId``, ``TransactedResource``, ``NumberOfStreams``, ``UseType``).
- ``FOOT``: ``NumberOfLinesInFile`` (every physical line up to FOOT, headings and FOOT
  included), ``NumberOfSummaryRecords``, ``NumberOfBlocksInFile``.

Revenue is on the summary only. Each summary's ``NetRevenue`` is allocated over
its ``SU02`` lines pro rata to ``NumberOfStreams`` with the ledger's one rule
(largest remainder, ties to the smaller line number, refunds mirrored: the rule
of :mod:`ledger.domain.allocation`, worked out here from a per-summary threshold
because the lines are streamed, not held), so the lines sum to ``NetRevenue``
exactly. ``TotalUsages`` must equal the streams of its lines.

``SU03.xx`` lines (user-generated content) carry their own revenue: columns
``NetRevenue`` and, optionally, ``CurrencyOfReporting`` and ``Territory``
(otherwise those of the summary they name). They are not part of their
summary's allocation or ``TotalUsages``; the file's declared totals are the
summaries' ``NetRevenue`` plus the ``SU03`` revenue.

Memory: the validation pass keeps per-summary integers and the streams of
each usage line (``array('I')``, 4 bytes a line; 8 for a summary with a line
beyond 32 bits), from which each summary's tie threshold is found. What the
second pass needs of each line goes to a temporary file
(:class:`~ledger.parsers.dsr_spill.Spill`), so it works from that instead of
reading the text again, and recomputes every share in integers. Record layouts
are in :mod:`ledger.parsers.dsr_layout`.
"""

from __future__ import annotations

from collections.abc import Generator

from ledger.parsers.base import FileInfo, ParsedFile, Record
from ledger.parsers.dsr_scan import Scan, Summary
from ledger.parsers.dsr_spill import Spill
from ledger.parsers.textio import TextSource


class DsrFile(ParsedFile):
    """A DDEX DSR flat file (plain or gzipped), validated then streamed."""

    format = "dsr"

    def __init__(
        self,
        path: str,
        *,
        name: str | None = None,
        source: str | None = None,
        period: str | None = None,
        limit: int = 100,
        encoding: str | None = None,
    ) -> None:
        super().__init__(
            path, name=name, source=source, period=period, limit=limit, encoding=encoding
        )
        self._summaries: dict[str, Summary] = {}
        self._source = ""
        self._period = ""
        self._spill: Spill | None = None
        self._resources: list[tuple[str, bool, str | None]] = []
        self._usages: list[str] = []

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        super().close()

    # ------------------------------------------------------------------ pass 1
    def _validate(self) -> FileInfo:
        if self._spill is not None:
            self._spill.close()
        spill = Spill(self.name)
        try:
            scan = Scan(self, spill)
            with (
                TextSource(
                    self.path,
                    name=self.name,
                    encoding=self.encoding,
                    progress=self._progress("validate"),
                ) as src,
                src.guard(),
            ):
                scan.read(src)
                stats = src.finish()
                spill.size_on_disk = src.on_disk()
            info = scan.file_info(stats.sha256, stats.size, stats.encoding)
            self._summaries, self._resources, self._usages = (
                scan.summaries,
                scan.resources,
                scan.usages,
            )
            self._source, self._period = scan.source, scan.period
        except BaseException:
            spill.close()
            raise
        self._spill = spill
        return info

    # ------------------------------------------------------------------ pass 2
    def _records(self) -> Generator[Record, None, str]:
        """The usage lines from what pass 1 kept (:class:`~ledger.parsers.dsr_spill.Spill`), without reading the
        file again: what is yielded is exactly the content that was validated and hashed."""
        spill = self._spill
        if spill is None:  # pragma: no cover - validate() ran, or raised
            raise RuntimeError("validate the file first")
        # Per summary (by index), what each of its lines needs, and how many tied lines
        # still get one more unit (see Scan.settle_summaries).
        summaries = [
            (s.units, s.total, s.threshold, s.sign, s.territory, s.currency, s.detail, s.usage)
            for s in self._summaries.values()
        ]
        ties = [s.ties for s in self._summaries.values()]
        resources = self._resources
        usages = self._usages
        period = self._period
        source = self._source
        progress = self._progress("read")  # in bytes on disk, as pass 1 read them
        for lines, sums, res, uses, streams, others, done in spill.chunks():
            other = iter(others)
            for line_no, si, ri, ui, n in zip(lines, sums, res, uses, streams, strict=True):
                if si < 0:  # an SU03 line, kept whole
                    yield next(other)
                    continue
                units, total, threshold, sign, territory, cur, detail, usage = summaries[si]
                if total:
                    q, r = divmod(units * n, total)
                    if r > threshold:
                        q += 1
                    elif r == threshold and ties[si]:
                        ties[si] -= 1
                        q += 1
                else:
                    q = 0
                isrc, valid, title = resources[ri]
                yield (
                    line_no,
                    isrc,
                    valid,
                    title,
                    territory,
                    usages[ui] or usage,
                    n,
                    q * sign,
                    cur,
                    period,
                    source,
                    None,
                    None,
                    None,
                    detail,
                )
            if progress is not None:
                progress(done, spill.size_on_disk)
        return self.validate().sha256
