"""Benchmark: resolve 1,000,000 revenue-line contexts against 50 agreements.

Generates a catalog of 2,000 tracks (8 contributors each: curator, producer,
two model vendors, three training-data licensors, the label; no two tracks
with quite the same contributors and weights), 50 agreements
written as YAML and parsed (each covering 40 tracks, with a 15 % distribution
fee, a capped per-stream licence fee, and four rules: standard, an EU
override, UGC, and one store), an attribution report, and N line contexts
drawn at random over 6 stores, 50 territories and 3 usage types (most lines
have a context of their own, as in a DSR).

Prints, for the same lines:

* plans: choosing the rule and share plan for every line (what the cache
  per distinct context is for), target under 5 s for 1,000,000;
* resolve: the full resolution with exact amounts (Part values summing to
  each line's amount), one allocation per step per line;
* split_units: the same allocation as integer units of 10^-10, the form the
  ledger stores (``ledger.domain.money.units_to_parts``), for bulk posting.

Usage: ``python benchmarks/bench_rules.py [--lines 1000000] [--seed 7]``.
Amounts are Money (exact Decimals) throughout; no float touches an amount.
"""

from __future__ import annotations

import argparse
import random
import time
from fractions import Fraction

from ledger.domain.agreement_files import parse_agreements
from ledger.domain.attribution import AttributionReport, AttributionWeight
from ledger.domain.catalog import Catalog, Contribution, Party, Track
from ledger.domain.identifiers import countries
from ledger.domain.money import Money, total
from ledger.domain.periods import Period
from ledger.domain.rules import LineContext, Resolver

TRACKS = 2_000
AGREEMENTS = 50
SOURCES = ("Spotify", "Apple Music", "YouTube", "TikTok", "Deezer", "Amazon Music")
USAGES = ("stream",) * 8 + ("download", "ugc")


def isrc(n: int) -> str:
    return f"QZBEN26{n:05d}"


def build_catalog() -> Catalog:
    """Every track has its own contributors (200 curators, 100 producers, licensor
    weights that vary), so share plans cannot be shared between tracks."""
    parties = [
        Party("label", "Bench Label", "company", "USD", is_operator=True),
        Party("music-model", "Music Model Inc.", "company", "USD"),
        Party("voice-model", "Voice Model Inc.", "company", "USD"),
    ]
    parties += [Party(f"curator-{i}", f"Curator {i}", "person", "USD") for i in range(200)]
    parties += [Party(f"producer-{i}", f"Producer {i}", "person", "USD") for i in range(100)]
    parties += [Party(f"licensor-{i}", f"Licensor {i}", "company", "USD") for i in range(3)]
    tracks = [Track(isrc(n), f"Track {n}", f"Artist {n % 97}") for n in range(TRACKS)]
    contributions: list[Contribution] = []
    for n in range(TRACKS):
        code = isrc(n)
        contributions += [
            Contribution(code, f"curator-{n % 200}", "curator"),
            Contribution(code, f"producer-{n % 100}", "producer"),
            Contribution(code, "music-model", "model_vendor", Fraction(2)),
            Contribution(code, "voice-model", "model_vendor", Fraction(1)),
            Contribution(code, "licensor-0", "training_data_licensor", Fraction(5 + n % 7)),
            Contribution(code, "licensor-1", "training_data_licensor", Fraction(3 + n % 11)),
            Contribution(code, "licensor-2", "training_data_licensor", Fraction(2)),
            Contribution(code, "label", "label"),
        ]
    return Catalog("label", tuple(parties), tuple(tracks), tuple(contributions))


