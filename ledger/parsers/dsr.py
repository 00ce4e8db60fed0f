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
(:func:`ledger.domain.allocation.allocate_units`, keys = line numbers: largest
remainder, ties to the smaller line number, refunds mirrored), so the lines sum
to ``NetRevenue`` exactly. ``TotalUsages`` must equal the streams of its lines.

``SU03.xx`` lines (user-generated content) carry their own revenue: columns
``NetRevenue`` and, optionally, ``CurrencyOfReporting`` and ``Territory``
(otherwise those of the summary they name). They are not part of their
summary's allocation or ``TotalUsages``; the file's declared totals are the
summaries' ``NetRevenue`` plus the ``SU03`` revenue.

Memory: the validation pass keeps per-summary integers and the streams of
each usage line (``array('I')``, 4 bytes a line; 8 for a summary with a line
beyond 32 bits), from which each summary's tie threshold is found. What the
second pass needs of each line goes to a temporary file (:class:`_Spill`), so
it works from that instead of reading the text again, and recomputes every
share in integers.
"""

from __future__ import annotations

import bisect
import pickle
import tempfile
from array import array
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import IO, Final, TypeVar

from ledger.domain.errors import InputError, Problem, ProblemCollector
from ledger.domain.money import MONEY_CONTEXT, SCALE, to_units
from ledger.parsers.base import (
    FieldError,
    FileInfo,
    IsrcCache,
    ParsedFile,
    Record,
    freeze_totals,
    map_usage,
    parse_currency,
    parse_money,
    parse_quantity,
    parse_territory,
    usage_key,
)
from ledger.parsers.textio import TextSource


def _cols(text: str) -> tuple[str, ...]:
    return tuple(text.split())


LAYOUTS: Final[dict[str, tuple[str, ...]]] = {
    "HEAD": _cols(
        "MessageVersion Profile ProfileVersion MessageId MessageCreatedDateTime FileNumber"
        " NumberOfFiles UsageStartDate UsageEndDate SenderPartyId SenderName ServiceDescription"
        " RecipientPartyId RecipientName RepresentedRepertoire"
    ),
    "SY01": _cols(
        "SummaryRecordId DistributionChannel DistributionChannelDPID CommercialModel UseType"
        " Territory ServiceDescription TotalUsages Subscribers CurrencyOfReporting NetRevenue"
        " IndirectValue CurrencyOfTransaction ExchangeRate"
    ),
    "RE01": _cols(
        "BlockId ReleaseReference DspReleaseId ProprietaryReleaseId CatalogNumber ICPN"
        " DisplayArtistName DisplayArtistPartyId Title SubTitle ReleaseType LabelName PLine"
        " DataProviderName ReleaseDate"
    ),
    "AS02": _cols(
        "BlockId ResourceReference DspResourceId ISRC Title SubTitle DisplayArtistName"
        " DisplayArtistPartyID Duration ResourceType ISWC ComposerAuthorName"
        " ComposerAuthorPartyId ArrangerName ArrangePartyID MusicPublisherName"
        " MusicPublisherPartyId WorkContributorName WorkContributorPartyId ProprietaryWorkId"
        " IsMasterRecording"
    ),
    "SU02": _cols(
        "BlockId SummaryRecordId SalesTransactionId TransactedRelease TransactedResource"
        " IsRoyaltyBearing NumberOfStreams PriceConsumerPaidExcSalesTax PromotionalActivity"
        " UseType"
    ),
    "SU03": _cols(
        "BlockId SummaryRecordId SalesTransactionId TransactedRelease TransactedResource"
        " IsRoyaltyBearing NumberOfStreams NetRevenue CurrencyOfReporting Territory UseType"
    ),
    "FOOT": _cols(
        "NumberOfLinesInFile NumberOfLinesInReport NumberOfSummaryRecords NumberOfBlocksInFile"
        " NumberOfBlocksInReport"
    ),
}
"""Columns after the record type, per record kind, when the file has no heading line."""

REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "HEAD": ("MessageId", "UsageStartDate", "UsageEndDate", "SenderName"),
    "SY01": (
        "SummaryRecordId",
        "CommercialModel",
        "Territory",
        "TotalUsages",
        "CurrencyOfReporting",
        "NetRevenue",
    ),
    "RE01": ("BlockId",),
    "AS02": ("BlockId", "ResourceReference", "ISRC", "Title"),
    "SU02": ("BlockId", "SummaryRecordId", "TransactedResource", "NumberOfStreams", "UseType"),
    "SU03": (
        "BlockId",
        "SummaryRecordId",
        "TransactedResource",
        "NumberOfStreams",
        "NetRevenue",
        "UseType",
    ),
    "FOOT": ("NumberOfLinesInFile", "NumberOfSummaryRecords", "NumberOfBlocksInFile"),
}

T = TypeVar("T")

_COMMERCIAL_USAGE: Final = {"usergeneratedcontent": "ugc", "radio": "radio"}


class _Layout:
    """Where each named field of a record kind sits, and how many fields a record has."""

    __slots__ = ("index", "width")

    def __init__(self, names: list[str] | tuple[str, ...]) -> None:
        self.index = {n: i + 1 for i, n in enumerate(names) if n}
        self.width = len(names) + 1

    def get(self, fields: list[str], name: str) -> str:
        i = self.index.get(name)
        return fields[i].strip() if i is not None and i < len(fields) else ""


class _Summary:
    __slots__ = (
        "amount",
        "commercial",
        "currency",
        "detail",
        "index",
        "line",
        "sign",
        "streams",
        "territory",
        "threshold",
        "ties",
        "total",
        "units",
        "usage",
    )

    def __init__(
        self,
        line: int,
        sid: str,
        commercial: str,
        territory: str,
        currency: str,
        amount: Decimal,
        total: int,
        usage: str,
    ) -> None:
        self.line = line
        self.commercial = commercial
        self.territory = territory
        self.currency = currency
        self.amount = amount
        units = int(amount.scaleb(SCALE, context=MONEY_CONTEXT))
        self.sign = -1 if units < 0 else 1
        self.units = abs(units)
        self.total = total
        self.usage = usage
        self.detail = f"{sid} {commercial}".strip()
        # NumberOfStreams of each usage line, in file order: 4 bytes a line until one
        # does not fit (widen).
        self.streams = array("I")
        self.index = 0  # among the file's (good) summaries, in file order
        self.threshold = 0  # lines with remainder above it get one more unit
        self.ties = 0  # how many lines with remainder == threshold (first ones) also do

    def widen(self) -> Callable[[int], None]:
        """Make the streams array 8 bytes a value; return its append."""
        self.streams = array("q", self.streams)
        return self.streams.append


class DsrFile(ParsedFile):
    """A DDEX DSR flat file (plain or gzipped), validated then streamed."""

    format = "dsr"

    def __init__(
        self,
        path: str,
        *,
        source: str | None = None,
        period: str | None = None,
        limit: int = 100,
        encoding: str | None = None,
    ) -> None:
        super().__init__(path, source=source, period=period, limit=limit, encoding=encoding)
        self._summaries: dict[str, _Summary] = {}
        self._isrcs = IsrcCache()
        self._source = ""
        self._period = ""
        self._spill: _Spill | None = None
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
        spill = _Spill(self.name)
        try:
            info = self._scan(spill)
        except BaseException:
            spill.close()
            raise
        self._spill = spill
        return info

    def _scan(self, spill: _Spill) -> FileInfo:
        name = self.name
        problems = ProblemCollector(self.limit)
        add = problems.add
        layouts = {k: _Layout(v) for k, v in LAYOUTS.items()}
        summaries: dict[str, _Summary] = {}
        self._summaries = summaries
        isrcs = self._isrcs
        head_seen = foot_line = 0
        head_fields: list[str] = []
        foot_fields: list[str] = []
        blocks_seen: set[str] = set()
        block = ""
        block_res: dict[str, int] = {}  # resource reference -> index in resources
        only = -1  # the block's resource when it has exactly one
        resources: list[tuple[str, bool, str | None]] = []  # (isrc, valid, title), distinct
        resource_index: dict[tuple[str, bool, str | None], int] = {}
        usage_index: dict[str, int] = {}  # UseType text -> index in usages
        usages: list[str] = []  # the usage of each UseType; "" for the summary's own
        self._resources = resources
        self._usages = usages
        in_blocks = False
        summary_records = 0
        usage_lines = 0
        own_totals: dict[str, Decimal] = {}
        line_no = 0
        su = layouts["SU02"]
        su_w, su_b, su_s, su_r, su_n, su_u = _su_indices(su)
        # Per summary id: the append of its streams array and its index (-1: bad summary).
        appenders: dict[str, tuple[Callable[[int], None], int]] = {}
        spill_lines, spill_summaries = spill.lines.append, spill.summaries.append
        spill_resources, spill_usages = spill.resources.append, spill.usages.append
        spill_streams = spill.streams.append
        room = spill.room()

        with (
            TextSource(
                self.path, encoding=self.encoding, progress=self._progress("validate")
            ) as src,
            src.guard(),
        ):
            for line in src.stream:
                line_no += 1
                fields = line.rstrip("\r\n").split("\t")
                rec = fields[0]
                kind = rec[:4]
                if kind == "SU02":
                    # Hot path: a million of these. Integers only.
                    if foot_line:
                        add(name, line_no, None, "record after FOOT; FOOT must be the last line")
                    if len(fields) != su_w:
                        add(name, line_no, None, f"{rec} has {len(fields)} fields, expected {su_w}")
                        continue
                    if fields[su_b] != block or not block:
                        add(
                            name,
                            line_no,
                            "BlockId",
                            f"{fields[su_b]!r} is not the current block {block!r}; a usage line"
                            " belongs after the RE01/AS02 records of its block",
                        )
                    summary_of = appenders.get(fields[su_s])
                    if summary_of is None:
                        add(
                            name,
                            line_no,
                            "SummaryRecordId",
                            f"{fields[su_s]!r} is not a summary (SY01) of this file",
                        )
                    res = fields[su_r]
                    ri = block_res.get(res)
                    if ri is None:
                        if res == "" and len(block_res) == 1:
                            ri = only
                        else:
                            add(
                                name,
                                line_no,
                                "TransactedResource",
                                f"{res!r} is not a resource (AS02) of block {block!r}",
                            )
                            ri = -1
                    try:
                        n = int(fields[su_n])
                        if n < 0:
                            raise ValueError
                    except ValueError:
                        add(
                            name,
                            line_no,
                            "NumberOfStreams",
                            f"{fields[su_n]!r} is not a whole number of streams (0 or more)",
                        )
                        continue
                    if summary_of is not None:
                        usage_lines += 1
                        append, si = summary_of
                        try:
                            append(n)
                        except OverflowError:  # beyond the array's type: widen it, or refuse
                            summary = summaries.get(fields[su_s])
                            if summary is None or n >= 1 << 63:
                                add(
                                    name,
                                    line_no,
                                    "NumberOfStreams",
                                    f"{fields[su_n]!r} is too large a number of streams",
                                )
                                continue
                            append = summary.widen()
                            appenders[fields[su_s]] = (append, si)
                            append(n)
                        ut = fields[su_u]
                        ui = usage_index.get(ut)
                        if ui is None:
                            ui = usage_index[ut] = len(usages)
                            usages.append(map_usage(ut) or "other" if ut else "")
                        spill_lines(line_no)
                        spill_summaries(si)
                        spill_resources(ri)
                        spill_usages(ui)
                        spill_streams(n)
                        room -= 1
                        if not room:
                            spill.flush(src.on_disk())
                            room = spill.room()
                    continue
                if problems.full:
                    break
                if len(fields) == 1 and not rec.strip():
                    continue
                if rec.startswith("#"):
                    k = rec[1:5]
                    if k in layouts:
                        layouts[k] = lay = _Layout(fields[1:])
                        missing = [c for c in REQUIRED[k] if c not in lay.index]
                        if missing:
                            add(
                                name,
                                line_no,
                                None,
                                f"heading {rec} has no {', '.join(missing)} column",
                            )
                            layouts[k] = _Layout(LAYOUTS[k])
                        if k == "SU02":
                            su = layouts[k]
                            su_w, su_b, su_s, su_r, su_n, su_u = _su_indices(su)
                    continue
                lay_opt = layouts.get(kind)
                if lay_opt is None:
                    add(
                        name,
                        line_no,
                        None,
                        f"record type {rec!r} is not part of the DSR Basic Audio profile",
                    )
                    continue
                lay = lay_opt
                if len(fields) != lay.width:
                    add(
                        name, line_no, None, f"{rec} has {len(fields)} fields, expected {lay.width}"
                    )
                    continue
                if foot_line:
                    add(name, line_no, None, "record after FOOT; FOOT must be the last line")
                if kind != "HEAD" and head_seen == 0:
                    add(name, line_no, None, "the file must start with a HEAD record")
                    head_seen = -1
                if kind == "HEAD":
                    if head_seen > 0:
                        add(name, line_no, None, "a second HEAD record; a file has one")
                        continue
                    head_seen = line_no
                    head_fields = fields
                    self._check_head(fields, lay, line_no, problems)
                elif kind == "SY01":
                    if in_blocks:
                        add(
                            name,
                            line_no,
                            None,
                            "summary record after the first block; summaries come first",
                        )
                    summary_records += 1
                    sid, summary = self._add_summary(fields, lay, line_no, problems)
                    if summary is not None:
                        appenders[sid] = (summary.streams.append, summary.index)
                    elif sid and sid not in appenders:
                        # Reported already: its usage lines are not errors of their own.
                        appenders[sid] = (array("q").append, -1)
                elif kind == "RE01":
                    in_blocks = True
                    bid = lay.get(fields, "BlockId")
                    if not bid or bid in blocks_seen:
                        add(name, line_no, "BlockId", f"{bid!r} is empty or opens a block twice")
                    blocks_seen.add(bid)
                    block = bid
                    block_res = {}
                    only = -1
                elif kind == "AS02":
                    bid = lay.get(fields, "BlockId")
                    if not block or bid != block:
                        add(
                            name,
                            line_no,
                            "BlockId",
                            f"{bid!r} is not the current block {block!r}; AS02 follows its RE01",
                        )
                    ref = lay.get(fields, "ResourceReference")
                    if not ref or ref in block_res:
                        add(
                            name,
                            line_no,
                            "ResourceReference",
                            f"{ref!r} is empty or repeated in this block",
                        )
                    isrc, valid = isrcs(lay.get(fields, "ISRC"))
                    resource = (isrc, valid, lay.get(fields, "Title") or None)
                    ri = resource_index.get(resource)
                    if ri is None:
                        ri = resource_index[resource] = len(resources)
                        resources.append(resource)
                    block_res[ref] = ri
                    only = ri if len(block_res) == 1 else -1
                elif kind == "SU03":
                    counted, record = self._check_su03(
                        fields, lay, line_no, problems, block, block_res, own_totals
                    )
                    usage_lines += counted
                    if record is not None:
                        spill.add_record(line_no, record)
                        room -= 1
                        if not room:
                            spill.flush(src.on_disk())
                            room = spill.room()
                elif kind == "FOOT":
                    if foot_line:
                        add(name, line_no, None, "a second FOOT record; a file has one")
                    foot_line = line_no
                    foot_fields = fields
            stats = src.finish()
            spill.size_on_disk = src.on_disk()

        physical = line_no
        if head_seen == 0:
            add(name, None, None, "no HEAD record; is this a DSR file?")
        if not foot_line:
            add(name, None, None, "no FOOT record: the file is incomplete (cut off?)")
        elif not problems.full:
            # FOOT is the last record, so its line number is the file's line count
            # (blank lines after it, such as an extra newline, are not counted).
            self._check_foot(
                foot_fields,
                layouts["FOOT"],
                foot_line,
                foot_line,
                summary_records,
                len(blocks_seen),
                problems,
            )
        if not problems.full:
            self._settle_summaries(problems)
        problems.raise_if_any()

        head_lay = layouts["HEAD"]
        reference = head_lay.get(head_fields, "MessageId") or None
        declared: dict[str, Decimal] = {}
        for s in summaries.values():
            declared[s.currency] = declared.get(s.currency, Decimal(0)) + s.amount
        for cur, amount in own_totals.items():
            declared[cur] = declared.get(cur, Decimal(0)) + amount
        frozen = freeze_totals(declared)
        return FileInfo(
            format=self.format,
            source=self._source,
            period=self._period,
            declared_totals=frozen,
            totals=frozen,
            line_count=usage_lines,
            physical_lines=physical,
            periods=(self._period,),
            sha256=stats.sha256,
            size=stats.size,
            encoding=stats.encoding,
            name=name,
            reference=reference,
        )

    def _check_head(
        self, fields: list[str], lay: _Layout, line_no: int, problems: ProblemCollector
    ) -> None:
        name = self.name
        start_text = lay.get(fields, "UsageStartDate")
        end_text = lay.get(fields, "UsageEndDate")
        dates: list[date] = []
        for fname, text in (("UsageStartDate", start_text), ("UsageEndDate", end_text)):
            try:
                dates.append(date.fromisoformat(text))
            except ValueError:
                problems.add(name, line_no, fname, f"{text!r} is not a date (YYYY-MM-DD)")
        period = None
        if len(dates) == 2:
            start, end = dates
            if end < start:
                problems.add(name, line_no, "UsageEndDate", f"{end} is before {start}")
            elif (start.year, start.month) == (end.year, end.month):
                period = f"{start.year:04d}-{start.month:02d}"
        wanted = self.period_override
        if wanted and period and wanted != period:
            problems.add(
                name,
                line_no,
                "UsageStartDate",
                f"the file reports {period} but period {wanted} was asked for",
            )
        elif not period and not wanted and len(dates) == 2:
            problems.add(
                name,
                line_no,
                "UsageEndDate",
                "the usage period spans more than one month; give the period explicitly",
            )
        self._period = wanted or period or ""
        sender = lay.get(fields, "SenderName") or lay.get(fields, "SenderPartyId")
        self._source = self.source_override or sender
        if not self._source:
            problems.add(name, line_no, "SenderName", "empty; the sender names the source")

    def _add_summary(
        self, fields: list[str], lay: _Layout, line_no: int, problems: ProblemCollector
    ) -> tuple[str, _Summary | None]:
        name = self.name
        sid = lay.get(fields, "SummaryRecordId")
        bad: list[str] = []

        def field(fname: str, parse: Callable[[str], T], default: T) -> T:
            try:
                return parse(lay.get(fields, fname))
            except FieldError as exc:
                problems.add(name, line_no, fname, exc.message)
                bad.append(fname)
                return default

        if not sid or sid in self._summaries:
            problems.add(name, line_no, "SummaryRecordId", f"{sid!r} is empty or repeated")
            bad.append("SummaryRecordId")
        territory = field("Territory", parse_territory, "")
        cur = field("CurrencyOfReporting", parse_currency, "")
        amount = field("NetRevenue", parse_money, Decimal(0))
        total = field("TotalUsages", parse_quantity, 0)
        if total < 0:
            problems.add(name, line_no, "TotalUsages", f"{total} is negative")
            bad.append("TotalUsages")
        if bad:
            return sid, None
        commercial = lay.get(fields, "CommercialModel")
        usage = map_usage(lay.get(fields, "UseType")) or _COMMERCIAL_USAGE.get(
            usage_key(commercial).removesuffix("model"), "stream"
        )
        summary = _Summary(line_no, sid, commercial, territory, cur, amount, total, usage)
        summary.index = len(self._summaries)
        self._summaries[sid] = summary
        return sid, summary

    def _check_su03(
        self,
        fields: list[str],
        lay: _Layout,
        line_no: int,
        problems: ProblemCollector,
        block: str,
        block_res: dict[str, int],
        own_totals: dict[str, Decimal],
    ) -> tuple[int, Record | None]:
        """(1 if it counts as a usage line else 0, its record if the line is good)."""
        name = self.name
        add = problems.add
        good = True
        bid = lay.get(fields, "BlockId")
        if not block or bid != block:
            add(name, line_no, "BlockId", f"{bid!r} is not the current block {block!r}")
            good = False
        res = lay.get(fields, "TransactedResource")
        if res not in block_res and not (res == "" and len(block_res) == 1):
            add(
                name,
                line_no,
                "TransactedResource",
                f"{res!r} is not a resource (AS02) of block {block!r}",
            )
            good = False
        sid = lay.get(fields, "SummaryRecordId")
        s = self._summaries.get(sid)
        cur_text = lay.get(fields, "CurrencyOfReporting")
        terr_text = lay.get(fields, "Territory")
        if s is None and not (cur_text and terr_text):
            add(
                name,
                line_no,
                "SummaryRecordId",
                f"{sid!r} is not a summary of this file (and the line has no own currency and"
                " territory)",
            )
            return 0, None
        n = 0
        try:
            n = parse_quantity(lay.get(fields, "NumberOfStreams"))
            if n < 0:
                raise FieldError(f"{n} is negative")
        except FieldError as exc:
            add(name, line_no, "NumberOfStreams", exc.message)
            good = False
        ok = True
        amount = Decimal(0)
        try:
            amount = parse_money(lay.get(fields, "NetRevenue"))
        except FieldError as exc:
            add(name, line_no, "NetRevenue", exc.message)
            ok = False
        cur = ""
        try:
            cur = parse_currency(cur_text) if cur_text else (s.currency if s else "")
        except FieldError as exc:
            add(name, line_no, "CurrencyOfReporting", exc.message)
            ok = False
        territory = s.territory if s else "WW"
        try:
            if terr_text:
                territory = parse_territory(terr_text)
        except FieldError as exc:
            add(name, line_no, "Territory", exc.message)
            good = False
        if not ok:
            return 1, None
        own_totals[cur] = own_totals.get(cur, Decimal(0)) + amount
        if not good:
            return 1, None
        isrc, valid, title = self._resources[
            block_res[res] if res else next(iter(block_res.values()))
        ]
        ut = lay.get(fields, "UseType")
        return 1, (
            line_no,
            isrc,
            valid,
            title,
            territory,
            map_usage(ut) or "ugc" if ut else "ugc",
            n,
            to_units(amount),
            cur,
            self._period,
            self._source,
            None,
            None,
            None,
            f"{s.detail} UGC" if s else "UGC",
        )

    def _check_foot(
        self,
        fields: list[str],
        lay: _Layout,
        line_no: int,
        physical: int,
        n_summaries: int,
        n_blocks: int,
        problems: ProblemCollector,
    ) -> None:
        for fname, actual in (
            ("NumberOfLinesInFile", physical),
            ("NumberOfSummaryRecords", n_summaries),
            ("NumberOfBlocksInFile", n_blocks),
        ):
            text = lay.get(fields, fname)
            try:
                declared = parse_quantity(text)
            except FieldError as exc:
                problems.add(self.name, line_no, fname, exc.message)
                continue
            if declared != actual:
                problems.add(
                    self.name,
                    line_no,
                    fname,
                    f"FOOT says {declared} but the file has {actual}; the file is"
                    " incomplete or was edited",
                )

    def _settle_summaries(self, problems: ProblemCollector) -> None:
        """Check TotalUsages and find each summary's largest-remainder threshold."""
        for sid, s in self._summaries.items():
            streams = sum(s.streams)
            if streams != s.total:
                problems.add(
                    self.name,
                    s.line,
                    "TotalUsages",
                    f"summary {sid} says {s.total} but its usage lines have {streams} streams",
                )
                continue
            if s.total == 0:
                if s.units:
                    problems.add(
                        self.name,
                        s.line,
                        "NetRevenue",
                        f"summary {sid} has revenue but no streams to allocate it to",
                    )
                continue
            units, total = s.units, s.total
            ordered = sorted([units * n % total for n in s.streams])
            # Each line gets floor(units * n / total); the remainders sum to
            # leftover * total, and the `leftover` largest of them get one more unit.
            leftover = sum(ordered) // total
            s.threshold = total  # no remainder reaches it: nobody gets an extra unit
            s.ties = 0
            if leftover:
                count = len(ordered)
                t = ordered[count - leftover]
                above = count - bisect.bisect_right(ordered, t)
                s.threshold = t
                s.ties = leftover - above
            s.streams = array("I")  # recomputed line by line in the second pass

    # ------------------------------------------------------------------ pass 2
    def _records(self) -> Generator[Record, None, str]:
        """The usage lines from what pass 1 kept (:class:`_Spill`), without reading the
        file again: what is yielded is exactly the content that was validated and hashed."""
        spill = self._spill
        if spill is None:  # pragma: no cover - validate() ran, or raised
            raise RuntimeError("validate the file first")
        # Per summary (by index), what each of its lines needs, and how many tied lines
        # still get one more unit (see _settle_summaries).
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


