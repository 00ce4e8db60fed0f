"""Writers of revenue files in every supported format, for tests.

Plain functions, no pytest fixtures, so any test module can import them. The
``write_sample_*`` functions write files with the same content as the samples
finance teams receive (the catalog of "Walk My Walk"); the builders take rows
so tests can make any variant, and :func:`write_text` writes any text with the
encoding quirks of real files (BOM, UTF-16, Latin-1, CRLF, gzip).

Expected totals (each file's own totals, to the last decimal):

- DSR US: USD 24980.18 (summaries S1 21873.41 + S2 3106.77)
- DSR GB: GBP 6488.20 (includes QZK6H2600014, an ISRC not in the label's catalog)
- DistroKid: USD 17686.62794924 (incl. a -9.84 correction for 2026-09)
- TuneCore: USD 5367.6311 (Total Earned; converted from EUR and CAD)
"""

from __future__ import annotations

import codecs
import gzip
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ledger.domain.money import Money

# ---------------------------------------------------------------------------
# Generic writer


def write_text(
    path: str | Path,
    text: str,
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    crlf: bool = False,
    gz: bool = False,
) -> Path:
    """Write ``text`` (with ``\\n`` line ends) as real files come: any encoding, BOM, CRLF, gzip.

    ``encoding`` is utf-8, utf-16-le, utf-16-be, latin-1 or any Python codec;
    UTF-16 always gets its BOM (``bom`` adds one to UTF-8).
    """
    path = Path(path)
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    data = text.encode(encoding)
    enc = codecs.lookup(encoding).name
    if enc == "utf-16-le":
        data = codecs.BOM_UTF16_LE + data
    elif enc == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    elif bom and enc == "utf-8":
        data = codecs.BOM_UTF8 + data
    if gz:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------
# DDEX DSR


@dataclass(frozen=True)
class Summary:
    sid: str
    model: str
    territory: str
    currency: str
    net_revenue: str
    total_usages: int | None = None
    """None: the sum of the file's usage lines for this summary (a correct file)."""


@dataclass(frozen=True)
class Usage:
    sid: str
    streams: int | str
    use_type: str = "OnDemandStream"


@dataclass(frozen=True)
class UgcUsage:
    """An SU03 line: its own revenue."""

    sid: str
    streams: int
    net_revenue: str
    currency: str = ""
    territory: str = ""
    use_type: str = "UserGeneratedContent"


@dataclass(frozen=True)
class Block:
    isrc: str
    title: str
    usages: Sequence[Usage | UgcUsage] = field(default_factory=tuple)
    upc: str = "0198765432102"
    artist: str = "Rust Walk My Walk"
    duration: str = "PT3M00S"


