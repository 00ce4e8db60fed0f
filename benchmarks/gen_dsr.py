"""Generate a large, valid DDEX DSR flat file (Basic Audio profile) for benchmarks.

About 5,000 ISRCs (one block each) and 50 territories x 2 commercial models
(100 summaries). Streams come from a seeded generator, drawn twice: once to
sum each summary's TotalUsages (which precedes the blocks in the file), once
to write the usage lines. NetRevenue is built from integers: no float anywhere.

    python benchmarks/gen_dsr.py --lines 1000000 --out /tmp/dsr_1m.tsv[.gz]

or ``from benchmarks.gen_dsr import generate_dsr``.
"""

from __future__ import annotations

import argparse
import gzip
import random
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_TERRITORY_TEXT = (
    "US GB DE FR CA AU JP BR MX ES IT NL SE NO DK FI PL BE AT CH IE PT NZ AR CL CO PE ZA NG KE"
    " IN ID PH TH VN MY SG KR TW HK TR IL AE SA EG MA CZ HU RO GR"
)
TERRITORIES = tuple(_TERRITORY_TEXT.split())
MODELS = ("SubscriptionModel", "AdvertisementSupportedModel")
USE_TYPES = ("OnDemandStream", "ProgrammedContentStream")
REGISTRANTS = ("USRW1", "GBAYE", "DEA12", "FRZ03", "QZK6H")

HEADINGS = {
    "HEAD": "#HEAD\tMessageVersion\tProfile\tProfileVersion\tMessageId\tMessageCreatedDateTime"
    "\tFileNumber\tNumberOfFiles\tUsageStartDate\tUsageEndDate\tSenderPartyId\tSenderName"
    "\tServiceDescription\tRecipientPartyId\tRecipientName\tRepresentedRepertoire",
    "SY01": "#SY01.02\tSummaryRecordId\tDistributionChannel\tDistributionChannelDPID"
    "\tCommercialModel\tUseType\tTerritory\tServiceDescription\tTotalUsages\tSubscribers"
    "\tCurrencyOfReporting\tNetRevenue\tIndirectValue\tCurrencyOfTransaction\tExchangeRate",
    "RE01": "#RE01.02\tBlockId\tReleaseReference\tDspReleaseId\tProprietaryReleaseId"
    "\tCatalogNumber\tICPN\tDisplayArtistName\tDisplayArtistPartyId\tTitle\tSubTitle"
    "\tReleaseType\tLabelName\tPLine\tDataProviderName\tReleaseDate",
    "AS02": "#AS02.03\tBlockId\tResourceReference\tDspResourceId\tISRC\tTitle\tSubTitle"
    "\tDisplayArtistName\tDisplayArtistPartyID\tDuration\tResourceType\tISWC"
    "\tComposerAuthorName\tComposerAuthorPartyId\tArrangerName\tArrangePartyID"
    "\tMusicPublisherName\tMusicPublisherPartyId\tWorkContributorName\tWorkContributorPartyId"
    "\tProprietaryWorkId\tIsMasterRecording",
    "SU02": "#SU02.02\tBlockId\tSummaryRecordId\tSalesTransactionId\tTransactedRelease"
    "\tTransactedResource\tIsRoyaltyBearing\tNumberOfStreams\tPriceConsumerPaidExcSalesTax"
    "\tPromotionalActivity\tUseType",
    "FOOT": "#FOOT\tNumberOfLinesInFile\tNumberOfLinesInReport\tNumberOfSummaryRecords"
    "\tNumberOfBlocksInFile\tNumberOfBlocksInReport",
}


def _isrc(i: int) -> str:
    return f"{REGISTRANTS[i % len(REGISTRANTS)]}26{i:05d}"


def _usage(lines: int, isrcs: int, seed: int) -> Iterator[tuple[int, int, int, int]]:
    """(block index, summary index, use type index, streams) for every usage line, in order."""
    rng = random.Random(seed)
    n_summaries = len(TERRITORIES) * len(MODELS)
    blocks = max(1, min(isrcs, lines))
    base, extra = divmod(lines, blocks)
    for b in range(blocks):
        for j in range(base + (1 if b < extra else 0)):
            k = (b * 7 + j) % (n_summaries * len(USE_TYPES))
            # Heavy-tailed streams: most lines small, some huge.
            streams = rng.randrange(1, 50) if rng.randrange(2) else rng.randrange(50, 2_000_000)
            yield b, k // len(USE_TYPES), k % len(USE_TYPES), streams


