"""Agreement files: the format, the content hash, and every error with its message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from ledger.domain.agreement_files import check_agreements, parse_agreements
from ledger.domain.agreements import Agreement, current_versions
from ledger.domain.catalog import Catalog, parse_catalog
from ledger.domain.errors import InputError
from ledger.domain.money import Money
from ledger.domain.periods import Period

ROOT = Path(__file__).resolve().parent.parent
FILE = "deals.yaml"

CATALOG = """
parties:
  - {id: label, name: The Label, kind: company, payout_currency: USD, operator: true}
  - {id: rust, name: Rust, kind: person, payout_currency: USD}
  - {id: curator, name: Curator, kind: person, payout_currency: USD}
  - {id: lic-a, name: Licensor A, kind: company, payout_currency: EUR}
  - {id: lic-b, name: Licensor B, kind: company, payout_currency: EUR}
tracks:
  - {isrc: USRW12600001, title: Walk My Walk, display_artist: Rust Walk My Walk,
     release_upc: "0198765432102"}
  - {isrc: USRW12600003, title: Stay Grounded, display_artist: Rust Walk My Walk}
contributions:
  - {isrc: USRW12600001, party: curator, role: curator}
  - {isrc: USRW12600001, party: rust, role: producer}
  - {isrc: USRW12600001, party: lic-a, role: training_data_licensor, weight: "3"}
  - {isrc: USRW12600001, party: lic-b, role: training_data_licensor, weight: "1"}
  - {isrc: USRW12600003, party: rust, role: producer}
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return parse_catalog(CATALOG, "catalog.yaml")


def base() -> dict[str, Any]:
    return {
        "id": "walk",
        "version": "1",
        "title": "Walk My Walk",
        "effective_from": "2026-10",
        "scope": {"tracks": ["USRW12600001"]},
        "fees": [{"id": "dist", "party": "label", "percent": "15%"}],
        "rules": [
            {
                "id": "standard",
                "shares": [
                    {"role": "curator", "share": "20%"},
                    {"party": "rust", "role": "producer", "share": "30%"},
                    {"role": "training_data_licensor", "share": "10%", "divide_by": "attribution"},
                    {"party": "label", "share": "remaining"},
                ],
            }
        ],
        "advances": [{"party": "rust", "amount": "5000.00", "currency": "USD"}],
    }


def text_of(*agreements: dict[str, Any]) -> str:
    return yaml.safe_dump({"agreements": list(agreements)}, sort_keys=False)


def test_a_valid_agreement_parses_exactly(catalog: Catalog) -> None:
    (a,) = parse_agreements(text_of(base()), FILE, catalog)
    assert (a.id, a.version, a.ref) == ("walk", 1, "walk@v1")
    assert a.effective_to is None and a.in_force(Period(2026, 10))
    assert not a.in_force(Period(2026, 9))
    assert a.effective_from == Period(2026, 10)
    assert a.fees[0].percent == Fraction(3, 20)
    shares = a.rules[0].shares
    assert shares[0].is_pool and shares[0].role == "curator"
    assert shares[3].is_remaining and shares[3].party_id == "label"
    assert a.rules[0].explicit_total == Fraction(3, 5)
    assert a.advances[0].amount == Money.of("5000.00", "USD")
    assert a.advances[0].amount.amount == Decimal("5000.00")
    assert a.advances[0].amount.currency == "USD"
    assert len(a.content_hash) == 64


def test_content_hash_changes_with_content_not_with_layout(catalog: Catalog) -> None:
    (a,) = parse_agreements(text_of(base()), FILE, catalog)
    flow = yaml.safe_dump({"agreements": [base()]}, default_flow_style=True)
    (same,) = parse_agreements(flow, FILE, catalog)
    changed = base()
    changed["rules"][0]["shares"][0]["share"] = "21%"
    changed["rules"][0]["shares"][1]["share"] = "29%"
    (other,) = parse_agreements(text_of(changed), FILE, catalog)
    assert a.content_hash == same.content_hash
    assert a.content_hash != other.content_hash


