"""Statement PDF: render a :class:`~ledger.domain.statement.Statement` the way a label would send it.

This module owns the look of a statement and nothing else: it runs no query
and computes no figure that is not a sum of the lines it is given (through
:mod:`ledger.domain.statement`). Layout, top to bottom: operator and statement
header, the party and their identifiers, the amount paid now or carried
forward (with the reason), the balance walk, a bar chart of earnings by
source, earnings by track (role, share, the agreement rule that set it and a
licensor's attribution weight), by source, territory and usage type, the
balance movements, and a traceability note; "Page X of Y" on every page.

Why these choices:

* ``invariant=1``: no creation date or random document id, so the same
  statement gives byte-identical files and a stored hash can prove what was
  issued.
* Fonts ship in ``reports/fonts``: DejaVu Sans (regular and bold; Latin,
  Greek, Cyrillic with every accent) for the text, and Droid Sans Fallback
  (CJK: Chinese, Japanese, Korean) for runs DejaVu has no glyph for. Both are
  TrueType outlines (reportlab cannot embed CFF ``.otf``) and only the glyphs
  used are embedded, so a statement stays small.
* Every displayed column goes through :func:`ledger.domain.statement.display_column`,
  so shown figures add up to the shown total, with a "Rounding" line when
  half-even rounding of the rows does not.
* The chart's bar lengths are computed from the amounts with Decimal
  arithmetic and handed to reportlab as whole points: no float touches money.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ledger.domain.money import MONEY_CONTEXT, ZERO, Money, currency, format_share
from ledger.domain.statement import (
    DisplayColumn,
    Movement,
    Statement,
    Total,
    display_column,
    totals_by_source,
    totals_by_territory,
    totals_by_track,
    totals_by_usage,
)
from reports.pdf_style import (
    ACCENT,
    BAND,
    BOLD,
    CARRY,
    CELL_PAD,
    FRAME_W,
    INK,
    KEEP_WITH_HEADING,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MUTED,
    PAGE_H,
    PAGE_W,
    PAY,
    REGULAR,
    RULE,
    cell,
    chart_label,
    draw_text,
    format_amount,
    format_amount_with_currency,
    format_period,
    format_quantity,
    humanise,
    load_fonts,
    markup,
    para,
    para_markup,
    territory_name,
)

# ---------------------------------------------------------------------------
# Page furniture: "Page X of Y" needs the page count, so pages are kept until save().


class _StatementCanvas(Canvas):
    """A canvas that draws the footer (and a running header after page 1) once the
    number of pages is known."""

    statement: Statement | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._furniture(total)
            super().showPage()
        super().save()

    def _furniture(self, total: int) -> None:
        st = self.statement
        if st is None:  # pragma: no cover - set by render_pdf
            return
        page = self.getPageNumber()
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        y = MARGIN_BOTTOM - 8 * mm
        self.line(MARGIN_X, y + 9, PAGE_W - MARGIN_X, y + 9)
        self.setFillColor(MUTED)
        left = f"{st.operator.name} · Royalty statement · {format_period(st.period, st.locale)}"
        draw_text(self, MARGIN_X, y, left, 7)
        draw_text(self, PAGE_W - MARGIN_X, y, f"Page {page} of {total}", 7, right=True)
        if page > 1:
            header = f"{st.party.name} · {st.party.id} · {format_period(st.period, st.locale)}"
            ytop = PAGE_H - MARGIN_TOP + 8 * mm
            draw_text(self, MARGIN_X, ytop, header, 7.5)
            draw_text(self, PAGE_W - MARGIN_X, ytop, f"Currency {st.currency}", 7.5, right=True)
            self.line(MARGIN_X, ytop - 4, PAGE_W - MARGIN_X, ytop - 4)
        self.restoreState()


# ---------------------------------------------------------------------------
# Building blocks


def _table_style(
    n_rows: int, right_from: int, *, has_total: bool, rounding_row: int | None
) -> TableStyle:
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("FONT", (0, 0), (-1, 0), BOLD, 7.5),
        ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("ALIGN", (right_from, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
    ]
    body_end = n_rows - (2 if has_total else 1)
    if rounding_row is not None:
        body_end = rounding_row - 1
    for row in range(2, body_end + 1, 2):
        commands.append(("BACKGROUND", (0, row), (-1, row), BAND))
    if rounding_row is not None:
        commands.append(("TEXTCOLOR", (0, rounding_row), (-1, rounding_row), MUTED))
    if has_total:
        commands += [
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK),
            ("FONT", (0, -1), (-1, -1), BOLD, 8),
        ]
    return TableStyle(commands)


def _totals_table(
    title: str, label: str, rows: Sequence[tuple[str, Total]], st: Statement
) -> list[Flowable]:
    """A "by source / territory / usage" table: name, units, amount, total."""
    code, loc = st.currency, st.locale
    col = display_column([t.amount for _, t in rows], code)
    widths = [FRAME_W - 190, 80, 110]
    data: list[list[Any]] = [[label, "Units", f"Amount ({code})"]]
    for (name, total), shown in zip(rows, col.rows, strict=True):
        data.append(
            [
                cell(name, widths[0]),
                format_quantity(total.quantity, loc),
                format_amount(shown, loc),
            ]
        )
    rounding_row = _add_rounding(data, col, code, loc, blanks=1)
    data.append(
        [
            "Total",
            format_quantity(sum(t.quantity for _, t in rows), loc),
            format_amount(col.total, loc),
        ]
    )
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(_table_style(len(data), 1, has_total=True, rounding_row=rounding_row))
    return [_heading(title), table]


def _add_rounding(
    data: list[list[Any]], col: DisplayColumn, code: str, loc: str, *, blanks: int
) -> int | None:
    if not col.rounding:
        return None
    data.append(["Rounding", *([""] * blanks), format_amount(col.rounding, loc)])
    return len(data) - 1


def _heading(text: str) -> Paragraph:
    return para(text, "h2")


def _track_table(st: Statement) -> list[Flowable]:
    code, loc = st.currency, st.locale
    tracks = totals_by_track(st.lines)
    weights = any(t.attribution_weight is not None for t in tracks)
    col = display_column([t.amount for t in tracks], code)
    header = ["Track", "Role", "Share", "Agreement rule"]
    if weights:
        header.append("Attribution")
    header += ["Units", f"Amount ({code})"]
    if weights:
        widths = [112, 70, 36, 92, 52, 60, FRAME_W - 422]
    else:
        widths = [140, 66, 40, 112, 62, FRAME_W - 420]
    data: list[list[Any]] = [header]
    for track, shown in zip(tracks, col.rows, strict=True):
        title = para_markup(
            f"{markup(track.track_title)}<br/>"
            f'<font size="6.8" color="#5F6B7A">{escape(track.isrc)}</font>',
            "cell",
        )
        row: list[Any] = [
            title,
            cell(humanise(track.role), widths[1]),
            format_share(track.share),
            cell(track.rule_ref, widths[3], "cell_sub"),
        ]
        if weights:
            row.append(
                format_share(track.attribution_weight)
                if track.attribution_weight is not None
                else ""
            )
        row += [format_quantity(track.quantity, loc), format_amount(shown, loc)]
        data.append(row)
    rounding_row = _add_rounding(data, col, code, loc, blanks=len(header) - 2)
    total_row: list[Any] = [
        "Total",
        *([""] * (len(header) - 3)),
        format_quantity(sum(t.quantity for t in tracks), loc),
        format_amount(col.total, loc),
    ]
    data.append(total_row)
    table = Table(data, colWidths=widths, repeatRows=1)
    style = _table_style(len(data), 2, has_total=True, rounding_row=rounding_row)
    style.add("ALIGN", (3, 0), (3, -1), "LEFT")
    style.add("FONT", (3, 1), (3, -2), REGULAR, 6.8)
    style.add("TEXTCOLOR", (3, 1), (3, -2), MUTED)
    table.setStyle(style)
    return [_heading("Earnings by track"), table]


def _movements_table(
    title: str, movements: Sequence[Movement], st: Statement, *, sign: int
) -> list[Flowable]:
    code, loc = st.currency, st.locale
    col = display_column([m.amount if sign > 0 else -m.amount for m in movements], code)
    widths = [62, 90, FRAME_W - 262, 110]
    data: list[list[Any]] = [["Date", "Type", "Description", f"Amount ({code})"]]
    for m, shown in zip(movements, col.rows, strict=True):
        data.append(
            [
                cell(m.date, widths[0]),
                cell(humanise(m.kind), widths[1]),
                cell(m.description, widths[2]),
                format_amount(shown, loc),
            ]
        )
    rounding_row = _add_rounding(data, col, code, loc, blanks=2)
    data.append(["Total", "", "", format_amount(col.total, loc)])
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(_table_style(len(data), 3, has_total=True, rounding_row=rounding_row))
    return [KeepTogether([_heading(title), table])] if len(data) < 12 else [_heading(title), table]


def _header(st: Statement) -> list[Flowable]:
    op, party, loc = st.operator, st.party, st.locale
    left: list[Flowable] = [para(op.name, "h1")]
    if op.address:
        left.append(para(op.address, "muted"))
    left += [para(f"{scheme} {value}", "muted") for scheme, value in op.ids]
    right: list[Flowable] = [
        para("Royalty statement", "title"),
        para(format_period(st.period, loc), "period"),
        para(f"Period {st.period} · Currency {st.currency}", "right_muted"),
    ]
    if st.issued_on:
        right.append(para(f"Issued {st.issued_on}", "right_muted"))
    if st.statement_id:
        right.append(para(f"Statement {st.statement_id}", "right_muted"))
    top = Table([[left, right]], colWidths=[FRAME_W * 0.55, FRAME_W * 0.45])
    top.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, INK),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )

    ids = [("Party ID", party.id), ("Role", humanise(party.kind))]
    if party.ipi:
        ids.append(("IPI", party.ipi))
    if party.isni:
        ids.append(("ISNI", party.isni))
    if party.email:
        ids.append(("Email", party.email))
    party_block: list[Flowable] = [para("STATEMENT FOR", "label"), para(party.name, "party")]
    party_block += [
        para_markup(f'<font color="#5F6B7A">{escape(k)}</font>\u2002{markup(v)}', "base")
        for k, v in ids
    ]

    s = st.summary
    paying = s.payable_now.sign > 0
    pay_block: list[Flowable] = [
        para("PAYABLE NOW" if paying else "NOTHING PAYABLE THIS PERIOD", "label"),
        para(format_amount_with_currency(s.payable_now, loc), "big"),
    ]
    carried = display_column([s.carried_forward], st.currency).total
    minor = currency(st.currency).minor
    if 0 < abs(s.carried_forward.amount) < minor:
        # A sub-cent remainder: say so rather than show it rounded up to one cent.
        smallest = format_amount(Money(minor, st.currency), loc)
        pay_block.append(para(f"Carried forward less than {smallest} {st.currency}", "base"))
    elif carried or s.carry_reason:
        pay_block.append(
            para(f"Carried forward {format_amount(carried, loc)} {st.currency}", "base")
        )
    if s.carry_reason:
        pay_block.append(para(f"Reason: {s.carry_reason}", "muted"))
    pay_box = Table([[pay_block]], colWidths=[FRAME_W * 0.40])
    pay_box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), PAY if paying else CARRY),
                ("BOX", (0, 0), (-1, -1), 0.6, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 7),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 9),
            ]
        )
    )
    info = Table([[party_block, pay_box]], colWidths=[FRAME_W * 0.60, FRAME_W * 0.40])
    info.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [top, Spacer(1, 12), info, Spacer(1, 4)]


def _summary_table(st: Statement, width: float) -> Table:
    s, code, loc = st.summary, st.currency, st.locale
    labels = ["Opening balance", "Earnings", "Fees", "Recoupment of advances", "Payments made"]
    walk = display_column(
        [s.opening, s.earned, -s.fees, -s.recouped, -s.paid], code, total_of=s.closing
    )
    data: list[list[Any]] = [["Balance", f"Amount ({code})"]]
    data += [[label, format_amount(v, loc)] for label, v in zip(labels, walk.rows, strict=True)]
    rounding_walk = _add_rounding(data, walk, code, loc, blanks=0)
    closing_row = len(data)
    # Before this period's payment: `royalty balances` shows the balance after it.
    data.append(["Balance due", format_amount(walk.total, loc)])
    split = display_column([s.payable_now, s.carried_forward], code, total_of=s.closing)
    data.append(["Paid now", format_amount(split.rows[0], loc)])
    data.append(["Carried forward", format_amount(split.rows[1], loc)])
    rounding_split = _add_rounding(data, split, code, loc, blanks=0)
    table = Table(data, colWidths=[width - 95, 95])
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("FONT", (0, 0), (-1, 0), BOLD, 7.5),
        ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.8),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.8),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("LINEABOVE", (0, closing_row), (-1, closing_row), 0.8, INK),
        ("FONT", (0, closing_row), (-1, closing_row), BOLD, 9),
        ("BACKGROUND", (0, closing_row), (-1, closing_row), BAND),
        ("LINEABOVE", (0, closing_row + 1), (-1, closing_row + 1), 0.4, RULE),
    ]
    for r in (rounding_walk, rounding_split):
        if r is not None:
            commands.append(("TEXTCOLOR", (0, r), (-1, r), MUTED))
    table.setStyle(TableStyle(commands))
    return table


def _chart(st: Statement, width: float) -> Drawing:
    """Horizontal bars of earnings by source, longest first, amounts at the bar ends."""
    sources = totals_by_source(st.lines)[:8]
    code, loc = st.currency, st.locale
    bar_h, gap, top_pad = 11, 7, 18
    height = top_pad + max(len(sources), 1) * (bar_h + gap) + 4
    drawing = Drawing(width, height)
    drawing.add(
        String(0, height - 10, "Earnings by source", fontName=BOLD, fontSize=9, fillColor=INK)
    )
    label_w, value_w = 78, 62
    bar_space = int(width) - label_w - value_w - 6
    peak = max((t.amount.amount for t in sources), default=ZERO)
    y = height - top_pad - bar_h
    for total in sources:
        length = 0
        if peak > 0 and total.amount.sign > 0:
            length = max(1, int(MONEY_CONTEXT.divide(total.amount.amount * bar_space, peak)))
        name = total.key if len(total.key) <= 16 else total.key[:15] + "…"
        chart_label(drawing, 0, y + 2.5, name, 7.5)
        drawing.add(Rect(label_w, y, bar_space, bar_h, fillColor=BAND, strokeColor=None))
        drawing.add(Rect(label_w, y, length, bar_h, fillColor=ACCENT, strokeColor=None))
        shown = display_column([total.amount], code).total
        drawing.add(
            String(
                int(width),
                y + 2.5,
                format_amount(shown, loc),
                fontName=REGULAR,
                fontSize=7.5,
                fillColor=INK,
                textAnchor="end",
            )
        )
        y -= bar_h + gap
    if not sources:
        drawing.add(
            String(
                0,
                y + 2.5,
                "No earnings this period",
                fontName=REGULAR,
                fontSize=7.5,
                fillColor=MUTED,
            )
        )
    drawing.add(Line(label_w, 2, label_w, height - top_pad + 2, strokeColor=RULE, strokeWidth=0.5))
    return drawing


def _notes(st: Statement) -> list[Flowable]:
    lines = [
        "How to read this statement. Earnings are computed at ten decimal places from "
        "every revenue line; each figure shown is rounded half-even to the currency's minor "
        "unit, and a Rounding line appears where the rounded figures would not add up to "
        "the rounded total. The CSV statement carries the same lines at full precision. "
        "Amounts below the payment threshold, unrecouped advances and sub-unit remainders "
        "stay in your balance and are carried forward.",
    ]
    if st.generated_from:
        lines.append("Generated from: " + "; ".join(st.generated_from))
    return [Spacer(1, 10), *(para(text, "note") for text in lines)]


# ---------------------------------------------------------------------------
# The document


def render_pdf(statement: Statement) -> bytes:
    """Render a statement to PDF bytes; the same statement always gives the same bytes."""
    load_fonts()
    st = statement
    loc = st.locale
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        # The frame pads its content by 6 pt; take that off the margins so the
        # content, the header rule and the footer all line up at MARGIN_X.
        leftMargin=MARGIN_X - 6,
        rightMargin=MARGIN_X - 6,
        topMargin=MARGIN_TOP - 6,
        bottomMargin=MARGIN_BOTTOM - 6,
        title=f"Royalty statement {st.period} {st.party.name}",
        author=st.operator.name,
        subject=f"{st.party.id} {st.period} {st.currency}",
        creator="Royalty Ledger",
        producer="Royalty Ledger (reportlab)",
        invariant=1,
    )
    story: list[Flowable] = _header(st)

    left_w = FRAME_W * 0.50
    right_w = FRAME_W * 0.50 - 16
    overview = Table(
        [[_summary_table(st, left_w), _chart(st, right_w)]], colWidths=[left_w + 16, right_w]
    )
    overview.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), 16),
                ("RIGHTPADDING", (1, 0), (1, 0), 0),
            ]
        )
    )
    story += [_heading("Summary"), overview]

    if st.lines:
        story += _track_table(st)
        story.append(CondPageBreak(KEEP_WITH_HEADING))
        story += _totals_table(
            "Earnings by source", "Source", [(t.key, t) for t in totals_by_source(st.lines)], st
        )
        story.append(CondPageBreak(KEEP_WITH_HEADING))
        story += _totals_table(
            "Earnings by territory",
            "Territory",
            [(f"{territory_name(t.key, loc)} ({t.key})", t) for t in totals_by_territory(st.lines)],
            st,
        )
        story.append(CondPageBreak(KEEP_WITH_HEADING))
        story += _totals_table(
            "Earnings by usage type",
            "Usage type",
            [(humanise(t.key), t) for t in totals_by_usage(st.lines)],
            st,
        )
    else:
        story += [_heading("Earnings"), para("No earnings were posted to you this period.")]
    for title, group, sign in (
        ("Adjustments", st.adjustments, 1),
        ("Fees", st.fees, -1),
        ("Recoupment of advances", st.recoupments, -1),
        ("Payments", st.payments, -1),
    ):
        if group:
            story += _movements_table(title, group, st, sign=sign)
    story += _notes(st)

    def canvasmaker(*args: Any, **kwargs: Any) -> _StatementCanvas:
        canvas = _StatementCanvas(*args, **kwargs)
        canvas.statement = st
        return canvas

    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


__all__ = [
    "format_amount",
    "format_amount_with_currency",
    "format_period",
    "format_quantity",
    "humanise",
    "render_pdf",
    "territory_name",
]
