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
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
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

from ledger.domain.money import MONEY_CONTEXT, ZERO, currency, format_share
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

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "RLSans"
BOLD = "RLSans-Bold"
CJK = "RLCJK"

INK = colors.HexColor("#1B2333")
MUTED = colors.HexColor("#5F6B7A")
RULE = colors.HexColor("#C9D0DA")
BAND = colors.HexColor("#EEF1F5")
ACCENT = colors.HexColor("#1F5FA8")
PAY = colors.HexColor("#E7F2EA")
CARRY = colors.HexColor("#FFF4DC")

PAGE_W, PAGE_H = A4
MARGIN_X = 18 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 20 * mm
FRAME_W = PAGE_W - 2 * MARGIN_X
_CELL_PAD = 4
_KEEP_WITH_HEADING = 110  # points: a heading never ends a page without a few rows under it


# ---------------------------------------------------------------------------
# Fonts


@lru_cache(maxsize=1)
def _fonts() -> tuple[frozenset[int], frozenset[int]]:
    """Register the bundled fonts once; return the code points each can draw."""
    regular = TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf"))
    bold = TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    cjk = TTFont(CJK, str(FONT_DIR / "DroidSansFallback.ttf"))
    for font in (regular, bold, cjk):
        pdfmetrics.registerFont(font)
    pdfmetrics.registerFontFamily(
        REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD
    )
    return frozenset(regular.face.charToGlyph), frozenset(cjk.face.charToGlyph)


def _markup(text: str) -> str:
    """Escape text for a Paragraph and switch to the CJK font for runs DejaVu cannot draw."""
    latin, _ = _fonts()
    out: list[str] = []
    run: list[str] = []
    run_cjk = False
    for ch in text:
        is_cjk = ord(ch) not in latin and not ch.isspace()
        if is_cjk != run_cjk and run:
            out.append(_wrap("".join(run), run_cjk))
            run = []
        run_cjk = is_cjk
        run.append(ch)
    if run:
        out.append(_wrap("".join(run), run_cjk))
    return "".join(out)


def _wrap(text: str, cjk: bool) -> str:
    safe = escape(text)
    return f'<font face="{CJK}">{safe}</font>' if cjk else safe


def _runs(text: str, font: str = "") -> list[tuple[str, str]]:
    """Split text into (run, font) pieces: DejaVu where it has glyphs, CJK elsewhere."""
    latin, _ = _fonts()
    font = font or REGULAR
    runs: list[tuple[str, str]] = []
    for ch in text:
        want = font if ord(ch) in latin or ch.isspace() else CJK
        if runs and runs[-1][1] == want:
            runs[-1] = (runs[-1][0] + ch, want)
        else:
            runs.append((ch, want))
    return runs


def _draw_text(
    canvas: Canvas, x: float, y: float, text: str, size: float, *, right: bool = False
) -> None:
    """Draw one line of text directly on the canvas, switching fonts per run."""
    runs = _runs(text)
    if right:
        x -= sum(stringWidth(run, font, size) for run, font in runs)
    for run, font in runs:
        canvas.setFont(font, size)
        canvas.drawString(x, y, run)
        x += stringWidth(run, font, size)


def _label(drawing: Drawing, x: float, y: float, text: str, size: float) -> None:
    """A chart label as one String per font run."""
    for run, font in _runs(text):
        drawing.add(String(x, y, run, fontName=font, fontSize=size, fillColor=INK))
        x += stringWidth(run, font, size)


# ---------------------------------------------------------------------------
# Formatting


def format_amount(amount: Decimal, code: str, locale: str = "en_US") -> str:
    """An amount already rounded for display, without the currency sign: ``-1,234.56``."""
    return format_currency(amount, code, format="#,##0.00", locale=locale, currency_digits=True)


def format_amount_with_currency(amount: Decimal, code: str, locale: str = "en_US") -> str:
    """An amount with the currency, as a person reads it: ``$1,234.56``, ``1.234,56 €``."""
    return format_currency(amount, code, locale=locale)