def test_percent_fraction_and_decimal_shares_are_the_same(catalog: Catalog) -> None:
    a = base()
    a["rules"][0]["shares"][0]["share"] = "1/5"
    a["rules"][0]["shares"][1]["share"] = "0.3"
    (parsed,) = parse_agreements(text_of(a), FILE, catalog)
    (plain,) = parse_agreements(text_of(base()), FILE, catalog)
    assert parsed.content_hash == plain.content_hash


def test_scope_kinds_cover_the_right_tracks(catalog: Catalog) -> None:
    walk, stay = catalog.track("USRW12600001"), catalog.track("USRW12600003")
    for scope, covers in (
        ({"releases": ["198765432102"]}, {walk}),
        ({"artists": ["Rust Walk My Walk"]}, {walk, stay}),
        ({"catalog": "true"}, {walk, stay}),
        ({"tracks": ["US-RW1-26-00003"]}, {stay}),
    ):
        a = base()
        a["scope"] = scope
        a["rules"][0]["shares"] = [{"party": "rust", "share": "100%"}]
        (parsed,) = parse_agreements(text_of(a), FILE, catalog)
        assert {t for t in (walk, stay) if parsed.scope.covers(t)} == covers, scope


def test_conditions_expand_groups_and_fold_case(catalog: Catalog) -> None:
    a = base()
    a["rules"].append(
        {
            "id": "eu-spotify",
            "priority": "5",
            "when": {
                "source": ["Spotify"],
                "territory": ["EU", "gb"],
                "usage": "stream",
                "period": {"from": "2026-10", "to": "2026-12"},
            },
            "shares": [{"party": "rust", "share": "100%"}],
        }
    )
    (parsed,) = parse_agreements(text_of(a), FILE, catalog)
    when = parsed.rules[1].when
    nov, dec = Period(2026, 11), Period(2026, 12)
    assert when.matches("SPOTIFY", "DE", "stream", nov)
    assert when.matches("spotify", "GB", "stream", dec)
    assert not when.matches("Deezer", "DE", "stream", nov)
    assert not when.matches("Spotify", "US", "stream", nov)
    assert not when.matches("Spotify", "DE", "ugc", nov)
    assert not when.matches("Spotify", "DE", "stream", Period(2027, 1))
    assert when.why_not("Spotify", "US", "stream", nov) == "territory US is not in EU, GB"


def test_versions_newest_wins(catalog: Catalog) -> None:
    v2 = base()
    v2["version"] = "2"
    parsed = parse_agreements(text_of(base(), v2), FILE, catalog)
    assert [a.ref for a in current_versions(parsed)] == ["walk@v2"]


def test_example_agreements_parse() -> None:
    catalog = parse_catalog((ROOT / "examples/catalog.yaml").read_text(), "examples/catalog.yaml")
    parsed = parse_agreements(
        (ROOT / "examples/agreements.yaml").read_text(), "examples/agreements.yaml", catalog
    )
    assert {a.ref for a in parsed} == {"walk-my-walk@v1", "walk-my-walk@v2", "stay-grounded@v1"}
    v2 = next(a for a in parsed if a.ref == "walk-my-walk@v2")
    assert [f.id for f in v2.fees] == ["distribution-fee", "voice-licence"]
    assert v2.fees[1].cap == Fraction(1, 20)
    assert v2.fees[1].per_unit == Money.of("0.0001", "USD")
    assert v2.advances[0].party_id == "rust"


# ---------------------------------------------------------------------------
# Every error, with its message. Each case: a change to the base agreement,
# the field the problem must name, and a piece of its message.

Change = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Change:
    def change(a: dict[str, Any]) -> None:
        node: Any = a
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        last = keys[-1]
        if value is DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


DELETE = object()


def _add_rule(rule: dict[str, Any]) -> Change:
    return lambda a: a["rules"].append(rule)