HEAD_HEADING = (
    "#HEAD\tMessageVersion\tProfile\tProfileVersion\tMessageId\tMessageCreatedDateTime\tFileNumber"
    "\tNumberOfFiles\tUsageStartDate\tUsageEndDate\tSenderPartyId\tSenderName\tServiceDescription"
    "\tRecipientPartyId\tRecipientName\tRepresentedRepertoire"
)
SY_HEADING = (
    "#SY01.02\tSummaryRecordId\tDistributionChannel\tDistributionChannelDPID\tCommercialModel"
    "\tUseType\tTerritory\tServiceDescription\tTotalUsages\tSubscribers\tCurrencyOfReporting"
    "\tNetRevenue\tIndirectValue\tCurrencyOfTransaction\tExchangeRate"
)
RE_HEADING = (
    "#RE01.02\tBlockId\tReleaseReference\tDspReleaseId\tProprietaryReleaseId\tCatalogNumber\tICPN"
    "\tDisplayArtistName\tDisplayArtistPartyId\tTitle\tSubTitle\tReleaseType\tLabelName\tPLine"
    "\tDataProviderName\tReleaseDate"
)
AS_HEADING = (
    "#AS02.03\tBlockId\tResourceReference\tDspResourceId\tISRC\tTitle\tSubTitle\tDisplayArtistName"
    "\tDisplayArtistPartyID\tDuration\tResourceType\tISWC\tComposerAuthorName"
    "\tComposerAuthorPartyId\tArrangerName\tArrangePartyID\tMusicPublisherName"
    "\tMusicPublisherPartyId\tWorkContributorName\tWorkContributorPartyId\tProprietaryWorkId"
    "\tIsMasterRecording"
)
SU_HEADING = (
    "#SU02.02\tBlockId\tSummaryRecordId\tSalesTransactionId\tTransactedRelease\tTransactedResource"
    "\tIsRoyaltyBearing\tNumberOfStreams\tPriceConsumerPaidExcSalesTax\tPromotionalActivity"
    "\tUseType"
)
SU3_HEADING = (
    "#SU03.01\tBlockId\tSummaryRecordId\tSalesTransactionId\tTransactedRelease\tTransactedResource"
    "\tIsRoyaltyBearing\tNumberOfStreams\tNetRevenue\tCurrencyOfReporting\tTerritory\tUseType"
)
FOOT_HEADING = (
    "#FOOT\tNumberOfLinesInFile\tNumberOfLinesInReport\tNumberOfSummaryRecords"
    "\tNumberOfBlocksInFile\tNumberOfBlocksInReport"
)

_SUBSCRIBERS = {"S1": "1204311", "S2": "3870120"}


def dsr_text(
    summaries: Sequence[Summary],
    blocks: Sequence[Block],
    *,
    territory_tag: str = "US",
    period: str = "2026-10",
    sender: str = "StreamCo",
    foot: dict[str, int] | None = None,
    subscribers: dict[str, str] | None = None,
    with_foot: bool = True,
    release_numbers: Sequence[int] | None = None,
    created: str = "2026-11-05T10:15:00Z",
) -> str:
    """A DSR flat file (Basic Audio profile) as text; TotalUsages and FOOT computed unless given.

    ``foot`` overrides FOOT fields by name (NumberOfLinesInFile, NumberOfSummaryRecords,
    NumberOfBlocksInFile) to make broken files.
    """
    subscribers = subscribers or _SUBSCRIBERS
    usage_sum: dict[str, int] = {}
    for b in blocks:
        for u in b.usages:
            if isinstance(u, Usage) and str(u.streams).lstrip("-").isdigit():
                usage_sum[u.sid] = usage_sum.get(u.sid, 0) + int(u.streams)
    last_day = "31" if period.endswith(("01", "03", "05", "07", "08", "10", "12")) else "30"
    lines = [
        f"HEAD\tdsrf/1.1/1.4.1/1.3\tBasicAudioProfile\t1.3\tSCQ-{territory_tag}-"
        f"{period.replace('-', '')}\t{created}\t1\t1\t{period}-01\t{period}-{last_day}"
        f"\tPADPIDA2026STREAMQX\t{sender}\tStreamCoPremium\tPADPIDA2026RUSTLBLX\tRust Label Ltd.\t",
        HEAD_HEADING,
        SY_HEADING,
    ]
    for s in summaries:
        total = s.total_usages if s.total_usages is not None else usage_sum.get(s.sid, 0)
        lines.append(
            f"SY01.02\t{s.sid}\tStreamCo\tPADPIDA2026STREAMQX\t{s.model}\t\t{s.territory}"
            f"\tStreamCo Premium\t{total}\t{subscribers.get(s.sid, '1000')}\t{s.currency}"
            f"\t{s.net_revenue}\t0.00\t{s.currency}\t1.00"
        )
    lines += [RE_HEADING, AS_HEADING, SU_HEADING]
    if any(isinstance(u, UgcUsage) for b in blocks for u in b.usages):
        lines.append(SU3_HEADING)
    tx = 0
    for i, b in enumerate(blocks, 1):
        rel = release_numbers[i - 1] if release_numbers else i
        ref = f"R{rel}-{b.isrc.replace('-', '')}"
        lines.append(
            f"RE01.02\t{i}\tR{rel}\tSCR{rel:06d}\t\t\t{b.upc}\t{b.artist}\t\t{b.title}\t\tSingle"
            "\tRust Label Ltd.\t(P) 2026 Rust Label Ltd.\tRust Label Ltd.\t2026-09-12"
        )
        lines.append(
            f"AS02.03\t{i}\t{ref}\tSCA{rel:06d}\t{b.isrc}\t{b.title}\t\t{b.artist}\t\t{b.duration}"
            "\tSoundRecording" + "\t" * 10 + "\tTRUE"
        )
        for j, u in enumerate(b.usages, 1):
            tx += 1
            if isinstance(u, UgcUsage):
                lines.append(
                    f"SU03.01\t{i}\t{u.sid}\tU{rel}{j:07d}\t\t{ref}\tTRUE\t{u.streams}"
                    f"\t{u.net_revenue}\t{u.currency}\t{u.territory}\t{u.use_type}"
                )
            else:
                lines.append(
                    f"SU02.02\t{i}\t{u.sid}\tT{rel}{j:07d}\t\t{ref}\tTRUE\t{u.streams}\t\t"
                    f"\t{u.use_type}"
                )
    if with_foot:
        lines.append(FOOT_HEADING)
        values = {
            "NumberOfLinesInFile": len(lines) + 1,
            "NumberOfSummaryRecords": len(summaries),
            "NumberOfBlocksInFile": len(blocks),
        }
        values.update(foot or {})
        lines.append(
            f"FOOT\t{values['NumberOfLinesInFile']}\t{values['NumberOfLinesInFile']}"
            f"\t{values['NumberOfSummaryRecords']}\t{values['NumberOfBlocksInFile']}"
            f"\t{values['NumberOfBlocksInFile']}"
        )
    return "\n".join(lines) + "\n"