def format_quantity(quantity: int, locale: str = "en_US") -> str:
    """A count of units (streams, downloads) with grouping."""
    from babel.numbers import format_decimal

    return format_decimal(quantity, locale=locale)


def format_period(period: str, locale: str = "en_US") -> str:
    """``2026-10`` as ``October 2026`` in the statement's language."""
    import datetime

    year, month = (int(p) for p in period.split("-"))
    return format_date(datetime.date(year, month, 1), "MMMM yyyy", locale=locale)


_WORDS = {"ugc": "UGC", "ai": "AI", "dsp": "DSP", "ugc_stream": "UGC stream"}


def humanise(code: str) -> str:
    """``training_data_licensor`` as ``Training data licensor``; ``ugc`` as ``UGC``."""
    if code.lower() in _WORDS:
        return _WORDS[code.lower()]
    text = code.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def territory_name(code: str, locale: str = "en_US") -> str:
    """``US`` as ``United States``; ``WW`` as ``Worldwide``; unknown codes as themselves."""
    if code.upper() == "WW":
        return "Worldwide"
    name = Locale.parse(locale).territories.get(code.upper())
    return f"{name}" if name and code.upper() != "ZZ" else code


# ---------------------------------------------------------------------------
# Styles


@lru_cache(maxsize=1)
def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    base = ParagraphStyle("base", fontName=REGULAR, fontSize=8.5, leading=11, textColor=INK)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "cell_sub": ParagraphStyle(
            "cell_sub", parent=base, fontSize=6.8, leading=8.5, textColor=MUTED
        ),
        "head": ParagraphStyle(
            "head", parent=base, fontName=BOLD, fontSize=7.5, leading=9.5, textColor=MUTED
        ),
        "head_r": ParagraphStyle(
            "head_r",
            parent=base,
            fontName=BOLD,
            fontSize=7.5,
            leading=9.5,
            textColor=MUTED,
            alignment=TA_RIGHT,
        ),
        "h1": ParagraphStyle(
            "h1", parent=base, fontName=BOLD, fontSize=17, leading=22, spaceAfter=2
        ),
        "muted": ParagraphStyle("muted", parent=base, textColor=MUTED, fontSize=8, leading=10.5),
        "period": ParagraphStyle(
            "period", parent=base, fontName=BOLD, fontSize=11, leading=15, alignment=TA_RIGHT
        ),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=BOLD,
            fontSize=15,
            leading=22,
            alignment=TA_RIGHT,
            textColor=ACCENT,
        ),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "right_muted": ParagraphStyle(
            "right_muted",
            parent=base,
            alignment=TA_RIGHT,
            textColor=MUTED,
            fontSize=8,
            leading=10.5,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=10,
            spaceAfter=4,
            textColor=INK,
        ),
        "label": ParagraphStyle(
            "label", parent=base, fontName=BOLD, fontSize=7, leading=9, textColor=MUTED
        ),
        "party": ParagraphStyle(
            "party", parent=base, fontName=BOLD, fontSize=13, leading=17, spaceAfter=2
        ),
        "big": ParagraphStyle("big", parent=base, fontName=BOLD, fontSize=17, leading=22),
        "note": ParagraphStyle("note", parent=base, fontSize=7, leading=9, textColor=MUTED),
    }


def _p(text: str, style: str = "base") -> Paragraph:
    return Paragraph(_markup(text), _styles()[style])


def _cell(text: str, width: float, style: str = "cell") -> str | Paragraph:
    """A table cell: the plain string when it is Latin-only and fits on one line (a
    plain cell lays out many times faster than a Paragraph), a wrapping Paragraph
    with the CJK fallback otherwise. The table style gives plain cells the same font."""
    latin, _ = _fonts()
    sty = _styles()[style]
    if (
        all(ord(ch) in latin for ch in text)
        and "\n" not in text
        and stringWidth(text, sty.fontName, sty.fontSize) <= width - 2 * _CELL_PAD
    ):
        return text
    return Paragraph(_markup(text), sty)