ONLY_RUST = [{"party": "rust", "share": "100%"}]

ERRORS: list[tuple[str, Change, str, str]] = [
    ("unknown key", _set("colour", "red"), "agreements[0].colour", "unknown key"),
    ("missing id", _set("id", DELETE), "agreements[0]", "'id' is missing"),
    ("bad version", _set("version", "two"), "agreements[0].version", "'two' is not a whole number"),
    ("version zero", _set("version", "0"), "agreements[0].version", "versions start at 1"),
    ("bad period", _set("effective_from", "Oct 2026"), "effective_from", "is not a month"),
    (
        "ends before start",
        _set("effective_to", "2026-01"),
        "effective_to",
        "is before effective_from",
    ),
    ("no scope", _set("scope", DELETE), "agreements[0]", "'scope' is missing"),
    (
        "two scopes",
        _set("scope", {"tracks": ["USRW12600001"], "catalog": "true"}),
        "scope",
        "give exactly one of tracks",
    ),
    ("catalog false", _set("scope", {"catalog": "no"}), "scope.catalog", "catalog: true"),
    (
        "unknown track",
        _set("scope", {"tracks": ["USRW12600099"]}),
        "scope.tracks",
        "track USRW12600099 is not in the catalog",
    ),
    ("bad isrc", _set("scope", {"tracks": ["NOT-AN-ISRC"]}), "scope.tracks", "ISRC 'NOT-AN-ISRC'"),
    (
        "unknown release",
        _set("scope", {"releases": ["0198765432119"]}),
        "scope.releases",
        "release 0198765432119 has no track",
    ),
    (
        "unknown artist",
        _set("scope", {"artists": ["Nobody"]}),
        "scope.artists",
        "artist 'Nobody' has no track",
    ),
    (
        "unknown party",
        _set("rules.0.shares.1.party", "dj"),
        "shares[1].party",
        "party 'dj' is not in the catalog",
    ),
    ("unknown role", _set("rules.0.shares.0.role", "dj"), "shares[0].role", "'dj' is not a role"),
    (
        "bad share",
        _set("rules.0.shares.0.share", "lots"),
        "shares[0].share",
        "'lots' is not a share",
    ),
    ("share over 100", _set("rules.0.shares.0.share", "120%"), "shares[0].share", "is over 100%"),
    (
        "neither party nor role",
        _set("rules.0.shares.0", {"share": "20%"}),
        "shares[0]",
        "give a 'party' or a 'role'",
    ),
    (
        "bad divide_by",
        _set("rules.0.shares.0.divide_by", "vibes"),
        "shares[0].divide_by",
        "'vibes': use one of weights, equal, attribution",
    ),
    (
        "divide a party",
        _set("rules.0.shares.1.divide_by", "equal"),
        "shares[1].divide_by",
        "only a role's pool is divided",
    ),
    ("missing share", _set("rules.0.shares.1.share", DELETE), "shares[1]", "'share' is missing"),
    (
        "not 100",
        _set("rules.0.shares.3.share", "30%"),
        "rules[0].shares",
        "shares sum to 90%, not 100%",
    ),
    (
        "over 100 before remaining",
        _set("rules.0.shares.1.share", "90%"),
        "rules[0].shares",
        "shares sum to 120% before 'remaining'",
    ),
    (
        "two remaining",
        _set("rules.0.shares.1.share", "remaining"),
        "rules[0].shares",
        "more than one share is 'remaining'",
    ),
    (
        "pool without contributors",
        _set("scope", {"catalog": "true"}),
        "shares.role",
        "no curator contributes to USRW12600003",
    ),
    ("bad priority", _set("rules.0.priority", "high"), "rules[0].priority", "not a whole number"),
    ("no rules", _set("rules", DELETE), "agreements[0]", "'rules' is missing"),
    (
        "duplicate rule id",
        _add_rule({"id": "standard", "priority": "3", "shares": ONLY_RUST}),
        "agreements[0].rules",
        "rule id 'standard' is used twice",
    ),
    (
        "same priority overlap",
        _add_rule({"id": "streams", "when": {"usage": "stream"}, "shares": ONLY_RUST}),
        "priority",
        "have the same priority (0) and could match the same line",
    ),
    (
        "unknown country",
        _add_rule({"id": "x", "priority": "1", "when": {"territory": ["XX"]}, "shares": ONLY_RUST}),
        "when.territory",
        "'XX' is not an ISO 3166 country code",
    ),
    (
        "unknown usage",
        _add_rule({"id": "x", "priority": "1", "when": {"usage": "vinyl"}, "shares": ONLY_RUST}),
        "when.usage",
        "'vinyl' is not a usage type; use one of stream, download, ugc, radio, other",
    ),
    (
        "bad period condition",
        _add_rule(
            {"id": "x", "priority": "1", "when": {"period": "soon"}},
        ),
        "when.period",
        "is not a month",
    ),
    (
        "period ends first",
        _add_rule(
            {
                "id": "x",
                "priority": "1",
                "when": {"period": {"from": "2026-12", "to": "2026-10"}},
                "shares": ONLY_RUST,
            }
        ),
        "when.period",
        "ends (2026-10) before it starts (2026-12)",
    ),
    (
        "empty period",
        _add_rule({"id": "x", "priority": "1", "when": {"period": {}}, "shares": ONLY_RUST}),
        "when.period",
        "give 'from', 'to' or both",
    ),
    (
        "unknown condition",
        _add_rule({"id": "x", "priority": "1", "when": {"weather": "sunny"}, "shares": ONLY_RUST}),
        "when.weather",
        "unknown key",
    ),
    (
        "fee both kinds",
        _set("fees.0.per_unit", "0.001"),
        "fees[0]",
        "either 'percent' or 'per_unit'",
    ),
    (
        "fee neither kind",
        _set("fees.0", {"id": "dist", "party": "label"}),
        "fees[0]",
        "either 'percent' or 'per_unit'",
    ),
    (
        "fee unknown currency",
        _set("fees.0", {"id": "lic", "party": "rust", "per_unit": "0.001", "currency": "XYZ"}),
        "fees[0].currency",
        "currency 'XYZ' is not an ISO 4217 code",
    ),
    (
        "fee missing currency",
        _set("fees.0", {"id": "lic", "party": "rust", "per_unit": "0.001"}),
        "fees[0]",
        "'currency' is missing",
    ),
    (
        "fee negative rate",
        _set("fees.0", {"id": "lic", "party": "rust", "per_unit": "-0.001", "currency": "USD"}),
        "fees[0].per_unit",
        "is negative",
    ),
    ("fee cap on percent", _set("fees.0.cap", "5%"), "fees[0].cap", "needs no cap"),
    (
        "fee currency on percent",
        _set("fees.0.currency", "USD"),
        "fees[0].currency",
        "only a per_unit fee has a currency",
    ),
    (
        "fee unknown party",
        _set("fees.0.party", "bank"),
        "fees[0].party",
        "party 'bank' is not in the catalog",
    ),
    (
        "duplicate fee id",
        lambda a: a["fees"].append(dict(a["fees"][0])),
        "agreements[0].fees",
        "fee id 'dist' is used twice",
    ),
    (
        "advance not positive",
        _set("advances.0.amount", "-5"),
        "advances[0].amount",
        "is not a positive amount",
    ),
    (
        "advance unknown currency",
        _set("advances.0.currency", "ZZZ"),
        "advances[0].currency",
        "currency 'ZZZ' is not an ISO 4217 code",
    ),
    (
        "advance float-like junk",
        _set("advances.0.amount", "5,000"),
        "advances[0].amount",
        "is not a number",
    ),
    (
        "list where a value goes",
        _set("title", ["a", "b"]),
        "agreements[0].title",
        "expected a single value",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [pytest.param(c, f, m, id=name) for name, c, f, m in ERRORS],
)
def test_each_agreement_error_names_file_line_and_key(
    catalog: Catalog, change: Change, field: str, message: str
) -> None:
    a = copy.deepcopy(base())
    change(a)
    text = text_of(a)
    problems = check_agreements(text, FILE, catalog)
    found = [p for p in problems if p.field and field in p.field and message in p.message]
    assert found, [str(p) for p in problems]
    p = found[0]
    assert p.file == FILE and isinstance(p.line, int)
    assert 1 <= p.line <= text.count("\n")
    with pytest.raises(InputError) as raised:
        parse_agreements(text, FILE, catalog)
    assert any(message in line for line in raised.value.lines())


def test_line_numbers_point_at_the_offending_line(catalog: Catalog) -> None:
    text = text_of(base()).replace("party: rust\n", "party: dj\n")
    p = check_agreements(text, FILE, catalog)[0]
    assert p.line is not None
    assert "party: dj" in text.splitlines()[p.line - 1]
    assert str(p).startswith(f"{FILE}:{p.line}: agreements[0].rules[0].shares[1].party: ")


def test_every_problem_is_reported_in_one_run(catalog: Catalog) -> None:
    a = base()
    a["rules"][0]["shares"][1]["party"] = "dj"
    a["fees"][0]["party"] = "bank"
    a["effective_from"] = "someday"
    problems = check_agreements(text_of(a), FILE, catalog)
    assert len(problems) >= 3
    messages = " | ".join(str(p) for p in problems)
    assert "'dj'" in messages and "'bank'" in messages and "someday" in messages


def test_file_level_errors(catalog: Catalog) -> None:
    (p,) = check_agreements("agreements: [\n", FILE, catalog)
    assert "not valid YAML" in p.message and p.line is not None
    problems = check_agreements("deals: []\n", FILE, catalog)
    assert [(p.line, p.field) for p in problems if "unknown key" in p.message] == [(1, "deals")]
    assert any(
        "'agreements' is missing" in x.message for x in check_agreements("x: 1\n", FILE, catalog)
    )
    with pytest.raises(InputError, match="the file has no agreements"):
        parse_agreements("agreements: []\n", FILE, catalog)


def test_same_version_twice_in_a_file(catalog: Catalog) -> None:
    problems = check_agreements(text_of(base(), base()), FILE, catalog)
    assert any("walk@v1 is already defined on line" in p.message for p in problems)


def test_overlap_across_agreements_and_with_loaded_ones(catalog: Catalog) -> None:
    other = base()
    other["id"] = "other"
    problems = check_agreements(text_of(base(), other), FILE, catalog)
    assert any("walk@v1#standard and other@v1#standard" in p.message for p in problems)
    (loaded,) = parse_agreements(text_of(base()), FILE, catalog)
    problems = check_agreements(text_of(other), FILE, catalog, existing=[loaded])
    assert any("could match the same line" in p.message for p in problems)
    # Exclusive periods do not overlap.
    other["effective_from"] = "2025-01"
    other["effective_to"] = "2025-12"
    assert check_agreements(text_of(other), FILE, catalog, existing=[loaded]) == ()


def test_a_loaded_version_never_changes(catalog: Catalog) -> None:
    (loaded,) = parse_agreements(text_of(base()), FILE, catalog)
    changed = base()
    changed["title"] = "Renamed"
    problems = check_agreements(text_of(changed), FILE, catalog, existing=[loaded])
    assert any("already loaded with different content" in p.message for p in problems)
    assert check_agreements(text_of(base()), FILE, catalog, existing=[loaded]) == ()


def test_agreement_values_are_frozen(catalog: Catalog) -> None:
    (a,) = parse_agreements(text_of(base()), FILE, catalog)
    assert isinstance(a, Agreement)
    with pytest.raises(AttributeError):
        a.version = 2  # type: ignore[misc]
