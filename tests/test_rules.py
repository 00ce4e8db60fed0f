"""Resolution: exact parts for any line, the cache, the named errors, and `explain`."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from math import lcm
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cli.explain_view import render_text
from ledger.domain.agreement_files import parse_agreements
from ledger.domain.agreements import Agreement
from ledger.domain.allocation import allocate_units
from ledger.domain.attribution import parse_attribution
from ledger.domain.catalog import Catalog, parse_catalog
from ledger.domain.explanation import explain
from ledger.domain.money import Money, to_units, total
from ledger.domain.periods import Period
from ledger.domain.rules import (
    AmbiguousRules,
    FeeCurrencyMismatch,
    LineContext,
    NoAgreement,
    NoContributor,
    Resolver,
    resolve,
)
from ledger.domain.share_plans import SharePlan

ROOT = Path(__file__).resolve().parent.parent
UNIT = Decimal("1e-10")

PARTIES = ["label", "rust", "curator", "music", "voice", "lic-a", "lic-b", "lic-c"]
CATALOG = {
    "parties": [
        {
            "id": p,
            "name": p.title(),
            "kind": "company",
            "payout_currency": "USD",
            **({"operator": "true"} if p == "label" else {}),
        }
        for p in PARTIES
    ],
    "tracks": [
        {"isrc": "USRW12600001", "title": "Walk My Walk", "display_artist": "Rust Walk My Walk"},
        {"isrc": "USRW12600002", "title": "Club Mix", "display_artist": "Rust Walk My Walk"},
    ],
    "contributions": [
        {"isrc": isrc, "party": party, "role": role, **({"weight": w} if w else {})}
        for isrc in ("USRW12600001", "USRW12600002")
        for party, role, w in [
            ("curator", "curator", None),
            ("rust", "producer", None),
            ("music", "model_vendor", "2"),
            ("voice", "model_vendor", "1"),
            ("lic-a", "training_data_licensor", "5"),
            ("lic-b", "training_data_licensor", "3"),
            ("lic-c", "training_data_licensor", "2"),
        ]
    ],
}


def make_catalog(extra_tracks: list[dict[str, str]] | None = None) -> Catalog:
    doc = dict(CATALOG)
    doc["tracks"] = CATALOG["tracks"] + (extra_tracks or [])
    return parse_catalog(yaml.safe_dump(doc), "catalog.yaml")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return make_catalog()


def agreement(**over: Any) -> dict[str, Any]:
    a: dict[str, Any] = {
        "id": "walk",
        "version": "1",
        "effective_from": "2026-01",
        "scope": {"tracks": ["USRW12600001", "USRW12600002"]},
        "fees": [
            {"id": "dist", "party": "label", "percent": "15%"},
            {
                "id": "voice",
                "party": "voice",
                "per_unit": "0.0001",
                "currency": "USD",
                "cap": "5%",
                "when": {"usage": "stream"},
            },
        ],
        "rules": [
            {
                "id": "standard",
                "shares": [
                    {"role": "curator", "share": "20%"},
                    {"party": "rust", "share": "30%"},
                    {"role": "model_vendor", "share": "10%"},
                    {"role": "training_data_licensor", "share": "15%", "divide_by": "attribution"},
                    {"party": "label", "share": "remaining"},
                ],
            },
            {
                "id": "ugc",
                "priority": "10",
                "when": {"usage": "ugc"},
                "shares": [
                    {"party": "curator", "share": "1/3"},
                    {"party": "label", "share": "remaining"},
                ],
            },
        ],
    }
    a.update(over)
    return a


def load(catalog: Catalog, *agreements: dict[str, Any]) -> tuple[Agreement, ...]:
    return parse_agreements(yaml.safe_dump({"agreements": list(agreements)}), "a.yaml", catalog)


def usd(text: str) -> Money:
    return Money.of(text, "USD")


def line(amount: str = "1000.00", currency: str = "USD", **over: Any) -> LineContext:
    fields: dict[str, Any] = {
        "isrc": "USRW12600001",
        "source": "Spotify",
        "territory": "US",
        "usage": "stream",
        "period": "2026-10",
        "quantity": 250_000,
    }
    fields.update(over)
    fields["period"] = Period.parse(fields["period"])
    return LineContext(amount=Money.of(amount, currency), **fields)


def by_party(parts: Any) -> dict[tuple[str, str], Money]:
    out: dict[tuple[str, str], Money] = {}
    for p in parts:
        key = (p.party_id, p.kind)
        out[key] = out.get(key, Money.zero(p.amount.currency)) + p.amount
    return out


def test_a_stream_line_is_split_after_fees(catalog: Catalog) -> None:
    result = resolve(line(), load(catalog, agreement()), catalog)
    got = by_party(result.parts)
    assert got[("label", "fee")] == usd("150.00")
    assert got[("voice", "fee")] == usd("25.00")  # 0.0001 x 250,000 (under the 5% cap)
    assert got[("curator", "pool")] == usd("165.00")  # 20% of 825
    assert got[("rust", "share")] == usd("247.50")
    # No attribution report: the licensors' pool falls back to declared weights 5:3:2.
    assert got[("lic-a", "pool")] == usd("61.875")
    assert total((p.amount for p in result.parts), "USD") == usd("1000.00")
    assert result.matched == "walk@v1#standard"
    assert {p.rule_ref for p in result.parts if p.kind == "fee"} == {
        "walk@v1#fee:dist",
        "walk@v1#fee:voice",
    }


def test_a_per_unit_fee_is_capped_and_reports_its_share(catalog: Catalog) -> None:
    result = resolve(line("100.00", quantity=1_000_000), load(catalog, agreement()), catalog)
    voice_fee = next(p for p in result.parts if p.rule_ref == "walk@v1#fee:voice")
    assert voice_fee.amount == usd("5.00")  # capped at 5% of 100.00
    assert voice_fee.share == Fraction(1, 20)
    assert voice_fee.role == "model_vendor"  # the party's role on the track


def test_the_per_unit_fee_never_takes_more_than_is_left(catalog: Catalog) -> None:
    a = agreement()
    del a["fees"][1]["cap"]
    result = resolve(line("1.00", quantity=10**9), load(catalog, a), catalog)
    got = by_party(result.parts)
    assert got[("voice", "fee")] == usd("0.85")
    assert total((p.amount for p in result.parts), "USD") == usd("1.00")
    assert all(p.amount == Money.zero("USD") for p in result.parts if p.kind != "fee")


def test_a_refund_mirrors_the_payment_exactly(catalog: Catalog) -> None:
    agreements = load(catalog, agreement())
    paid = resolve(line("123.4567890123"), agreements, catalog)
    refund = resolve(line("-123.4567890123", quantity=-250_000), agreements, catalog)
    assert [p.amount for p in refund.parts] == [-p.amount for p in paid.parts]


def test_the_attribution_report_divides_the_licensors_pool(catalog: Catalog) -> None:
    report = parse_attribution(
        "licensor,weight\nlic-a,1\nlic-b,1\nlic-c,2\n", "r.csv", Period(2026, 10)
    )
    result = resolve(line(), load(catalog, agreement()), catalog, report)
    pools = {p.party_id: p for p in result.parts if p.role == "training_data_licensor"}
    assert pools["lic-c"].attribution_weight == Fraction(1, 2)
    assert pools["lic-c"].share == Fraction(15, 100) * Fraction(1, 2)
    assert pools["lic-c"].amount == usd("61.875")  # half of 15% of 825
    # Another period has no report: declared weights, and no attribution weight shown.
    other = resolve(
        line(period="2026-11"), load(catalog, agreement()), catalog, {Period(2026, 10): report}
    )
    assert all(p.attribution_weight is None for p in other.parts)


def test_a_tracks_own_attribution_rows_are_used_for_that_track_only(catalog: Catalog) -> None:
    report = parse_attribution(
        "licensor,isrc,weight\nlic-a,,1\nlic-b,,1\nlic-c,USRW12600002,1\n",
        "r.csv",
        Period(2026, 10),
    )
    resolver = Resolver(load(catalog, agreement()), catalog, report)
    first = resolver.resolve(line())
    second = resolver.resolve(line(isrc="USRW12600002"))
    w1 = {
        p.party_id: p.attribution_weight for p in first.parts if p.role == "training_data_licensor"
    }
    w2 = {
        p.party_id: p.attribution_weight for p in second.parts if p.role == "training_data_licensor"
    }
    # A licensor the report gives nothing gets no part at all.
    assert w1 == {"lic-a": Fraction(1, 2), "lic-b": Fraction(1, 2)}
    assert w2 == {"lic-c": Fraction(1)}


def test_priority_overrides_and_versions_supersede(catalog: Catalog) -> None:
    v2 = agreement(version="2", effective_from="2026-10")
    v2["rules"][0]["shares"][1]["share"] = "25%"
    v2["rules"][0]["shares"][0]["share"] = "25%"
    agreements = load(catalog, agreement(), v2)
    assert resolve(line(usage="ugc"), agreements, catalog).matched == "walk@v2#ugc"
    assert resolve(line(), agreements, catalog).matched == "walk@v2#standard"
    assert resolve(line(period="2026-09"), agreements, catalog).matched == "walk@v1#standard"


def test_lines_that_cannot_be_split_raise_named_errors(catalog: Catalog) -> None:
    agreements = load(catalog, agreement())
    with pytest.raises(NoAgreement, match=r"ISRC QZK6H2600014 .*: the track is not in the catalog"):
        resolve(line(isrc="QZK6H2600014"), agreements, catalog)
    with pytest.raises(NoAgreement, match="no agreement in force covers the track"):
        resolve(line(period="2025-12"), agreements, catalog)
    only_ugc = agreement()
    only_ugc["rules"] = only_ugc["rules"][1:]
    with pytest.raises(NoAgreement, match=r"no rule of walk@v1 matches"):
        resolve(line(), load(catalog, only_ugc), catalog)
    with pytest.raises(
        FeeCurrencyMismatch, match="fee walk@v1#fee:voice is USD per unit but the line is in EUR"
    ):
        resolve(line(currency="EUR"), agreements, catalog)


def test_rules_loaded_separately_that_tie_are_ambiguous_at_resolution(catalog: Catalog) -> None:
    first = load(catalog, agreement())
    second = load(catalog, agreement(id="other"))  # each file alone is valid
    with pytest.raises(
        AmbiguousRules, match="other@v1#standard and walk@v1#standard both match with priority 0"
    ):
        resolve(line(), first + second, catalog)


def test_a_role_pool_with_nobody_on_a_new_track(catalog: Catalog) -> None:
    whole = agreement(scope={"catalog": "true"})
    agreements = load(catalog, whole)
    later = make_catalog([{"isrc": "USRW12600003", "title": "New", "display_artist": "X"}])
    with pytest.raises(
        NoContributor, match="gives 20% to the curators, but no curator contributes"
    ):
        resolve(line(isrc="USRW12600003"), agreements, later)


def test_cached_errors_name_each_lines_own_track(catalog: Catalog) -> None:
    resolver = Resolver(load(catalog, agreement()), catalog)
    for isrc in ("QZK6H2600014", "QZK6H2600015", "QZK6H2600014"):
        with pytest.raises(NoAgreement, match=f"ISRC {isrc} "):
            resolver.resolve(line(isrc=isrc))


def test_the_resolver_cache_gives_the_same_parts_as_a_fresh_resolution(catalog: Catalog) -> None:
    agreements = load(catalog, agreement())
    resolver = Resolver(agreements, catalog)
    contexts = [
        line(str(Decimal(n * 7919) * UNIT * 10**6), isrc=isrc, usage=usage, territory=t, quantity=n)
        for n in range(1, 40)
        for isrc, usage, t in [("USRW12600001", "stream", "US"), ("USRW12600002", "ugc", "GB")]
    ]
    for ctx in contexts:
        assert resolver.resolve(ctx) == resolve(ctx, agreements, catalog)
    assert resolver.cached_plans <= 4


amounts = st.integers(min_value=-(10**17), max_value=10**17).map(lambda u: Decimal(u) * UNIT)


@st.composite
def split_sheets(draw: st.DrawFn) -> dict[str, Any]:
    """A random valid agreement: shares from random integers, random fees."""
    parties = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=6, unique=True))
    raw = draw(st.lists(st.integers(1, 1000), min_size=len(parties), max_size=len(parties)))
    total = sum(raw)
    shares: list[dict[str, str]] = [
        {"party": p, "share": f"{w}/{total}"} for p, w in zip(parties, raw, strict=True)
    ]
    if draw(st.booleans()):
        shares.append(
            {
                "role": "training_data_licensor",
                "share": "remaining",
                "divide_by": draw(st.sampled_from(["weights", "equal", "attribution"])),
            }
        )
        shares[0]["share"] = f"{raw[0]}/{total * 2}"
    fees: list[dict[str, Any]] = []
    for i in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            fees.append(
                {"id": f"f{i}", "party": "label", "percent": f"{draw(st.integers(0, 100))}%"}
            )
        else:
            fee: dict[str, Any] = {
                "id": f"f{i}",
                "party": "voice",
                "currency": "USD",
                "per_unit": str(Decimal(draw(st.integers(0, 10**6))) * UNIT),
            }
            if draw(st.booleans()):
                fee["cap"] = f"{draw(st.integers(0, 100))}%"
            fees.append(fee)
    return agreement(fees=fees, rules=[{"id": "any", "shares": shares}])


@settings(max_examples=200, deadline=None)
@given(sheet=split_sheets(), amount=amounts, quantity=st.integers(-(10**9), 10**9))
def test_parts_always_sum_to_the_amount(
    sheet: dict[str, Any], amount: Decimal, quantity: int
) -> None:
    catalog = make_catalog()
    agreements = load(catalog, sheet)
    result = resolve(line(str(amount), quantity=quantity), agreements, catalog)
    assert total((p.amount for p in result.parts), "USD") == Money(amount, "USD")
    assert all(not p.amount or (p.amount.amount > 0) == (amount > 0) for p in result.parts)
    refund = resolve(line(str(-amount), quantity=-quantity), agreements, catalog)
    assert [p.amount for p in refund.parts] == [-p.amount for p in result.parts]
    # The integer path for bulk posting gives the same parts in units of 10^-10.
    plan = Resolver(agreements, catalog).plan(line())
    units = plan.split_units(to_units(amount), quantity)
    assert sum(units) == to_units(amount)
    assert list(units) == [p.amount.units for p in result.parts]
    assert list(units) == [to_units(p.amount.amount) for p in result.parts]
    assert list(units) == reference_split(plan, to_units(amount), quantity)


def reference_split(plan: SharePlan, units: int, quantity: int) -> list[int]:
    """The split written plainly with :func:`allocate_units` and dicts: what the
    prepared steps of a plan must reproduce exactly (fees, then shares)."""
    fee_keys = [(f.party_id, f.role, "fee", i) for i, f in enumerate(plan.fees)]
    share_keys = [(x.party_id, x.role, x.kind, i) for i, x in enumerate(plan.shares)]
    common = lcm(*(x.share.denominator for x in plan.shares)) if plan.shares else 1
    share_weights = {k: int(x.share * common) for k, x in zip(share_keys, plan.shares, strict=True)}
    rest_key = ("", "", "rest", 0)
    magnitude = abs(units)
    rest = magnitude
    taken: dict[Any, int] = {}
    pending: dict[Any, Fraction] = {}
    carry = Fraction(1)

    def int_weights(fractions: dict[Any, Fraction]) -> dict[Any, int]:
        d = lcm(*(f.denominator for f in fractions.values()))
        return {k: f.numerator * (d // f.denominator) for k, f in fractions.items()}

    for key, fee in zip(fee_keys, plan.fees, strict=True):
        if fee.percent is not None:
            pending[key] = carry * fee.percent
            carry *= 1 - fee.percent
            continue
        if pending:
            pending[rest_key] = carry
            split = allocate_units(rest, int_weights(pending))
            rest = split.pop(rest_key)
            taken.update(split)
        cut = (fee.per_unit_units or 0) * abs(quantity)
        if fee.cap is not None:
            cut = min(cut, magnitude * fee.cap.numerator // fee.cap.denominator)
        taken[key] = min(cut, rest)
        rest -= taken[key]
        pending, carry = {}, Fraction(1)
    final = share_weights
    if pending:
        total = sum(share_weights.values())
        weights = {k: f for k, f in pending.items() if f}
        weights.update({k: carry * w / total for k, w in share_weights.items() if w})
        final = int_weights(weights) if weights else {}
    if final:
        taken.update(allocate_units(rest, final))
    sign = -1 if units < 0 else 1
    return [sign * taken.get(k, 0) for k in fee_keys + share_keys]


@settings(max_examples=100, deadline=None)
@given(amount=amounts)
def test_without_fees_each_part_is_within_one_unit_of_its_exact_share(amount: Decimal) -> None:
    catalog = make_catalog()
    a = agreement(fees=[])
    result = resolve(line(str(amount)), load(catalog, a), catalog)
    for p in result.parts:
        exact = Fraction(amount) * p.share
        assert abs(Fraction(p.amount.amount) - exact) < Fraction(UNIT)


# ---------------------------------------------------------------------------
# The shipped example: `royalty agreements explain --isrc USRW12600001`


def example() -> tuple[Catalog, tuple[Agreement, ...]]:
    catalog = parse_catalog((ROOT / "examples/catalog.yaml").read_text(), "examples/catalog.yaml")
    agreements = parse_agreements(
        (ROOT / "examples/agreements.yaml").read_text(), "examples/agreements.yaml", catalog
    )
    return catalog, agreements


def test_explain_walk_my_walk() -> None:
    catalog, agreements = example()
    report = parse_attribution(
        (ROOT / "examples/attribution-2026-10.csv").read_text(),
        "attribution.csv",
        Period(2026, 10),
        catalog=catalog,
    )
    ctx = line(quantity=250_000)
    result = explain(ctx, agreements, catalog, report)
    assert result.matched == "walk-my-walk@v2#standard"
    assert total((p.amount for p in result.example_parts), "USD") == usd("1000.00")
    parties = {p.party_id for p in result.example_parts}
    assert {
        "rust-label",
        "rust",
        "hook-curator",
        "musiclm-vendor",
        "jukebox-vendor",
        "northern-lights",
        "sunset-catalog",
        "blue-harbor",
    } <= parties
    text = render_text(result)
    assert "rule applied: walk-my-walk@v2#standard" in text
    assert "walk-my-walk@v2#ugc (priority 10) does not match: usage stream is not ugc" in text
    assert "walk-my-walk@v1 covers the track but is not in force in 2026-10" in text
    assert "by the attribution report for 2026-10" in text
    assert "1,000.00" in text and "150.00" in text
    data = json.loads(json.dumps(result.as_dict()))
    assert data["matched"] == "walk-my-walk@v2#standard"
    assert data["example"]["amount"] == "1000.00"
    assert sum(Decimal(p["amount"]) for p in data["example"]["parts"]) == Decimal("1000.00")
    assert all(isinstance(p["amount"], str) for p in data["example"]["parts"])


def test_explain_a_ugc_line_and_an_unknown_track() -> None:
    catalog, agreements = example()
    result = explain(line(usage="ugc", source="TikTok", quantity=0), agreements, catalog)
    assert result.matched == "walk-my-walk@v2#ugc"
    assert any(
        "fee voice-licence does not apply: usage ugc is not stream" in r for r in result.reasons
    )
    assert any(
        "without an attribution report for 2026-10, by declared" in s.basis for s in result.shares
    )
    with pytest.raises(NoAgreement, match="not in the catalog"):
        explain(line(isrc="QZK6H2600014"), agreements, catalog)


def test_amounts_must_be_decimals_within_the_ledger_scale(catalog: Catalog) -> None:
    from dataclasses import replace

    from ledger.domain.errors import InvalidAmount

    agreements = load(catalog, agreement())
    # The line's amount is Money, which refuses a float however it is made.
    with pytest.raises(InvalidAmount, match="never a float"):
        resolve(replace(line(), amount=Money.of(1.5, "USD")), agreements, catalog)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="Money needs a Decimal amount, got float"):
        resolve(replace(line(), amount=Money(1.5, "USD")), agreements, catalog)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="more than 10 decimal places"):
        resolve(line("0.00000000001"), agreements, catalog)
    with pytest.raises(InvalidAmount, match="not a finite number"):
        resolve(line("NaN"), agreements, catalog)


def test_an_example_context_for_explain_without_flags() -> None:
    catalog, agreements = example()
    ctx = LineContext.example("USRW12600001", Period(2026, 10))
    result = explain(ctx, agreements, catalog)
    assert (ctx.territory, ctx.usage, ctx.amount) == ("WW", "stream", usd("1000.00"))
    assert ctx.amount.amount == Decimal("1000.00")
    assert result.matched == "walk-my-walk@v2#standard"
    assert "per-unit fees are 0.00 here" in render_text(result)


def test_a_pool_can_follow_one_models_attribution_weights(catalog: Catalog) -> None:
    report = parse_attribution(
        "licensor,model,weight\nlic-a,MusicLM,3\nlic-b,MusicLM,1\nlic-c,Jukebox,1\n",
        "r.csv",
        Period(2026, 10),
    )
    a = agreement(fees=[])
    a["rules"][0]["shares"][3]["model"] = "jukebox"
    result = resolve(line(), load(catalog, a), catalog, report)
    pool = {
        p.party_id: p.attribution_weight for p in result.parts if p.role == "training_data_licensor"
    }
    assert pool == {"lic-c": Fraction(1)}
    whole = resolve(line(), load(catalog, agreement(fees=[])), catalog, report)
    pool = {
        p.party_id: p.attribution_weight for p in whole.parts if p.role == "training_data_licensor"
    }
    assert pool == {"lic-a": Fraction(3, 5), "lic-b": Fraction(1, 5), "lic-c": Fraction(1, 5)}