def _pm(markup: str, style: str = "base") -> Paragraph:
    """A paragraph from markup the caller has already escaped."""
    return Paragraph(markup, _styles()[style])


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
        _draw_text(self, MARGIN_X, y, left, 7)
        _draw_text(self, PAGE_W - MARGIN_X, y, f"Page {page} of {total}", 7, right=True)
        if page > 1:
            header = f"{st.party.name} · {st.party.id} · {format_period(st.period, st.locale)}"
            ytop = PAGE_H - MARGIN_TOP + 8 * mm
            _draw_text(self, MARGIN_X, ytop, header, 7.5)
            _draw_text(self, PAGE_W - MARGIN_X, ytop, f"Currency {st.currency}", 7.5, right=True)
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
        ("LEFTPADDING", (0, 0), (-1, -1), _CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PAD),
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
                _cell(name, widths[0]),
                format_quantity(total.quantity, loc),
                format_amount(shown, code, loc),
            ]
        )
    rounding_row = _add_rounding(data, col, code, loc, blanks=1)
    data.append(
        [
            "Total",
            format_quantity(sum(t.quantity for _, t in rows), loc),
            format_amount(col.total, code, loc),
        ]
    )
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(_table_style(len(data), 1, has_total=True, rounding_row=rounding_row))
    return [_heading(title), table]


def _add_rounding(
    data: list[list[Any]], col: DisplayColumn, code: str, loc: str, *, blanks: int
) -> int | None:
    if col.rounding == 0:
        return None
    data.append(["Rounding", *([""] * blanks), format_amount(col.rounding, code, loc)])
    return len(data) - 1


