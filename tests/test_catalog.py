"""Catalog files: parties, tracks and contributions, and every problem with file, line, field."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from ledger.domain.catalog import ROLES, UnknownParty, UnknownTrack, parse_catalog
from ledger.domain.errors import InputError

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
parties:
  - id: label
    name: Rust Label Ltd.
    kind: company
    payout_currency: usd
    operator: true
  - id: rust
    name: Rust
    kind: person
    payout_currency: USD
    payout_threshold: 50.00
    email: rust@example.com
    ipi: "00052340905"
    isni: 0000 0001 2103 2683
  - {id: lic, name: Licensor, kind: company, payout_currency: EUR}
tracks:
  - isrc: US-RW1-26-00001
    title: Walk My Walk
    display_artist: Rust Walk My Walk
    release_upc: 198765432102
    release_title: Walk My Walk
contributions:
  - {isrc: USRW12600001, party: rust, role: producer, description: "mixing, release"}
  - {isrc: USRW12600001, party: lic, role: training_data_licensor, weight: 1/3}
  - {isrc: USRW12600001, party: label, role: training_data_licensor, weight: 2/3}
"""


def test_a_catalog_parses_into_exact_normalised_values() -> None:
    catalog = parse_catalog(GOOD, "catalog.yaml")
    assert catalog.operator_id == "label" and catalog.operator.name == "Rust Label Ltd."
    rust = catalog.party("rust")
    # 50.00 is read as written, never as a YAML float.
    assert rust.payout_threshold == Decimal("50.00") and isinstance(rust.payout_threshold, Decimal)
    assert (rust.ipi, rust.isni) == ("00052340905", "0000000121032683")
    assert catalog.party("label").payout_currency == "USD"
    track = catalog.track("USRW12600001")
    assert track.release_upc == "0198765432102"  # 12-digit UPC kept as its 13-digit GTIN
    assert catalog.releases() == {"0198765432102"}
    licensors = catalog.contributions_for("USRW12600001", "training_data_licensor")
    assert [(c.party_id, c.weight) for c in licensors] == [
        ("label", Fraction(2, 3)),
        ("lic", Fraction(1, 3)),
    ]
    assert catalog.contributions_for("USRW12600001", "producer")[0].description == "mixing, release"
    assert catalog.roles_of("USRW12600001", "rust") == ("producer",)


def test_parsing_twice_gives_equal_catalogs() -> None:
    assert parse_catalog(GOOD, "a.yaml") == parse_catalog(GOOD, "b.yaml")


def test_lookups_of_unknown_ids_are_named_errors() -> None:
    catalog = parse_catalog(GOOD, "catalog.yaml")
    with pytest.raises(UnknownParty, match="party 'nobody' is not in the catalog"):
        catalog.party("nobody")
    with pytest.raises(UnknownTrack, match="ISRC QZK6H2600014 is not in the catalog"):
        catalog.track("QZK6H2600014")
    assert not catalog.has_track("QZK6H2600014")


def test_the_example_catalog_is_the_walk_my_walk_catalog() -> None:
    catalog = parse_catalog((ROOT / "examples/catalog.yaml").read_text(), "examples/catalog.yaml")
    assert catalog.operator.name == "Rust Label Ltd."
    assert {t.isrc for t in catalog.tracks} == {"USRW12600001", "USRW12600002", "USRW12600003"}
    assert not catalog.has_track("QZK6H2600014")  # unknown to the label: goes to suspense
    roles = {c.role for c in catalog.contributions_for("USRW12600001")}
    assert {"curator", "producer", "model_vendor", "training_data_licensor"} <= roles
    assert len(catalog.contributions_for("USRW12600001", "model_vendor")) == 2
    assert len(catalog.contributions_for("USRW12600001", "training_data_licensor")) >= 3
    assert catalog.party("rust").payout_threshold == Decimal("50.00")


