"""The split run's legs: the compiled path posts what the plain rule says, in key order.

:func:`reference_desired` is the split written plainly, one dict update per
part (as the split run did before sheets were compiled): revenue taken from
``revenue:undistributed``, fees to their recipients, each share plus its part of
the fees, and that part of the fees back on a leg per track and usage month.
Hypothesis draws split sheets (fees, pools, ``remaining``, the operator as a
holder) and revenue groups (refunds, unknown tracks, another currency); the
compiled path must give the same legs, and build them in the order a sort of
their keys gives.
"""

from __future__ import annotations

import json
from collections import defaultdict
from fractions import Fraction
from math import lcm
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain import accounts
from ledger.domain.allocation import allocate_units
from ledger.domain.money import Money
from ledger.domain.periods import Period
from ledger.domain.rules import LineContext, ResolutionError, Resolver
from ledger.domain.split_sheets import Group, Sheets, desired_postings, difference, split_track
from ledger.services.splits import _group_json
from tests.test_rules import load, make_catalog, split_sheets

OPERATOR = "label"


def _account(party_id: str, kind: str) -> str:
    if party_id == OPERATOR:
        return accounts.FEES if kind == "fee" else "income:share"
    return accounts.payable(party_id)


def reference_desired(
    groups: dict[Group, tuple[int, int]], resolver: Resolver
) -> tuple[dict[tuple[str, ...], int], int, list[str]]:
    legs: dict[tuple[str, ...], int] = defaultdict(int)
    suspense = 0
    reasons: list[str] = []
    for group in sorted(groups):
        units, quantity = groups[group]
        isrc, src, terr, usage, uperiod, ccy = group
        legs[(accounts.UNDISTRIBUTED, *group, "", "")] += units
        ctx = LineContext(
            isrc, src, terr, usage, Period.of_code(uperiod), Money.of_units(units, ccy), quantity
        )
        try:
            plan = resolver.plan(ctx)
        except ResolutionError as exc:
            legs[(accounts.SUSPENSE, *group, f"suspense:{exc.code}", "no agreement")] -= units
            suspense += units
            if len(reasons) < 20:
                reasons.append(f"{isrc} {src} {terr} {usage} {uperiod}: {exc.message}")
            continue
        split = plan.split_units(units, quantity)
        n_fees = len(plan.fees)
        for fee, part in zip(plan.fees, split, strict=False):
            legs[(_account(fee.party_id, "fee"), *group, fee.rule_ref, "fee")] -= part
        fee_units = sum(split[:n_fees])
        shares = [s.share for s in plan.shares]
        burden = [0] * len(shares)
        if fee_units and shares:
            weights = shares if any(shares) else [Fraction(1)] * len(shares)
            common = lcm(*(w.denominator for w in weights))
            parts = allocate_units(fee_units, {i: int(w * common) for i, w in enumerate(weights)})
            burden = [parts[i] for i in range(len(shares))]
        for share, part, fee_part in zip(plan.shares, split[n_fees:], burden, strict=True):
            account = _account(share.party_id, "share")
            legs[(account, *group, share.rule_ref, "earned")] -= part + fee_part
            if fee_part:
                legs[(account, isrc, "", "", "", uperiod, ccy, share.rule_ref, "fees")] += fee_part
    return {k: v for k, v in legs.items() if v}, suspense, reasons


groups_st = st.dictionaries(
    st.tuples(
        st.sampled_from(["USRW12600001", "USRW12600002", "QZZZZ2699999"]),
        st.sampled_from(["Spotify", "Apple Music", "Deezer", ""]),
        st.sampled_from(["US", "DE", ""]),
        st.sampled_from(["stream", "download"]),
        st.sampled_from(["2026-10", "2026-09"]),
        st.sampled_from(["USD", "USD", "EUR"]),
    ),
    st.tuples(
        st.integers(-(10**15), 10**15).filter(bool),
        st.integers(-1000, 10**7),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(sheet=split_sheets(), groups=groups_st)
def test_compiled_legs_are_the_plain_rule_in_key_order(
    sheet: dict[str, Any], groups: dict[Group, tuple[int, int]]
) -> None:
    catalog = make_catalog()
    agreements = load(catalog, sheet)
    expected = reference_desired(groups, Resolver(agreements, catalog))
    assert desired_postings(groups, Resolver(agreements, catalog), OPERATOR) == expected

    sheets = Sheets(Resolver(agreements, catalog), OPERATOR)
    by_track: dict[str, dict[Group, tuple[int, int]]] = defaultdict(dict)
    for group, value in groups.items():
        by_track[group[0]][group] = value
    for isrc, track_groups in sorted(by_track.items()):
        track = split_track(isrc, track_groups, sheets)
        in_key_order = difference(track.desired(), {})
        assert sum(leg.units for leg in in_key_order) == 0
        if all(group[1] for group in track_groups):
            assert track.legs() == in_key_order


@given(
    st.tuples(*[st.text(max_size=6)] * 6),
    st.integers(-(10**30), 10**30),
    st.integers(-(10**12), 10**12),
)
def test_a_group_hashes_as_its_json(group: Group, units: int, quantity: int) -> None:
    # the inputs hash of runs already recorded must not change
    assert _group_json(group, units, quantity) == json.dumps([*group, units, quantity])
