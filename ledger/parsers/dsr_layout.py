"""The record layouts of a DDEX DSR flat file (Basic Audio profile).

A heading line (``#SU02`` ...) in the file decides which column holds which
field; without one, the profile's layout below is assumed. :class:`Layout`
finds a named field in a record's fields.
"""

from __future__ import annotations

from typing import Final


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

COMMERCIAL_USAGE: Final = {"usergeneratedcontent": "ugc", "radio": "radio"}


class Layout:
    """Where each named field of a record kind sits, and how many fields a record has."""

    __slots__ = ("index", "width")

    def __init__(self, names: list[str] | tuple[str, ...]) -> None:
        self.index = {n: i + 1 for i, n in enumerate(names) if n}
        self.width = len(names) + 1

    def get(self, fields: list[str], name: str) -> str:
        i = self.index.get(name)
        return fields[i].strip() if i is not None and i < len(fields) else ""


def su_indices(lay: Layout) -> tuple[int, int, int, int, int, int]:
    """(width, BlockId, SummaryRecordId, TransactedResource, NumberOfStreams, UseType) of a
    usage line: the positions its hot loop reads."""
    i = lay.index
    return (
        lay.width,
        i["BlockId"],
        i["SummaryRecordId"],
        i["TransactedResource"],
        i["NumberOfStreams"],
        i["UseType"],
    )
