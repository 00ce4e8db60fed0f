"""DistroKid "bank details" exports: tab-separated, one line per store, track, country, month.

Read through the mapping engine (:mod:`ledger.parsers.mapped`) with the
columns DistroKid writes. ``Sale Month`` is the usage period of each line, so
a late correction for an earlier month (often a negative line) keeps its own
month. Amounts are ``Earnings (USD)`` with up to 8 decimals; ISRCs may come
hyphenated. Store usage words DistroKid adds over time become ``other``
rather than blocking the import.
"""

from __future__ import annotations

from typing import Final

from ledger.parsers.mapped import Mapping, make_mapping

SOURCE: Final = "DistroKid"
HEADER: Final = (
    "Date Inserted",
    "Reporting Date",
    "Sale Month",
    "Store",
    "Artist",
    "Title",
    "ISRC",
    "UPC",
    "Quantity",
    "Team Percentage",
    "Source Type",
    "Country of Sale",
    "Songwriter Royalties Withheld (USD)",
    "Earnings (USD)",
    "Recoup (USD)",
)
"""The columns of a DistroKid bank-details export, in order. Open files with
:func:`ledger.parsers.open_revenue_file` (``fmt='distrokid'`` or detected)."""

MAPPING: Final[Mapping] = make_mapping(
    {
        "isrc": "ISRC",
        "title": "Title",
        "source": "Store",
        "territory": "Country of Sale",
        "usage": "Source Type",
        "quantity": "Quantity",
        "amount": "Earnings (USD)",
        "period": "Sale Month",
    },
    constants={"currency": "USD"},
    usage_map={"Stream": "stream", "UGC": "ugc", "Download": "download", "Radio": "radio"},
    name=SOURCE,
    delimiter="\t",
    unknown_usage="other",
    format="distrokid",
)
