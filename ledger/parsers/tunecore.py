"""TuneCore sales reports: comma-separated, UTF-8 with a BOM, CRLF line ends.

``Net Sales`` is what the store paid, in ``Net Sales Currency``; TuneCore
converted it to ``Currency`` at ``Exchange Rate`` and wrote ``Total Earned``.
A line's amount is ``Total Earned`` in ``Currency``; the original amount,
currency and rate stay on the line, and the conversion is checked to the last
digit TuneCore wrote. ``Sales Period`` is the usage period.
"""

from __future__ import annotations

from typing import Final

from ledger.parsers.mapped import Mapping, make_mapping

SOURCE: Final = "TuneCore"
HEADER: Final = (
    "Sales Period",
    "Posted Date",
    "Store Name",
    "Country Of Sale",
    "Artist",
    "Release Type",
    "Release Title",
    "Song Title",
    "Label",
    "UPC",
    "Optional UPC",
    "TC Song ID",
    "Optional ISRC",
    "Sales Type",
    "# Units Sold",
    "Per Unit Price",
    "Net Sales",
    "Net Sales Currency",
    "Exchange Rate",
    "Total Earned",
    "Currency",
)
"""The columns of a TuneCore sales report, in order. Open files with
:func:`ledger.parsers.open_revenue_file` (``fmt='tunecore'`` or detected)."""

MAPPING: Final[Mapping] = make_mapping(
    {
        "isrc": "Optional ISRC",
        "title": "Song Title",
        "source": "Store Name",
        "territory": "Country Of Sale",
        "usage": "Sales Type",
        "quantity": "# Units Sold",
        "amount": "Total Earned",
        "currency": "Currency",
        "period": "Sales Period",
        "original_amount": "Net Sales",
        "original_currency": "Net Sales Currency",
        "fx_rate": "Exchange Rate",
    },
    usage_map={"Streaming": "stream", "Download": "download", "UGC": "ugc"},
    name=SOURCE,
    delimiter=",",
    unknown_usage="other",
    format="tunecore",
)