US_SUMMARIES = (
    Summary("S1", "SubscriptionModel", "US", "USD", "21873.41"),
    Summary("S2", "AdvertisementSupportedModel", "US", "USD", "3106.77"),
)
US_BLOCKS = (
    Block(
        "USRW12600001",
        "Walk My Walk",
        (
            Usage("S1", 4811202),
            Usage("S1", 402311, "ProgrammedContentStream"),
            Usage("S2", 1907004),
        ),
        duration="PT2M58S",
    ),
    Block(
        "USRW12600002",
        "Walk My Walk (Club Mix)",
        (Usage("S1", 120448), Usage("S2", 98311)),
        duration="PT4M12S",
    ),
    Block(
        "USRW12600003",
        "Grounded in Rhythm",
        (Usage("S1", 68157), Usage("S2", 113127)),
        upc="0198765432119",
        duration="PT3M21S",
    ),
)
GB_SUMMARIES = (Summary("S1", "SubscriptionModel", "GB", "GBP", "6488.20"),)
GB_BLOCKS = (
    Block(
        "USRW12600001",
        "Walk My Walk",
        (Usage("S1", 1611380), Usage("S1", 77012, "ProgrammedContentStream")),
        duration="PT2M58S",
    ),
    Block(
        "QZK6H2600014",
        "Chaos Avenue",
        (Usage("S1", 44698),),
        upc="0198765432126",
        artist="Lena & The Machines",
        duration="PT3M05S",
    ),
)
UNKNOWN_ISRC = "QZK6H2600014"
"""The GB sample's ISRC that is not in the label's catalog."""

EXPECTED_TOTALS = {
    "dsr_us": {"USD": Decimal("24980.18")},
    "dsr_gb": {"GBP": Decimal("6488.20")},
    "distrokid": {"USD": Decimal("17686.62794924")},
    "tunecore": {"USD": Decimal("5367.6311")},
}


def sample_dsr_us_text() -> str:
    return dsr_text(US_SUMMARIES, US_BLOCKS, territory_tag="US")


