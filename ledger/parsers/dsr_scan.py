"""Pass 1 over a DDEX DSR: one read of the text, every record checked.

:class:`Scan` reads the file once (:mod:`ledger.parsers.dsr` drives it), reports
every problem with line and field, keeps per summary the streams of its usage
lines (to find its largest-remainder threshold) and, per usage line, what pass
2 needs in the spill (:mod:`ledger.parsers.dsr_spill`).
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from ledger.domain.errors import ProblemCollector
from ledger.domain.money import MONEY_CONTEXT, SCALE, to_units
from ledger.parsers.base import (
    FieldError,
    FileInfo,
    IsrcCache,
    Record,
    freeze_totals,
    map_usage,
    parse_currency,
    parse_money,
    parse_quantity,
    parse_territory,
    usage_key,
)
from ledger.parsers.dsr_layout import COMMERCIAL_USAGE, LAYOUTS, REQUIRED, Layout, su_indices
from ledger.parsers.dsr_spill import Spill
from ledger.parsers.textio import TextSource

if TYPE_CHECKING:
    from ledger.parsers.dsr import DsrFile

T = TypeVar("T")


class Summary:
    """One SY01 summary: its revenue in units, its streams, and its allocation threshold."""

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


class Scan:
    """Pass 1 over a DSR's text: every record checked, the usage lines kept in the spill.

    :meth:`read` is the loop; usage lines (``SU02``, a million a file) are handled
    inline with local variables, every other record by a method of its kind, after
    which the loop takes the block and layout they may have changed.
    """

    def __init__(self, dsr: DsrFile, spill: Spill) -> None:
        self.dsr = dsr
        self.name = dsr.name
        self.spill = spill
        self.problems = ProblemCollector(dsr.limit)
        self.layouts = {k: Layout(v) for k, v in LAYOUTS.items()}
        self.summaries: dict[str, Summary] = {}
        self.isrcs = IsrcCache()
        self.source = ""
        self.period = ""
        self.head_seen = 0
        self.foot_line = 0
        self.head_fields: list[str] = []
        self.foot_fields: list[str] = []
        self.blocks_seen: set[str] = set()
        self.block = ""
        self.block_res: dict[str, int] = {}  # resource reference -> index in resources
        self.only = -1  # the block's resource when it has exactly one
        self.resources: list[tuple[str, bool, str | None]] = []  # (isrc, valid, title), distinct
        self.resource_index: dict[tuple[str, bool, str | None], int] = {}
        self.usages: list[str] = []  # the usage of each UseType; "" for the summary's own
        self.in_blocks = False
        self.summary_records = 0
        self.usage_lines = 0
        self.own_totals: dict[str, Decimal] = {}
        self.physical = 0
        # Per summary id: the append of its streams array and its index (-1: bad summary).
        self.appenders: dict[str, tuple[Callable[[int], None], int]] = {}

    def read(self, src: TextSource) -> None:
        name, problems, spill = self.name, self.problems, self.spill
        add = problems.add
        summaries, appenders = self.summaries, self.appenders
        usage_index: dict[str, int] = {}  # UseType text -> index in usages
        usages = self.usages
        block, block_res, only = self.block, self.block_res, self.only
        su_w, su_b, su_s, su_r, su_n, su_u = su_indices(self.layouts["SU02"])
        spill_lines, spill_summaries = spill.lines.append, spill.summaries.append
        spill_resources, spill_usages = spill.resources.append, spill.usages.append
        spill_streams = spill.streams.append
        room = spill.room()
        usage_lines = 0
        line_no = 0
        for line in src.stream:
            line_no += 1
            fields = line.rstrip("\r\n").split("\t")
            rec = fields[0]
            kind = rec[:4]
            if kind == "SU02":
                # Hot path: a million of these. Integers only.
                if self.foot_line:
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
            self.record(rec, kind, fields, line_no, src)
            # What a record may have changed for the usage lines that follow it.
            block, block_res, only = self.block, self.block_res, self.only
            su_w, su_b, su_s, su_r, su_n, su_u = su_indices(self.layouts["SU02"])
            room = spill.room()
        self.physical = line_no
        self.usage_lines += usage_lines

    def record(self, rec: str, kind: str, fields: list[str], line_no: int, src: TextSource) -> None:
        """Any record but a usage line (SU02): a heading, HEAD, a summary, a block, FOOT."""
        name, add = self.name, self.problems.add
        if rec.startswith("#"):
            self.heading(rec, fields, line_no)
            return
        lay = self.layouts.get(kind)
        if lay is None:
            add(
                name,
                line_no,
                None,
                f"record type {rec!r} is not part of the DSR Basic Audio profile",
            )
            return
        if len(fields) != lay.width:
            add(name, line_no, None, f"{rec} has {len(fields)} fields, expected {lay.width}")
            return
        if self.foot_line:
            add(name, line_no, None, "record after FOOT; FOOT must be the last line")
        if kind != "HEAD" and self.head_seen == 0:
            add(name, line_no, None, "the file must start with a HEAD record")
            self.head_seen = -1
        if kind == "HEAD":
            if self.head_seen > 0:
                add(name, line_no, None, "a second HEAD record; a file has one")
                return
            self.head_seen = line_no
            self.head_fields = fields
            self.check_head(fields, lay, line_no, self.problems)
        elif kind == "SY01":
            self.summary(fields, lay, line_no)
        elif kind == "RE01":
            self.release(fields, lay, line_no)
        elif kind == "AS02":
            self.resource(fields, lay, line_no)
        elif kind == "SU03":
            counted, record = self.check_su03(
                fields, lay, line_no, self.problems, self.block, self.block_res, self.own_totals
            )
            self.usage_lines += counted
            if record is not None:
                self.spill.add_record(line_no, record)
                if not self.spill.room():
                    self.spill.flush(src.on_disk())
        elif kind == "FOOT":
            if self.foot_line:
                add(name, line_no, None, "a second FOOT record; a file has one")
            self.foot_line = line_no
            self.foot_fields = fields

    def heading(self, rec: str, fields: list[str], line_no: int) -> None:
        """A ``#`` line: the columns of a record kind from here on."""
        k = rec[1:5]
        if k not in self.layouts:
            return
        self.layouts[k] = lay = Layout(fields[1:])
        missing = [c for c in REQUIRED[k] if c not in lay.index]
        if missing:
            self.problems.add(
                self.name, line_no, None, f"heading {rec} has no {', '.join(missing)} column"
            )
            self.layouts[k] = Layout(LAYOUTS[k])

    def summary(self, fields: list[str], lay: Layout, line_no: int) -> None:
        if self.in_blocks:
            self.problems.add(
                self.name,
                line_no,
                None,
                "summary record after the first block; summaries come first",
            )
        self.summary_records += 1
        sid, summary = self.add_summary(fields, lay, line_no, self.problems)
        if summary is not None:
            self.appenders[sid] = (summary.streams.append, summary.index)
        elif sid and sid not in self.appenders:
            # Reported already: its usage lines are not errors of their own.
            self.appenders[sid] = (array("q").append, -1)

    def release(self, fields: list[str], lay: Layout, line_no: int) -> None:
        """RE01 opens a block."""
        self.in_blocks = True
        bid = lay.get(fields, "BlockId")
        if not bid or bid in self.blocks_seen:
            self.problems.add(
                self.name, line_no, "BlockId", f"{bid!r} is empty or opens a block twice"
            )
        self.blocks_seen.add(bid)
        self.block = bid
        self.block_res = {}
        self.only = -1

    def resource(self, fields: list[str], lay: Layout, line_no: int) -> None:
        """AS02: a recording of the current block."""
        name, add = self.name, self.problems.add
        bid = lay.get(fields, "BlockId")
        if not self.block or bid != self.block:
            add(
                name,
                line_no,
                "BlockId",
                f"{bid!r} is not the current block {self.block!r}; AS02 follows its RE01",
            )
        ref = lay.get(fields, "ResourceReference")
        if not ref or ref in self.block_res:
            add(name, line_no, "ResourceReference", f"{ref!r} is empty or repeated in this block")
        isrc, valid = self.isrcs(lay.get(fields, "ISRC"))
        resource = (isrc, valid, lay.get(fields, "Title") or None)
        ri = self.resource_index.get(resource)
        if ri is None:
            ri = self.resource_index[resource] = len(self.resources)
            self.resources.append(resource)
        self.block_res[ref] = ri
        self.only = ri if len(self.block_res) == 1 else -1

    def check_head(
        self, fields: list[str], lay: Layout, line_no: int, problems: ProblemCollector
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
        wanted = self.dsr.period_override
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
        self.period = wanted or period or ""
        sender = lay.get(fields, "SenderName") or lay.get(fields, "SenderPartyId")
        self.source = self.dsr.source_override or sender
        if not self.source:
            problems.add(name, line_no, "SenderName", "empty; the sender names the source")

    def add_summary(
        self, fields: list[str], lay: Layout, line_no: int, problems: ProblemCollector
    ) -> tuple[str, Summary | None]:
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

        if not sid or sid in self.summaries:
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
        usage = map_usage(lay.get(fields, "UseType")) or COMMERCIAL_USAGE.get(
            usage_key(commercial).removesuffix("model"), "stream"
        )
        summary = Summary(line_no, sid, commercial, territory, cur, amount, total, usage)
        summary.index = len(self.summaries)
        self.summaries[sid] = summary
        return sid, summary

    def check_su03(
        self,
        fields: list[str],
        lay: Layout,
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
        s = self.summaries.get(sid)
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
        isrc, valid, title = self.resources[
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
            self.period,
            self.source,
            None,
            None,
            None,
            f"{s.detail} UGC" if s else "UGC",
        )

    def check_foot(
        self,
        fields: list[str],
        lay: Layout,
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

    def settle_summaries(self, problems: ProblemCollector) -> None:
        """Check TotalUsages and find each summary's largest-remainder threshold."""
        for sid, s in self.summaries.items():
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

    def file_info(self, sha256: str, size: int, encoding: str) -> FileInfo:
        """After the read: the file-wide checks (HEAD, FOOT, summaries), then what it is."""
        name, problems, add = self.name, self.problems, self.problems.add
        dsr = self.dsr
        if self.head_seen == 0:
            add(name, None, None, "no HEAD record; is this a DSR file?")
        if not self.foot_line:
            add(name, None, None, "no FOOT record: the file is incomplete (cut off?)")
        elif not problems.full:
            # FOOT is the last record, so its line number is the file's line count
            # (blank lines after it, such as an extra newline, are not counted).
            self.check_foot(
                self.foot_fields,
                self.layouts["FOOT"],
                self.foot_line,
                self.foot_line,
                self.summary_records,
                len(self.blocks_seen),
                problems,
            )
        if not problems.full:
            self.settle_summaries(problems)
        problems.raise_if_any()

        reference = self.layouts["HEAD"].get(self.head_fields, "MessageId") or None
        declared: dict[str, Decimal] = {}
        for s in self.summaries.values():
            declared[s.currency] = declared.get(s.currency, Decimal(0)) + s.amount
        for cur, amount in self.own_totals.items():
            declared[cur] = declared.get(cur, Decimal(0)) + amount
        frozen = freeze_totals(declared)
        return FileInfo(
            format=dsr.format,
            source=self.source,
            period=self.period,
            declared_totals=frozen,
            totals=frozen,
            line_count=self.usage_lines,
            physical_lines=self.physical,
            periods=(self.period,),
            sha256=sha256,
            size=size,
            encoding=encoding,
            name=name,
            reference=reference,
        )