def _problems(text: str) -> list[str]:
    with pytest.raises(InputError) as raised:
        parse_catalog(text, "cat.yaml")
    return raised.value.lines()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kind: person", "kind: robot", "cat.yaml:9: parties[1].kind: 'robot' is not a kind"),
        (
            "payout_currency: USD",
            "payout_currency: USX",
            "cat.yaml:10: parties[1].payout_currency: currency 'USX' is not an ISO 4217 code",
        ),
        (
            "payout_threshold: 50.00",
            "payout_threshold: -1",
            "cat.yaml:11: parties[1].payout_threshold: -1 is negative",
        ),
        (
            "payout_threshold: 50.00",
            "payout_threshold: 1.23456789012",
            "cat.yaml:11: parties[1].payout_threshold: payout_threshold: 1.23456789012 has more than 10",
        ),
        (
            "email: rust@example.com",
            "email: rust-at-example",
            "parties[1].email: 'rust-at-example' is not an email",
        ),
        (
            'ipi: "00052340905"',
            'ipi: "00052340906"',
            "cat.yaml:13: parties[1].ipi: IPI '00052340906': check digits",
        ),
        (
            "isni: 0000 0001 2103 2683",
            "isni: 0000 0001 2103 2684",
            "cat.yaml:14: parties[1].isni: ISNI",
        ),
        (
            "isrc: US-RW1-26-00001",
            "isrc: US-RW1-26",
            "cat.yaml:17: tracks[0].isrc: ISRC 'US-RW1-26'",
        ),
        (
            "release_upc: 198765432102",
            "release_upc: 198765432103",
            "cat.yaml:20: tracks[0].release_upc: UPC/EAN '198765432103'",
        ),
        ("    title: Walk My Walk\n", "", "cat.yaml:17: tracks[0]: 'title' is missing"),
        ("role: producer", "role: dj", "contributions[0].role: 'dj' is not a role"),
        (
            "party: rust, role",
            "party: ghost, role",
            "cat.yaml:23: contributions[0].party: party 'ghost' is not under 'parties'",
        ),
        (
            "{isrc: USRW12600001, party: rust",
            "{isrc: USRW12600009, party: rust",
            "cat.yaml:23: contributions[0].isrc: track USRW12600009 is not under 'tracks'",
        ),
        ("weight: 1/3", "weight: 0", "contributions[1].weight: is zero"),
        ("weight: 1/3", "weight: lots", "contributions[1].weight: weight: 'lots' is not a share"),
        (
            "weight: 2/3}",
            "}",
            "weight: some training_data_licensor contributions on USRW12600001 have a weight",
        ),
        (
            "    operator: true\n",
            "",
            "cat.yaml:2: parties: exactly one party must have 'operator: true'",
        ),
        (
            "  - {id: lic, name: Licensor",
            "  - {id: rust, name: Licensor",
            "cat.yaml:15: parties[2].id: party 'rust' is already defined on line 7",
        ),
        (
            "    title: Walk",
            "    colour: red\n    title: Walk",
            "cat.yaml:18: tracks[0].colour: unknown key",
        ),
        (
            "    operator: true",
            "    operator: maybe",
            "parties[0].operator: 'maybe' is not true or false",
        ),
    ],
)
def test_each_catalog_problem_names_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    lines = _problems(GOOD.replace(old, new, 1))
    assert any(line.startswith(expected) or expected in line for line in lines), lines


def test_duplicates_are_reported() -> None:
    text = GOOD + "  - {isrc: USRW12600001, party: rust, role: producer}\n"
    assert any("rust is already a producer on USRW12600001" in line for line in _problems(text))
    text = GOOD.replace(
        "tracks:\n", "tracks:\n  - {isrc: USRW12600001, title: A, display_artist: B}\n"
    )
    assert any("track USRW12600001 is already defined on line" in line for line in _problems(text))


def test_every_problem_is_reported_at_once_and_nothing_is_returned() -> None:
    text = GOOD.replace("kind: person", "kind: robot").replace("role: producer", "role: dj")
    lines = _problems(text)
    assert len(lines) == 2


def test_yaml_syntax_errors_have_a_line() -> None:
    (line,) = _problems("parties:\n  - {id: a\n")
    assert line.startswith("cat.yaml:") and "not valid YAML" in line


def test_roles_are_the_documented_list() -> None:
    assert ROLES == (
        "curator",
        "producer",
        "training_data_licensor",
        "model_vendor",
        "artist",
        "songwriter",
        "label",
        "other",
    )
