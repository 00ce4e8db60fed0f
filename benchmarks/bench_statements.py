"""Render 1,000 statements of 2 to 3 pages (PDF and CSV) and print how long it took.

Target (issue #6): under 40 s on the project's 2-core machine. The statements
are generated (deterministic seed): a party with 5 to 12 tracks, 2 to 3 lines
per track over 6 sources, 14 territories and 3 usage types, a fee, a payment
and, for some, an unrecouped advance. Amounts are built from integers, never
floats.

    .venv/bin/python benchmarks/bench_statements.py            # 1,000, one process
    .venv/bin/python benchmarks/bench_statements.py --workers 2
    .venv/bin/python benchmarks/bench_statements.py --count 200 --out /tmp/st
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.domain.money import Money, total
from ledger.domain.periods import Period
from ledger.domain.statement import (
    Movement,
    Operator,
    PartyInfo,
    Statement,
    StatementLine,
    Summary,
)
from reports.csv import render_csv
from reports.pdf import render_pdf

OPERATOR = Operator(
    "Rust Label Ltd",
    (("DPID", "PADPIDA2026101501X"),),
    "12 Harbour Street, London E1 6AN, United Kingdom",
)
SOURCES = ["Spotify", "Apple Music", "YouTube", "Amazon Music", "Deezer", "TIDAL"]
TERRITORIES = ["US", "GB", "DE", "FR", "CA", "AU", "JP", "BR", "SE", "NL", "MX", "ES", "IT", "KR"]
USAGES = ["stream", "download", "ugc"]
NAMES = [
    "Rust",
    "Zoë Müller",
    "山田太郎",
    "Ngozi Okafor",
    "Åsa Lindqvist",
    "김민준",
    "José Álvarez",
    "Northwind Songs",
]
KINDS = ["producer", "curator", "training_data_licensor", "artist", "model_vendor"]


def make_statement(i: int) -> Statement:
    rnd = random.Random(i)
    kind = KINDS[i % len(KINDS)]
    licensor = kind == "training_data_licensor"
    party = PartyInfo(
        id=f"P-{i:05d}",
        name=f"{NAMES[i % len(NAMES)]} {i}",
        kind=kind,
        ipi=f"{rnd.randrange(10**10, 10**11)}",
        email=f"party{i}@example.com",
    )
    lines = []
    for t in range(rnd.randint(5, 12)):
        isrc = f"GBXYZ26{i % 1000:03d}{t:02d}"
        share = Fraction(rnd.randint(1, 40), 100)
        weight = Fraction(rnd.randint(1, 9999), 10000) if licensor else None
        for _ in range(rnd.randint(2, 3)):
            units = rnd.randint(0, 5_000_000)
            lines.append(
                StatementLine(
                    isrc=isrc,
                    track_title=f"Track {t + 1} of catalogue {i}",
                    role=kind,
                    share=share,
                    rule_ref=f"cat-{i}@{rnd.randint(1, 4)}#{kind}",
                    attribution_weight=weight,
                    source=rnd.choice(SOURCES),
                    territory=rnd.choice(TERRITORIES),
                    usage=rnd.choice(USAGES),
                    quantity=units,
                    amount=Money.of_units(units * rnd.randint(1000, 4000) * 3, "USD"),
                )
            )
    earned = total((ln.amount for ln in lines), "USD")
    fee = Money((earned.amount / 100).quantize(Decimal("0.01")), "USD")
    fees = (Movement("2026-10-31", "distribution_fee", "Distribution fee 1%", fee),)
    opening = Money.of_units(rnd.randint(0, 500_000) * 10**8, "USD")
    payments = (Movement("2026-10-15", "payment", "Payment for September", opening),)
    closing = opening + earned - fee - opening
    zero = Money.zero("USD")
    reason: str | None
    if i % 7 == 0:
        payable, reason = zero, "advance not yet recouped (12,000.00 remaining)"
    else:
        payable = closing.round_down_minor()
        reason = "remainder below one minor unit" if payable != closing else None
    summary = Summary(
        opening, earned, fee, zero, opening, closing, payable, closing - payable, reason
    )
    return Statement(
        OPERATOR,
        party,
        Period(2026, 10),
        "USD",
        summary,
        tuple(lines),
        fees=fees,
        payments=payments,
        generated_from=("ledger sha256:bench",),
        issued_on="2026-11-05",
        statement_id=f"ST-2026-10-{i:05d}",
    )


def render_one(i: int, out: str | None = None) -> tuple[int, int, int]:
    """Build and render statement ``i``; return (pages, pdf bytes, csv bytes)."""
    statement = make_statement(i)
    pdf = render_pdf(statement)
    data = render_csv(statement)
    if out:
        Path(out, f"{statement.party.id}.pdf").write_bytes(pdf)
        Path(out, f"{statement.party.id}.csv").write_bytes(data)
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    return pages, len(pdf), len(data)


def _render_chunk(args: tuple[range, str | None]) -> list[tuple[int, int, int]]:
    indexes, out = args
    return [render_one(i, out) for i in indexes]


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished workers (timing, not money)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", help="directory to write the files to (default: discard)")
    args = parser.parse_args()
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    cpu_started = _cpu_seconds()
    if args.workers == 1:
        results = [render_one(i, args.out) for i in range(args.count)]
    else:
        chunks = [(range(w, args.count, args.workers), args.out) for w in range(args.workers)]
        with ProcessPoolExecutor(args.workers) as pool:
            results = [r for chunk in pool.map(_render_chunk, chunks) for r in chunk]
    elapsed = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_started

    pages = [p for p, _, _ in results]
    pdf_bytes = sum(b for _, b, _ in results)
    print(f"statements: {args.count} (PDF + CSV), workers: {args.workers}")
    print(f"pages per statement: min {min(pages)}, max {max(pages)}, total {sum(pages)}")
    print(f"average PDF size: {pdf_bytes // max(args.count, 1):,} bytes")
    print(f"seconds: {elapsed:.2f}")
    print(f"statements/s: {args.count / elapsed:.1f}")
    print(
        f"CPU seconds (all processes): {cpu:.2f}, {1000 * cpu / args.count:.1f} ms per "
        "statement; on a busy machine wall time exceeds CPU time / workers"
    )
    print("target: under 40 s for 1,000 statements")


if __name__ == "__main__":
    main()
