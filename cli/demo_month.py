"""The demo month: Walk My Walk from revenue files to statements, on a fresh SQLite file.

:func:`generate_month` writes a realistic month of revenue in the real formats
(DDEX DSR files for the US in USD, the UK in GBP and Germany in EUR, a
DistroKid export with a late negative correction, one ISRC the label does not
own) from the catalog's tracks and a seeded generator: amounts are built from
integers, never floats. :func:`run_demo` loads the shipped examples, imports,
splits, pays and writes every party's statements: the product's main job.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cli.files import read_rates, read_text
from ledger.domain.errors import Conflict, NotFound
from ledger.domain.money import Money, total
from ledger.domain.periods import Period
from ledger.parsers import open_revenue_file
from ledger.services import documents, imports, payouts, splits
from ledger.store import documents as stored
from ledger.store import settings
from ledger.store.db import Database, upgrade

PERIOD = Period(2026, 10)
UNKNOWN_ISRC = "QZK6H2600014"


def examples_dir() -> Path:
    """The shipped examples (catalog, agreements, attribution, rates) of a source checkout."""
    here = Path(__file__).resolve().parent.parent / "examples"
    if not (here / "catalog.yaml").exists():
        raise NotFound(
            f"the example files are not at {here}",
            hint="run the demo from a source checkout (pip install -e .)",
        )
    return here


@dataclass(frozen=True, slots=True)
class _Track:
    isrc: str
    title: str
    upc: str
    weight: int  # relative popularity


TRACKS = (
    _Track("USRW12600001", "Walk My Walk", "0198765432102", 100),
    _Track("USRW12600002", "Walk My Walk (Club Mix)", "0198765432102", 9),
    _Track("USRW12600003", "Grounded in Rhythm", "0198765432119", 14),
)
ARTIST = "Rust Walk My Walk"

# territory, currency, streams of the lead single this month, revenue per 1,000 streams in cents
_DSR_MARKETS = (
    ("US", "USD", 18_200_000, 412),
    ("GB", "GBP", 6_100_000, 338),
    ("DE", "EUR", 3_400_000, 371),
)


def _dsr(
    path: Path,
    territory: str,
    currency: str,
    lead_streams: int,
    rate_cents: int,
    rng: random.Random,
) -> None:
    models = (("S1", "SubscriptionModel", 70), ("S2", "AdvertisementSupportedModel", 30))
    usage: list[tuple[int, str, str, int]] = []  # block, summary id, use type, streams
    tracks = list(TRACKS) + (
        [_Track(UNKNOWN_ISRC, "Chaos Avenue", "0198765432126", 3)] if territory == "GB" else []
    )
    for b, track in enumerate(tracks, start=1):
        base = lead_streams * track.weight // 100
        for sid, _, pct in models:
            streams = base * pct // 100
            on_demand = streams * rng.randrange(85, 95) // 100
            usage.append((b, sid, "OnDemandStream", on_demand))
            usage.append((b, sid, "ProgrammedContentStream", streams - on_demand))
    totals = {sid: sum(u[3] for u in usage if u[1] == sid) for sid, _, _ in models}
    revenue = {
        sid: totals[sid] * rate_cents * (100 if sid == "S1" else 45) // 100_000
        for sid, _, _ in models
    }
    lines = [
        f"HEAD\tdsrf/1.1/1.4.1/1.3\tBasicAudioProfile\t1.3\tSCQ-{territory}-202610\t2026-11-05T10:15:00Z\t1\t1"
        f"\t2026-10-01\t2026-10-31\tPADPIDA2026STREAMQX\tStreamCo\tStreamCoPremium\tPADPIDA2026RUSTLBLX\tRust Label Ltd.\t",
        "#HEAD\tMessageVersion\tProfile\tProfileVersion\tMessageId\tMessageCreatedDateTime\tFileNumber"
        "\tNumberOfFiles\tUsageStartDate\tUsageEndDate\tSenderPartyId\tSenderName\tServiceDescription"
        "\tRecipientPartyId\tRecipientName\tRepresentedRepertoire",
        "#SY01.02\tSummaryRecordId\tDistributionChannel\tDistributionChannelDPID\tCommercialModel\tUseType"
        "\tTerritory\tServiceDescription\tTotalUsages\tSubscribers\tCurrencyOfReporting\tNetRevenue"
        "\tIndirectValue\tCurrencyOfTransaction\tExchangeRate",
    ]
    for sid, model, _ in models:
        cents = revenue[sid]
        lines.append(
            f"SY01.02\t{sid}\tStreamCo\tPADPIDA2026STREAMQX\t{model}\t\t{territory}\tStreamCo Premium"
            f"\t{totals[sid]}\t{rng.randrange(100_000, 2_000_000)}\t{currency}\t{cents // 100}.{cents % 100:02d}"
            f"\t0.00\t{currency}\t1.00"
        )
    lines += [
        "#RE01.02\tBlockId\tReleaseReference\tDspReleaseId\tProprietaryReleaseId\tCatalogNumber\tICPN"
        "\tDisplayArtistName\tDisplayArtistPartyId\tTitle\tSubTitle\tReleaseType\tLabelName\tPLine"
        "\tDataProviderName\tReleaseDate",
        "#AS02.03\tBlockId\tResourceReference\tDspResourceId\tISRC\tTitle\tSubTitle\tDisplayArtistName"
        "\tDisplayArtistPartyID\tDuration\tResourceType\tISWC\tComposerAuthorName\tComposerAuthorPartyId"
        "\tArrangerName\tArrangePartyID\tMusicPublisherName\tMusicPublisherPartyId\tWorkContributorName"
        "\tWorkContributorPartyId\tProprietaryWorkId\tIsMasterRecording",
        "#SU02.02\tBlockId\tSummaryRecordId\tSalesTransactionId\tTransactedRelease\tTransactedResource"
        "\tIsRoyaltyBearing\tNumberOfStreams\tPriceConsumerPaidExcSalesTax\tPromotionalActivity\tUseType",
    ]
    tx = 0
    for b, track in enumerate(tracks, start=1):
        ref = f"R{b}-{track.isrc}"
        lines.append(
            f"RE01.02\t{b}\tR{b}\tSCR{b:06d}\t\t\t{track.upc}\t{ARTIST}\t\t{track.title}\t\tSingle"
            f"\tRust Label Ltd.\t(P) 2026 Rust Label Ltd.\tRust Label Ltd.\t2026-09-12"
        )
        lines.append(
            f"AS02.03\t{b}\t{ref}\tSCA{b:06d}\t{track.isrc}\t{track.title}\t\t{ARTIST}\t\tPT3M02S"
            "\tSoundRecording" + "\t" * 10 + "\tTRUE"
        )
        for block, sid, use, streams in usage:
            if block == b and streams:
                tx += 1
                lines.append(f"SU02.02\t{b}\t{sid}\tT{tx:08d}\t\t{ref}\tTRUE\t{streams}\t\t\t{use}")
    lines.append(
        "#FOOT\tNumberOfLinesInFile\tNumberOfLinesInReport\tNumberOfSummaryRecords"
        "\tNumberOfBlocksInFile\tNumberOfBlocksInReport"
    )
    n = len(lines) + 1
    lines.append(f"FOOT\t{n}\t{n}\t{len(models)}\t{len(tracks)}\t{len(tracks)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _distrokid(path: Path, rng: random.Random) -> None:
    header = (
        "Date Inserted\tReporting Date\tSale Month\tStore\tArtist\tTitle\tISRC\tUPC\tQuantity"
        "\tTeam Percentage\tSource Type\tCountry of Sale\tSongwriter Royalties Withheld (USD)"
        "\tEarnings (USD)\tRecoup (USD)"
    )
    rows = []
    # store, usage, country, earnings per unit in 10^-8 USD (0.0061 USD per Apple stream)
    stores = (
        ("Apple Music", "Stream", "US", 610_000),
        ("Apple Music", "Stream", "CA", 580_000),
        ("YouTube (Ads)", "Stream", "AU", 90_000),
        ("TikTok", "UGC", "US", 30_000),
        ("iTunes", "Download", "FR", 69_000_000),
    )
    for track in TRACKS:
        for store, kind, country, per_unit in stores:
            qty = rng.randrange(20_000, 1_500_000) * track.weight // 100 + 1
            if kind == "Download":
                qty //= 400
            earnings = qty * per_unit * rng.randrange(95, 105) // 100  # in 10^-8 USD
            isrc = (
                f"{track.isrc[:2]}-{track.isrc[2:5]}-{track.isrc[5:7]}-{track.isrc[7:]}"
                if rng.randrange(3) == 0
                else track.isrc
            )
            rows.append(
                f"2026-11-18\t2026-11-15\t{PERIOD}\t{store}\t{ARTIST}\t{track.title}\t{isrc}"
                f"\t{track.upc[1:]}\t{qty}\t100\t{kind}\t{country}\t0\t{_eight(earnings)}\t0"
            )
    rows.append(
        f"2026-11-18\t2026-11-15\t2026-09\tApple Music\t{ARTIST}\tWalk My Walk\tUSRW12600001"
        f"\t198765432102\t-1200\t100\tStream\tUS\t0\t-{_eight(1200 * 610_000)}\t0"
    )
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _eight(units: int) -> str:
    """An amount given in 10^-8 units as text with eight decimals (DistroKid's precision)."""
    return f"{units // 10**8}.{units % 10**8:08d}"


def generate_month(folder: Path, *, seed: int = 2026) -> list[Path]:
    """Write the demo month's revenue files (and the period's rates) into ``folder``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for territory, currency, streams, rate in _DSR_MARKETS:
        path = (
            folder
            / f"DSR_PADPIDA2026RUSTLBLX_PADPIDA2026STREAMQX_StreamCoPremium_{PERIOD}_{territory}_1of1_20261105T101500.tsv"
        )
        _dsr(path, territory, currency, streams, rate, rng)
        files.append(path)
    dk = folder / f"DistroKid_bank_details_{PERIOD}.tsv"
    _distrokid(dk, rng)
    files.append(dk)
    return files


@dataclass(frozen=True, slots=True)
class DemoRow:
    party_id: str
    name: str
    roles: str
    earned: Money
    """Net of the fees taken before the split."""
    recouped: Money
    paid: Money
    carried: Money


@dataclass(frozen=True, slots=True)
class DemoResult:
    database: str
    revenue_dir: Path
    statements_dir: Path
    rows: tuple[DemoRow, ...]
    currency: str
    imported: Money
    suspense: Money
    statements: int


def run_demo(
    out: Path, *, force: bool = False, progress: Callable[[str], None] | None = None
) -> DemoResult:
    """The whole month on a fresh SQLite file in ``out``."""
    from ledger.services import balances, statements
    from reports import render

    say = progress or (lambda _msg: None)
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "royalty.db"
    if db_path.exists():
        if not force:
            raise Conflict(f"{db_path} already exists", hint="use --force to start the demo again")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    examples = examples_dir()
    database = Database(f"sqlite:///{db_path}")
    try:
        upgrade(database)
        say("loading the Walk My Walk catalog, agreements and attribution report")
        with database.write() as s:
            settings.initialise(s, "USD")
            documents.load_catalog(s, read_text(examples / "catalog.yaml"), "examples/catalog.yaml")
        with database.write() as s:
            documents.load_agreements(
                s, read_text(examples / "agreements.yaml"), "examples/agreements.yaml"
            )
            documents.load_attribution(
                s,
                read_text(examples / f"attribution-{PERIOD}.csv"),
                f"examples/attribution-{PERIOD}.csv",
                PERIOD,
            )
        revenue_dir = out / "revenue"
        files = generate_month(revenue_dir)
        rates = read_rates(examples / f"rates-{PERIOD}.csv")
        summaries = []
        for path in files:
            say(f"importing {path.name}")
            with open_revenue_file(path, period=PERIOD) as parsed, database.write() as s:
                summaries.append(imports.import_revenue(s, parsed, period=PERIOD, rates=rates))
        ccy = summaries[0].ledger_currency
        imported = total((m.ledger_total for m in summaries), ccy)
        suspense = total((m.suspense_amount for m in summaries), ccy)
        say("splitting, recouping and paying")
        with database.write() as s:
            splits.run_split(s, PERIOD)
        with database.write() as s:
            paid = payouts.pay(s, PERIOD)
        statements_dir = out / "statements"
        say("writing statements")
        with database.read() as s:
            statements_dir.mkdir(parents=True, exist_ok=True)
            written = 0
            for file in statements.issue_statements(s, PERIOD, render):
                (statements_dir / file.filename).write_bytes(file.content)
                written += 1
            rows_by_party = {b.party_id: b for b in balances.balances(s, period=PERIOD)}
            catalog = stored.current_catalog(s)
        roles: dict[str, set[str]] = {}
        for c in catalog.contributions:
            roles.setdefault(c.party_id, set()).add(c.role)
        rows = []
        for line in paid.lines:
            b = rows_by_party.get(line.party_id)
            rows.append(
                DemoRow(
                    line.party_id,
                    line.name,
                    ", ".join(sorted(roles.get(line.party_id, ()))),
                    b.earned - b.fees if b else Money.zero(ccy),
                    b.recouped if b else Money.zero(ccy),
                    line.paid,
                    line.carried,
                )
            )
        return DemoResult(
            str(db_path),
            revenue_dir,
            statements_dir,
            tuple(rows),
            paid.currency,
            imported,
            suspense,
            written,
        )
    finally:
        database.dispose()


def describe(result: DemoResult) -> str:
    return (
        f"Imported {result.imported.text} {result.currency} "
        f"({result.suspense.text} held in suspense)"
    )