def sample_dsr_gb_text() -> str:
    return dsr_text(
        GB_SUMMARIES,
        GB_BLOCKS,
        territory_tag="GB",
        subscribers={"S1": "402118"},
        release_numbers=(1, 4),
        created="2026-11-05T10:15:02Z",
    )


def write_sample_dsr_us(directory: str | Path, *, gz: bool = False) -> Path:
    name = (
        "DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_2026-10_US_1of1_"
        "20261105T101500.tsv"
    ) + (".gz" if gz else "")
    return write_text(Path(directory) / name, sample_dsr_us_text(), gz=gz)


def write_sample_dsr_gb(directory: str | Path, *, gz: bool = False) -> Path:
    name = (
        "DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_2026-10_GB_1of1_"
        "20261105T101502.tsv"
    ) + (".gz" if gz else "")
    return write_text(Path(directory) / name, sample_dsr_gb_text(), gz=gz)


# ---------------------------------------------------------------------------
# DistroKid

DISTROKID_HEADER = (
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


def distrokid_row(
    sale_month: str = "2026-10",
    store: str = "Apple Music",
    title: str = "Walk My Walk",
    isrc: str = "USRW12600001",
    quantity: str = "1000",
    source_type: str = "Stream",
    country: str = "US",
    earnings: str = "1.00",
    upc: str = "198765432102",
) -> tuple[str, ...]:
    return (
        "2026-11-18",
        "2026-11-15",
        sale_month,
        store,
        "Rust Walk My Walk",
        title,
        isrc,
        upc,
        quantity,
        "100",
        source_type,
        country,
        "0",
        earnings,
        "0",
    )


DISTROKID_ROWS = (
    distrokid_row(quantity="1204433", earnings="9875.33911804"),
    distrokid_row(quantity="310877", country="CA", earnings="2083.8740112"),
    distrokid_row(store="YouTube (Ads)", quantity="2901178", country="AU", earnings="1682.68322"),
    distrokid_row(store="TikTok", quantity="12044120", source_type="UGC", earnings="361.3236"),
    distrokid_row(
        store="iTunes", quantity="5120", source_type="Download", country="FR", earnings="3532.80"
    ),
    distrokid_row(
        store="Amazon Music",
        title="Grounded in Rhythm",
        isrc="USRW1-26-00003",
        quantity="40112",
        country="DE",
        earnings="160.448",
        upc="198765432119",
    ),
    distrokid_row(sale_month="2026-09", quantity="-1200", earnings="-9.84"),
)


def distrokid_text(
    rows: Sequence[Sequence[str]] = DISTROKID_ROWS, header: Sequence[str] = DISTROKID_HEADER
) -> str:
    return "".join("\t".join(r) + "\n" for r in (header, *rows))


def write_distrokid(
    path: str | Path, rows: Sequence[Sequence[str]] = DISTROKID_ROWS, **quirks: object
) -> Path:
    """The DistroKid sample (or ``rows``); ``quirks`` go to :func:`write_text`."""
    return write_text(path, distrokid_text(rows), **quirks)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# TuneCore

TUNECORE_HEADER = (
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


def tunecore_row(
    period: str = "2026-10",
    store: str = "Deezer",
    country: str = "FR",
    title: str = "Walk My Walk",
    isrc: str = "USRW12600001",
    units: str = "1000",
    net: str = "10.00",
    net_currency: str = "EUR",
    rate: str = "1.0812",
    earned: str = "10.8120",
    currency: str = "USD",
    sales_type: str = "Streaming",
    song_id: str = "90210001",
    unit_price: str = "0.0029",
) -> tuple[str, ...]:
    return (
        period,
        "2026-11-20",
        store,
        country,
        "Rust Walk My Walk",
        "Single",
        title,
        title,
        "Rust Label Ltd.",
        "198765432102",
        "",
        song_id,
        isrc,
        sales_type,
        units,
        unit_price,
        net,
        net_currency,
        rate,
        earned,
        currency,
    )


TUNECORE_ROWS = (
    tunecore_row(units="688120", net="1995.548", earned="2157.5865"),
    tunecore_row(
        country="DE", units="912004", net="2827.2124", earned="3056.7820", unit_price="0.0031"
    ),
    tunecore_row(
        store="Spotify",
        country="CA",
        title="Walk My Walk (Club Mix)",
        isrc="USRW12600002",
        units="51200",
        net="209.92",
        net_currency="CAD",
        rate="0.7301",
        earned="153.2626",
        song_id="90210002",
        unit_price="0.0041",
    ),
)


def tunecore_text(rows: Sequence[Sequence[str]] = TUNECORE_ROWS) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TUNECORE_HEADER)
    writer.writerows(rows)
    return out.getvalue()


def write_tunecore(
    path: str | Path,
    rows: Sequence[Sequence[str]] = TUNECORE_ROWS,
    *,
    bom: bool = True,
    crlf: bool = True,
    **quirks: object,
) -> Path:
    """The TuneCore sample (or ``rows``): UTF-8 BOM and CRLF like the real files."""
    return write_text(path, tunecore_text(rows), bom=bom, crlf=crlf, **quirks)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Mapped CSV and the mapping file

MAPPING_YAML = """\
name: Acme Digital
delimiter: ";"
decimal: ","
encoding: latin-1
skip_rows: 1
columns:
  isrc: Code ISRC
  title: Titre
  source: Boutique
  territory: Pays
  usage: Type
  quantity: Unités
  amount: Montant
  period: Mois
constants:
  currency: EUR
usage_map:
  Écoute: stream
  Téléchargement: download
"""
"""A French distributor: semicolons, decimal commas, Latin-1, a title line above the header."""

MAPPED_HEADER = ("Code ISRC", "Titre", "Boutique", "Pays", "Type", "Unités", "Montant", "Mois")
MAPPED_ROWS = (
    ("USRW12600001", "Walk My Walk", "Qobuz", "FR", "Écoute", "12000", "48,1234", "2026-10"),
    (
        "USRW12600002",
        "Walk My Walk (Club Mix)",
        "Qobuz",
        "BE",
        "Téléchargement",
        "12",
        "9,99",
        "2026-10",
    ),
    ("FRZ032600099", "Café Noir", "Deezer", "FR", "Écoute", "-40", "-0,16", "2026-09"),
)
MAPPED_TOTAL_EUR = Decimal("57.9534")


def mapped_text(
    rows: Sequence[Sequence[str]] = MAPPED_ROWS,
    header: Sequence[str] = MAPPED_HEADER,
    *,
    delimiter: str = ";",
    title_line: str | None = "Relevé des ventes Acme Digital",
) -> str:
    lines = [title_line] if title_line is not None else []
    lines += [delimiter.join(r) for r in (header, *rows)]
    return "\n".join(lines) + "\n"


def write_mapped(
    path: str | Path,
    rows: Sequence[Sequence[str]] = MAPPED_ROWS,
    *,
    encoding: str = "latin-1",
    **quirks: object,
) -> Path:
    return write_text(path, mapped_text(rows), encoding=encoding, **quirks)  # type: ignore[arg-type]


def write_mapping(path: str | Path, text: str = MAPPING_YAML) -> Path:
    return write_text(path, text)


# ---------------------------------------------------------------------------
# Rates

RATES_CSV = "period,currency,rate\n2026-10,EUR,1.0812\n2026-10,GBP,1.2644\n2026-10,CAD,0.7301\n"


def write_rates(path: str | Path, text: str = RATES_CSV) -> Path:
    return write_text(path, text)


def amounts(totals: Mapping[str, Money] | None) -> dict[str, Decimal]:
    """A file's totals (Money per currency) as plain amounts, to compare with expectations."""
    out = {}
    for code, money in (totals or {}).items():
        assert money.currency == code
        out[code] = money.amount
    return out