def _heading(text: str) -> Paragraph:
    return _p(text, "h2")


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
        title = _pm(
            f"{_markup(track.track_title)}<br/>"
            f'<font size="6.8" color="#5F6B7A">{escape(track.isrc)}</font>',
            "cell",
        )
        row: list[Any] = [
            title,
            _cell(humanise(track.role), widths[1]),
            format_share(track.share),
            _cell(track.rule_ref, widths[3], "cell_sub"),
        ]
        if weights:
            row.append(
                format_share(track.attribution_weight)
                if track.attribution_weight is not None
                else ""
            )
        row += [format_quantity(track.quantity, loc), format_amount(shown, code, loc)]
        data.append(row)
    rounding_row = _add_rounding(data, col, code, loc, blanks=len(header) - 2)
    total_row: list[Any] = [
        "Total",
        *([""] * (len(header) - 3)),
        format_quantity(sum(t.quantity for t in tracks), loc),
        format_amount(col.total, code, loc),
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
    col = display_column([m.amount * sign for m in movements], code)
    widths = [62, 90, FRAME_W - 262, 110]
    data: list[list[Any]] = [["Date", "Type", "Description", f"Amount ({code})"]]
    for m, shown in zip(movements, col.rows, strict=True):
        data.append(
            [
                _cell(m.date, widths[0]),
                _cell(humanise(m.kind), widths[1]),
                _cell(m.description, widths[2]),
                format_amount(shown, code, loc),
            ]
        )
    rounding_row = _add_rounding(data, col, code, loc, blanks=2)
    data.append(["Total", "", "", format_amount(col.total, code, loc)])
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(_table_style(len(data), 3, has_total=True, rounding_row=rounding_row))
    return [KeepTogether([_heading(title), table])] if len(data) < 12 else [_heading(title), table]


def _header(st: Statement) -> list[Flowable]:
    op, party, loc = st.operator, st.party, st.locale
    left: list[Flowable] = [_p(op.name, "h1")]
    if op.address:
        left.append(_p(op.address, "muted"))
    left += [_p(f"{scheme} {value}", "muted") for scheme, value in op.ids]
    right: list[Flowable] = [
        _p("Royalty statement", "title"),
        _p(format_period(st.period, loc), "period"),
        _p(f"Period {st.period} · Currency {st.currency}", "right_muted"),
    ]
    if st.issued_on:
        right.append(_p(f"Issued {st.issued_on}", "right_muted"))
    if st.statement_id:
        right.append(_p(f"Statement {st.statement_id}", "right_muted"))
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
    party_block: list[Flowable] = [_p("STATEMENT FOR", "label"), _p(party.name, "party")]
    party_block += [
        _pm(f'<font color="#5F6B7A">{escape(k)}</font>\u2002{_markup(v)}', "base") for k, v in ids
    ]

    s = st.summary
    paying = s.payable_now > 0
    pay_block: list[Flowable] = [
        _p("PAYABLE NOW" if paying else "NOTHING PAYABLE THIS PERIOD", "label"),
        _p(format_amount_with_currency(s.payable_now, st.currency, loc), "big"),
    ]
    carried = display_column([s.carried_forward], st.currency).total
    minor = currency(st.currency).minor
    if 0 < abs(s.carried_forward) < minor:
        # A sub-cent remainder: say so rather than show it rounded up to one cent.
        pay_block.append(
            _p(
                f"Carried forward less than {format_amount(minor, st.currency, loc)} {st.currency}",
                "base",
            )
        )
    elif carried != 0 or s.carry_reason:
        pay_block.append(
            _p(f"Carried forward {format_amount(carried, st.currency, loc)} {st.currency}", "base")
        )
    if s.carry_reason:
        pay_block.append(_p(f"Reason: {s.carry_reason}", "muted"))
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
        [s.opening, s.earned, -s.fees, -s.recouped, -s.paid], code, total=s.closing
    )
    data: list[list[Any]] = [["Balance", f"Amount ({code})"]]
    data += [
        [label, format_amount(v, code, loc)] for label, v in zip(labels, walk.rows, strict=True)
    ]
    rounding_walk = _add_rounding(data, walk, code, loc, blanks=0)
    closing_row = len(data)
    # Before this period's payment: `royalty balances` shows the balance after it.
    data.append(["Balance due", format_amount(walk.total, code, loc)])
    split = display_column([s.payable_now, s.carried_forward], code, total=s.closing)
    data.append(["Paid now", format_amount(split.rows[0], code, loc)])
    data.append(["Carried forward", format_amount(split.rows[1], code, loc)])
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
    peak = max((t.amount for t in sources), default=ZERO)
    y = height - top_pad - bar_h
    for total in sources:
        length = 0
        if peak > 0 and total.amount > 0:
            length = max(1, int(MONEY_CONTEXT.divide(total.amount * bar_space, peak)))
        name = total.key if len(total.key) <= 16 else total.key[:15] + "…"
        _label(drawing, 0, y + 2.5, name, 7.5)
        drawing.add(Rect(label_w, y, bar_space, bar_h, fillColor=BAND, strokeColor=None))
        drawing.add(Rect(label_w, y, length, bar_h, fillColor=ACCENT, strokeColor=None))
        shown = display_column([total.amount], code).total
        drawing.add(
            String(
                int(width),
                y + 2.5,
                format_amount(shown, code, loc),
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
    return [Spacer(1, 10), *(_p(text, "note") for text in lines)]


# ---------------------------------------------------------------------------
# The document


def render_pdf(statement: Statement) -> bytes:
    """Render a statement to PDF bytes; the same statement always gives the same bytes."""
    _fonts()
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
        story.append(CondPageBreak(_KEEP_WITH_HEADING))
        story += _totals_table(
            "Earnings by source", "Source", [(t.key, t) for t in totals_by_source(st.lines)], st
        )
        story.append(CondPageBreak(_KEEP_WITH_HEADING))
        story += _totals_table(
            "Earnings by territory",
            "Territory",
            [(f"{territory_name(t.key, loc)} ({t.key})", t) for t in totals_by_territory(st.lines)],
            st,
        )
        story.append(CondPageBreak(_KEEP_WITH_HEADING))
        story += _totals_table(
            "Earnings by usage type",
            "Usage type",
            [(humanise(t.key), t) for t in totals_by_usage(st.lines)],
            st,
        )
    else:
        story += [_heading("Earnings"), _p("No earnings were posted to you this period.")]
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