class _Spill:
    """What pass 1 keeps of the usage lines for pass 2, on disk: memory stays flat.

    Per usage line, in file order: line number, summary index, resource index,
    usage index and streams (28 bytes a line on disk); an SU03 line has summary
    index -1 and its whole record in ``others``. Pass 1 appends to plain lists
    (an array's append costs twice as much); each full chunk of :attr:`CHUNK`
    lines goes to an anonymous temporary file as arrays. The last, partial chunk
    stays in memory, so a small file never touches the disk.
    """

    CHUNK = 1 << 14
    TYPES = ("q", "i", "i", "i", "q")
    """Array type codes of lines, summaries, resources, usages and streams."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[int] = []
        self.summaries: list[int] = []
        self.resources: list[int] = []
        self.usages: list[int] = []
        self.streams: list[int] = []
        self.others: list[Record] = []
        self.size_on_disk = 0
        """Of the DSR file (compressed bytes for gzip): where progress ends."""
        self._file: IO[bytes] | None = None
        self._chunks: list[tuple[int, int, int, int]] = []  # (offset, lines, bytes, on disk)
        self._size = 0

    def _lists(self) -> tuple[list[int], ...]:
        return (self.lines, self.summaries, self.resources, self.usages, self.streams)

    def room(self) -> int:
        """Lines that can be added before :meth:`flush` is due."""
        return self.CHUNK - len(self.lines)

    def add_record(self, line_no: int, record: Record) -> None:
        self.lines.append(line_no)
        self.summaries.append(-1)
        self.resources.append(0)
        self.usages.append(0)
        self.streams.append(0)
        self.others.append(record)

    def flush(self, on_disk: int) -> None:
        """Write the lines kept so far to the temporary file (and forget them);
        ``on_disk``: how far pass 1 has read the DSR file."""
        count = len(self.lines)
        parts = [
            array(t, values).tobytes() for t, values in zip(self.TYPES, self._lists(), strict=True)
        ]
        data = b"".join([*parts, pickle.dumps(self.others)])
        try:
            if self._file is None:
                # Kept open across both passes; close() closes it (and it goes with its owner).
                self._file = tempfile.TemporaryFile(prefix="royalty-dsr-")  # noqa: SIM115
            self._file.seek(self._size)
            self._file.write(data)
        except OSError as exc:
            self.close()
            raise InputError(
                [
                    Problem(
                        self.name,
                        None,
                        None,
                        f"cannot write a temporary file for the import: {exc.strerror or exc}",
                    )
                ]
            ) from None
        self._chunks.append((self._size, count, len(data), on_disk))
        self._size += len(data)
        for values in self._lists():
            values.clear()
        self.others.clear()

    def chunks(
        self,
    ) -> Iterator[
        tuple[
            Sequence[int],
            Sequence[int],
            Sequence[int],
            Sequence[int],
            Sequence[int],
            list[Record],
            int,
        ]
    ]:
        """Every chunk in file order: (lines, summaries, resources, usages, streams, others,
        bytes of the DSR file on disk up to the chunk's end)."""
        for offset, count, size, on_disk in self._chunks:
            assert self._file is not None
            self._file.seek(offset)
            data = self._file.read(size)
            arrays = []
            at = 0
            for typecode in self.TYPES:
                part = array(typecode)
                end = at + count * part.itemsize
                part.frombytes(data[at:end])
                arrays.append(part)
                at = end
            others: list[Record] = pickle.loads(data[at:])
            lines, summaries, resources, usages, streams = arrays
            yield lines, summaries, resources, usages, streams, others, on_disk
        yield (
            self.lines,
            self.summaries,
            self.resources,
            self.usages,
            self.streams,
            self.others,
            self.size_on_disk,
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._chunks = []


def _su_indices(lay: _Layout) -> tuple[int, int, int, int, int, int]:
    i = lay.index
    return (
        lay.width,
        i["BlockId"],
        i["SummaryRecordId"],
        i["TransactedResource"],
        i["NumberOfStreams"],
        i["UseType"],
    )