def generate_dsr(
    path: str | Path,
    lines: int = 1_000_000,
    *,
    isrcs: int = 5000,
    seed: int = 2026,
    period: str = "2026-10",
) -> Path:
    """Write a DSR with ``lines`` usage lines; ``.gz`` in the name writes it gzipped."""
    path = Path(path)
    n_summaries = len(TERRITORIES) * len(MODELS)
    totals = [0] * n_summaries
    for _, s, _, streams in _usage(lines, isrcs, seed):
        totals[s] += streams
    rng = random.Random(seed + 1)
    summaries = []
    for s in range(n_summaries):
        territory = TERRITORIES[s // len(MODELS)]
        model = MODELS[s % len(MODELS)]
        cents = rng.randrange(100_00, 900_000_00)
        revenue = f"{cents // 100}.{cents % 100:02d}" if totals[s] else "0.00"
        cur = (
            "EUR"
            if territory in {"DE", "FR", "ES", "IT", "NL", "BE", "AT", "IE", "PT", "FI", "GR"}
            else "USD"
        )
        summaries.append(
            f"SY01.02\tS{s + 1}\tStreamCo\tPADPIDA2026STREAMQX\t{model}\t\t{territory}"
            f"\tStreamCo Premium\t{totals[s]}\t{rng.randrange(1000, 10**6)}\t{cur}\t{revenue}"
            f"\t0.00\t{cur}\t1.00\n"
        )
    blocks = max(1, min(isrcs, lines))
    opener = gzip.open if path.name.endswith(".gz") else open
    count = 0
    with opener(path, "wt", encoding="utf-8", newline="") as out:
        fh: IO[str] = out
        head = [
            f"HEAD\tdsrf/1.1/1.4.1/1.3\tBasicAudioProfile\t1.3\tBENCH-{lines}\t2026-11-05T10:15:00Z"
            f"\t1\t1\t{period}-01\t{period}-28\tPADPIDA2026STREAMQX\tStreamCo\tStreamCoPremium"
            "\tPADPIDA2026RUSTLBLX\tRust Label Ltd.\t\n",
            HEADINGS["HEAD"] + "\n",
            HEADINGS["SY01"] + "\n",
            *summaries,
            HEADINGS["RE01"] + "\n",
            HEADINGS["AS02"] + "\n",
            HEADINGS["SU02"] + "\n",
        ]
        fh.writelines(head)
        count += len(head)
        current = -1
        buf: list[str] = []
        for tx, (b, s, u, streams) in enumerate(_usage(lines, isrcs, seed), 1):
            if b != current:
                current = b
                isrc = _isrc(b)
                buf.append(
                    f"RE01.02\t{b + 1}\tR{b + 1}\tSCR{b + 1:06d}\t\t\t\tBench Artist {b % 97}\t"
                    f"\tTrack {b + 1}\t\tSingle\tBench Label\t(P) 2026 Bench Label\tBench Label"
                    "\t2026-01-01\n"
                )
                buf.append(
                    f"AS02.03\t{b + 1}\tR{b + 1}-{isrc}\tSCA{b + 1:06d}\t{isrc}\tTrack {b + 1}\t"
                    f"\tBench Artist {b % 97}\t\tPT3M00S\tSoundRecording" + "\t" * 10 + "\tTRUE\n"
                )
            buf.append(
                f"SU02.02\t{b + 1}\tS{s + 1}\tT{tx:09d}\t\tR{b + 1}-{isrc}\tTRUE\t{streams}\t\t"
                f"\t{USE_TYPES[u]}\n"
            )
            if len(buf) >= 10000:
                count += len(buf)
                fh.writelines(buf)
                buf = []
        count += len(buf)
        fh.writelines(buf)
        count += 2
        fh.write(HEADINGS["FOOT"] + "\n")
        fh.write(f"FOOT\t{count}\t{count}\t{n_summaries}\t{blocks}\t{blocks}\n")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="usage lines (SU02)")
    parser.add_argument("--isrcs", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", required=True, help="output file (.gz to compress)")
    args = parser.parse_args(argv)
    path = generate_dsr(args.out, args.lines, isrcs=args.isrcs, seed=args.seed)
    print(f"wrote {path} ({args.lines} usage lines)")


if __name__ == "__main__":
    main()
