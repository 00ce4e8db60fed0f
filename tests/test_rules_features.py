"""Step definitions for the rule-engine features (features/*.feature), in the finance team's words.

Each scenario builds a catalog and an agreement *as YAML text* from its
tables, so the scenarios exercise the same parser and checks as
``royalty agreements load``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from pytest_bdd import given, parsers, scenarios, then, when

from ledger.domain.agreement_files import check_agreements, parse_agreements
from ledger.domain.attribution import parse_attribution
from ledger.domain.catalog import Catalog, parse_catalog
from ledger.domain.errors import Problem
from ledger.domain.money import Money, format_share, parse_amount, total
from ledger.domain.periods import Period
from ledger.domain.rules import LineContext, Resolution, ResolutionError, resolve

scenarios(
    "split_sheets.feature",
    "conditions.feature",
    "fees.feature",
    "pools.feature",
    "invalid_agreements.feature",
)

AGREEMENT_FILE = "agreements.yaml"


@dataclass
class World:
    catalog: Catalog | None = None
    agreement: dict[str, Any] = field(default_factory=dict)
    attribution: dict[Period, Any] = field(default_factory=dict)
    line: LineContext | None = None
    result: Resolution | None = None
    error: ResolutionError | None = None
    problems: tuple[Problem, ...] = ()

    def agreement_text(self) -> str:
        return yaml.safe_dump({"agreements": [self.agreement]}, sort_keys=False)


@pytest.fixture
def world() -> World:
    return World()


def _rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    header = [h.strip() for h in datatable[0]]
    return [dict(zip(header, (c.strip() for c in row), strict=True)) for row in datatable[1:]]


def _split_sheet(datatable: list[list[str]]) -> list[dict[str, str]]:
    shares = []
    for row in _rows(datatable):
        entry: dict[str, str] = {}
        if row.get("party"):
            entry["party"] = row["party"]
        if row.get("role"):
            entry["role"] = row["role"]
        entry["share"] = row["share"]
        if row.get("divide by"):
            entry["divide_by"] = row["divide by"]
        shares.append(entry)
    return shares


# ---------------------------------------------------------------------------
# Given


@given(parsers.parse('the label "{operator}" with these contributions to "{isrc}":'))
def catalog_with(world: World, operator: str, isrc: str, datatable: list[list[str]]) -> None:
    rows = _rows(datatable)
    parties = [operator, *sorted({r["party"] for r in rows} - {operator})]
    doc = {
        "parties": [
            {
                "id": p,
                "name": p.replace("-", " ").title(),
                "kind": "company",
                "payout_currency": "USD",
                **({"operator": "true"} if p == operator else {}),
            }
            for p in parties
        ],
        "tracks": [{"isrc": isrc, "title": "Walk My Walk", "display_artist": "Rust Walk My Walk"}],
        "contributions": [
            {
                "isrc": isrc,
                "party": r["party"],
                "role": r["role"],
                **({"weight": r["weight"]} if r.get("weight") else {}),
            }
            for r in rows
        ],
    }
    world.catalog = parse_catalog(yaml.safe_dump(doc, sort_keys=False), "catalog.yaml")


@given(
    parsers.parse('the agreement "{agreement_id}" for "{isrc}" from {period} with the split sheet:')
)
def agreement_with(
    world: World, agreement_id: str, isrc: str, period: str, datatable: list[list[str]]
) -> None:
    world.agreement = {
        "id": agreement_id,
        "version": "1",
        "title": f"{agreement_id} split sheet",
        "effective_from": period,
        "scope": {"tracks": [isrc]},
        "rules": [{"id": "standard", "shares": _split_sheet(datatable)}],
    }


@given(
    parsers.parse(
        'a rule "{rule_id}" with priority {priority:d} for lines where {key} is "{value}", '
        "with the split sheet:"
    )
)
def rule_with(
    world: World, rule_id: str, priority: int, key: str, value: str, datatable: list[list[str]]
) -> None:
    world.agreement["rules"].append(
        {
            "id": rule_id,
            "priority": str(priority),
            "when": {key: [v.strip() for v in value.split(",")] if key != "period" else value},
            "shares": _split_sheet(datatable),
        }
    )


@given(parsers.re(r'a fee "(?P<fee_id>[^"]+)" of (?P<percent>[\d.]+%) to "(?P<party>[^"]+)"$'))
def percent_fee(world: World, fee_id: str, percent: str, party: str) -> None:
    world.agreement.setdefault("fees", []).append(
        {"id": fee_id, "party": party, "percent": percent}
    )


@given(
    parsers.re(
        r'a fee "(?P<fee_id>[^"]+)" of (?P<rate>[\d.]+) (?P<cur>[A-Z]{3}) per stream '
        r'to "(?P<party>[^"]+)"(?: capped at (?P<cap>[\d.]+%))?$'
    )
)
def per_unit_fee(
    world: World, fee_id: str, rate: str, cur: str, party: str, cap: str | None
) -> None:
    fee: dict[str, Any] = {
        "id": fee_id,
        "party": party,
        "per_unit": rate,
        "currency": cur,
        "when": {"usage": ["stream"]},
    }
    if cap:
        fee["cap"] = cap
    world.agreement.setdefault("fees", []).append(fee)


@given(parsers.parse("the attribution report for {period}:"))
def attribution_report(world: World, period: str, datatable: list[list[str]]) -> None:
    text = "\n".join(",".join(cell.strip() for cell in row) for row in datatable) + "\n"
    month = Period.parse(period)
    world.attribution[month] = parse_attribution(text, f"attribution-{period}.csv", month)


# ---------------------------------------------------------------------------
# When


@when(
    parsers.re(
        r"a line of (?P<amount>-?[\d.]+) (?P<cur>[A-Z]{3})(?: with (?P<units>\d+) units)? "
        r'for "(?P<isrc>[^"]+)" from "(?P<source>[^"]+)" in "(?P<territory>[^"]+)" '
        r'as "(?P<usage>[^"]+)" in (?P<period>\d{4}-\d{2}) is split'
    )
)
def split_line(
    world: World,
    amount: str,
    cur: str,
    units: str | None,
    isrc: str,
    source: str,
    territory: str,
    usage: str,
    period: str,
) -> None:
    assert world.catalog is not None
    agreements = parse_agreements(world.agreement_text(), AGREEMENT_FILE, world.catalog)
    world.line = LineContext(
        isrc,
        source,
        territory,
        usage,
        Period.parse(period),
        Money.of(amount, cur),
        int(units or 0),
    )
    world.result, world.error = None, None
    try:
        world.result = resolve(world.line, agreements, world.catalog, world.attribution)
    except ResolutionError as exc:
        world.error = exc


@when("the finance team checks the agreement")
def check_agreement(world: World) -> None:
    assert world.catalog is not None
    world.problems = check_agreements(world.agreement_text(), AGREEMENT_FILE, world.catalog)


# ---------------------------------------------------------------------------
# Then


def _result(world: World) -> Resolution:
    assert world.error is None, f"the line could not be split: {world.error}"
    assert world.result is not None
    return world.result


@then("the parts are:")
def parts_are(world: World, datatable: list[list[str]]) -> None:
    parts = _result(world).parts
    assert world.line is not None
    rows = _rows(datatable)
    assert len(parts) == len(rows), [(p.party_id, p.amount) for p in parts]
    for part, row in zip(parts, rows, strict=True):
        assert (part.party_id, part.role) == (row["party"], row["role"])
        expected = Money(parse_amount(row["amount"]), world.line.currency)
        assert part.amount == expected, (part.party_id, part.amount)
        if "kind" in row:
            assert part.kind == row["kind"]
        if "attribution" in row:
            shown = format_share(part.attribution_weight) if part.attribution_weight else ""
            assert shown == row["attribution"], part


@then("the parts add up to the line")
def parts_add_up(world: World) -> None:
    assert world.line is not None
    parts = _result(world).parts
    assert total((p.amount for p in parts), world.line.currency) == world.line.amount


@then(parsers.parse('every part names the rule "{ref}"'))
def every_part_names(world: World, ref: str) -> None:
    assert {p.rule_ref for p in _result(world).parts} == {ref}


@then(parsers.parse('the rule "{ref}" applies'))
def rule_applies(world: World, ref: str) -> None:
    assert _result(world).matched == ref


@then(parsers.parse('"{party}" gets {amount}'))
def party_gets(world: World, party: str, amount: str) -> None:
    assert world.line is not None
    code = world.line.currency
    got = total((p.amount for p in _result(world).parts if p.party_id == party), code)
    assert got == Money(parse_amount(amount), code)


@then(parsers.parse('it cannot be split because "{reason}"'))
def cannot_split(world: World, reason: str) -> None:
    assert world.result is None
    assert world.error is not None
    assert reason in str(world.error)


@then(parsers.parse('it is refused at "{key}" with "{message}"'))
def refused(world: World, key: str, message: str) -> None:
    found = [p for p in world.problems if p.field and key in p.field and message in p.message]
    assert found, [str(p) for p in world.problems]
    problem = found[0]
    assert problem.file == AGREEMENT_FILE
    assert isinstance(problem.line, int) and problem.line > 0
    assert str(problem).startswith(f"{AGREEMENT_FILE}:{problem.line}: ")
