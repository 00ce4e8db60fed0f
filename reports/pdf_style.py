"""The look of a statement PDF: fonts, colours, page geometry, paragraph styles, formats.

Shared by the page furniture and tables of :mod:`reports.pdf`. Fonts ship in
``reports/fonts``: DejaVu Sans (regular and bold; Latin, Greek, Cyrillic with
every accent) for the text, and Droid Sans Fallback (CJK: Chinese, Japanese,
Korean) for runs DejaVu has no glyph for. Both are TrueType outlines
(reportlab cannot embed CFF ``.otf``) and only the glyphs used are embedded.
Amounts are formatted by babel from :class:`~ledger.domain.money.Money` values
already rounded for display.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from ledger.domain.money import Money
from ledger.domain.periods import Period

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
CELL_PAD = 4
KEEP_WITH_HEADING = 110  # points: a heading never ends a page without a few rows under it


# ---------------------------------------------------------------------------
# Fonts


@lru_cache(maxsize=1)
def load_fonts() -> tuple[frozenset[int], frozenset[int]]:
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


def markup(text: str) -> str:
    """Escape text for a Paragraph and switch to the CJK font for runs DejaVu cannot draw."""
    latin, _ = load_fonts()
    out: list[str] = []
    run: list[str] = []
    run_cjk = False
    for ch in text:
        is_cjk = ord(ch) not in latin and not ch.isspace()
        if is_cjk != run_cjk and run:
            out.append(wrap("".join(run), run_cjk))
            run = []
        run_cjk = is_cjk
        run.append(ch)
    if run:
        out.append(wrap("".join(run), run_cjk))
    return "".join(out)


def wrap(text: str, cjk: bool) -> str:
    safe = escape(text)
    return f'<font face="{CJK}">{safe}</font>' if cjk else safe


def runs(text: str, font: str = "") -> list[tuple[str, str]]:
    """Split text into (run, font) pieces: DejaVu where it has glyphs, CJK elsewhere."""
    latin, _ = load_fonts()
    font = font or REGULAR
    runs: list[tuple[str, str]] = []
    for ch in text:
        want = font if ord(ch) in latin or ch.isspace() else CJK
        if runs and runs[-1][1] == want:
            runs[-1] = (runs[-1][0] + ch, want)
        else:
            runs.append((ch, want))
    return runs


def draw_text(
    canvas: Canvas, x: float, y: float, text: str, size: float, *, right: bool = False
) -> None:
    """Draw one line of text directly on the canvas, switching fonts per run."""
    pieces = runs(text)
    if right:
        x -= sum(stringWidth(run, font, size) for run, font in pieces)
    for run, font in pieces:
        canvas.setFont(font, size)
        canvas.drawString(x, y, run)
        x += stringWidth(run, font, size)


def chart_label(drawing: Drawing, x: float, y: float, text: str, size: float) -> None:
    """A chart label as one String per font run."""
    for run, font in runs(text):
        drawing.add(String(x, y, run, fontName=font, fontSize=size, fillColor=INK))
        x += stringWidth(run, font, size)


# ---------------------------------------------------------------------------
# Formatting


def format_amount(amount: Money, locale: str = "en_US") -> str:
    """An amount already rounded for display, without the currency sign: ``-1,234.56``."""
    return format_currency(
        amount.amount, amount.currency, format="#,##0.00", locale=locale, currency_digits=True
    )


def format_amount_with_currency(amount: Money, locale: str = "en_US") -> str:
    """An amount with the currency, as a person reads it: ``$1,234.56``, ``1.234,56 €``."""
    return format_currency(amount.amount, amount.currency, locale=locale)


def format_quantity(quantity: int, locale: str = "en_US") -> str:
    """A count of units (streams, downloads) with grouping."""
    from babel.numbers import format_decimal

    return format_decimal(quantity, locale=locale)


def format_period(period: Period, locale: str = "en_US") -> str:
    """``2026-10`` as ``October 2026`` in the statement's language."""
    import datetime

    return format_date(datetime.date(period.year, period.month, 1), "MMMM yyyy", locale=locale)


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
def styles() -> dict[str, ParagraphStyle]:
    load_fonts()
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


def para(text: str, style: str = "base") -> Paragraph:
    return Paragraph(markup(text), styles()[style])


def cell(text: str, width: float, style: str = "cell") -> str | Paragraph:
    """A table cell: the plain string when it is Latin-only and fits on one line (a
    plain cell lays out many times faster than a Paragraph), a wrapping Paragraph
    with the CJK fallback otherwise. The table style gives plain cells the same font."""
    latin, _ = load_fonts()
    sty = styles()[style]
    if (
        all(ord(ch) in latin for ch in text)
        and "\n" not in text
        and stringWidth(text, sty.fontName, sty.fontSize) <= width - 2 * CELL_PAD
    ):
        return text
    return Paragraph(markup(text), sty)


def para_markup(markup: str, style: str = "base") -> Paragraph:
    """A paragraph from markup the caller has already escaped."""
    return Paragraph(markup, styles()[style])