def agreements_yaml() -> str:
    per = TRACKS // AGREEMENTS
    out = ["agreements:"]
    for k in range(AGREEMENTS):
        tracks = ", ".join(isrc(n) for n in range(k * per, (k + 1) * per))
        out.append(
            f"""  - id: deal-{k:02d}
    version: 1
    effective_from: 2026-01
    scope: {{tracks: [{tracks}]}}
    fees:
      - {{id: distribution, party: label, percent: 15%}}
      - {{id: voice, party: voice-model, per_unit: "0.00002", currency: USD, cap: 5%,
          when: {{usage: stream}}}}
    rules:
      - id: standard
        shares:
          - {{role: curator, share: 20%}}
          - {{role: producer, share: 30%}}
          - {{role: model_vendor, share: 10%}}
          - {{role: training_data_licensor, share: 15%, divide_by: attribution}}
          - {{party: label, share: remaining}}
      - id: europe
        priority: 10
        when: {{territory: EU}}
        shares:
          - {{role: curator, share: 18%}}
          - {{role: producer, share: 32%}}
          - {{role: model_vendor, share: 10%}}
          - {{role: training_data_licensor, share: 15%, divide_by: attribution}}
          - {{party: label, share: remaining}}
      - id: ugc
        priority: 20
        when: {{usage: ugc}}
        shares:
          - {{role: curator, share: 30%}}
          - {{role: producer, share: 1/3}}
          - {{role: training_data_licensor, share: 1/7, divide_by: attribution}}
          - {{party: label, share: remaining}}
      - id: store
        priority: 30
        when: {{source: [Deezer], usage: [stream, download]}}
        shares:
          - {{role: curator, share: 25%}}
          - {{role: producer, share: 25%}}
          - {{role: model_vendor, share: 10%, divide_by: equal}}
          - {{role: training_data_licensor, share: 15%}}
          - {{party: label, share: remaining}}
"""
        )
    return "\n".join(out)


def contexts(n: int, seed: int) -> list[LineContext]:
    rng = random.Random(seed)
    territories = sorted(countries())[:50]
    out = []
    for _ in range(n):
        units = rng.randrange(-(10**8), 10**12)  # -0.01 .. 100.00 in 10^-10 units
        out.append(
            LineContext(
                isrc=isrc(rng.randrange(TRACKS)),
                source=rng.choice(SOURCES),
                territory=rng.choice(territories),
                usage=rng.choice(USAGES),
                period=Period(2026, 10),
                amount=Money.of_units(units, "USD"),
                quantity=rng.randrange(1, 50_000),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    catalog = build_catalog()
    text = agreements_yaml()
    t0 = time.perf_counter()
    agreements = parse_agreements(text, "bench-agreements.yaml", catalog)
    parse_s = time.perf_counter() - t0
    report = AttributionReport(
        Period(2026, 10),
        (
            AttributionWeight("licensor-0", Fraction(1, 2)),
            AttributionWeight("licensor-1", Fraction(3, 10)),
            AttributionWeight("licensor-2", Fraction(1, 5)),
        ),
    )
    print(f"parsed and checked {len(agreements)} agreements in {parse_s:.2f} s")
    lines = contexts(args.lines, args.seed)

    distinct = len({ctx.key() for ctx in lines})
    resolver = Resolver(agreements, catalog, report)
    t0 = time.perf_counter()
    for ctx in lines:
        resolver.plan(ctx)
    plan_s = time.perf_counter() - t0
    print(
        f"plans:   {len(lines):,} contexts in {plan_s:.2f} s "
        f"({len(lines) / plan_s:,.0f} contexts/s; {distinct:,} distinct contexts, "
        f"{resolver.cached_choices:,} rule choices and {resolver.cached_plans:,} share plans built)"
    )
    t0 = time.perf_counter()
    for ctx in lines:
        resolver.plan(ctx)
    warm_s = time.perf_counter() - t0
    print(f"plans (warm cache): {len(lines):,} contexts in {warm_s:.2f} s")

    resolver = Resolver(agreements, catalog, report)
    t0 = time.perf_counter()
    parts = 0
    for ctx in lines:
        result = resolver.resolve(ctx)
        parts += len(result.parts)
        assert total((p.amount for p in result.parts), "USD") == ctx.amount
    resolve_s = time.perf_counter() - t0
    print(
        f"resolve: {len(lines):,} lines with exact amounts in {resolve_s:.2f} s "
        f"({len(lines) / resolve_s:,.0f} lines/s, {parts:,} parts)"
    )

    units = [ctx.amount.units for ctx in lines]
    t0 = time.perf_counter()
    for ctx, u in zip(lines, units, strict=True):
        resolver.plan(ctx).split_units(u, ctx.quantity)
    units_s = time.perf_counter() - t0
    print(
        f"split_units: {len(lines):,} lines as integer units in {units_s:.2f} s "
        f"({len(lines) / units_s:,.0f} lines/s)"
    )


if __name__ == "__main__":
    main()
