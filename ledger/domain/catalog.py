"""The catalog: who can be paid (parties), what earns (tracks), and who made what (contributions).

The finance team writes the catalog as YAML; :func:`parse_catalog` turns it
into frozen values or reports *every* problem at once with file, line and
field (line numbers come from the YAML node marks, so the message points at
the exact line to fix). Nothing here touches a database: the catalog service
upserts what this module returns.

Catalog file reference::

    parties:
      - id: rust-label                 # short, stable id used everywhere else
        name: Rust Label Ltd.
        kind: company                  # person | company
        payout_currency: USD           # ISO 4217
        payout_threshold: "50.00"      # minimum payout (default 0)
        email: royalties@example.com   # optional
        ipi: "00014107338"             # optional, check digits verified
        isni: "0000 0001 2103 2683"    # optional, check digit verified
        operator: true                 # exactly one party runs the ledger
    tracks:
      - isrc: USRW12600001             # ISRC, hyphens allowed
        title: Walk My Walk
        display_artist: Rust Walk My Walk
        release_upc: "0198765432102"   # optional UPC-A / EAN-13, check digit verified,
                                       # kept as the 13-digit GTIN
        release_title: Walk My Walk    # optional
    contributions:
      - isrc: USRW12600001
        party: rust
        role: producer                 # see ROLES
        weight: "2"                    # optional: divides a role's pool (int, 0.5, 1/3, 25%)
        description: production, mixing and release

Within one track and role, either every contribution has a weight or none
does (then the pool divides equally): a half-weighted pool is always a typo.
Scalars are read as the text the team wrote (never as YAML floats), so
``50.00`` and ``0198765432102`` keep every digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Final

from ledger.domain.errors import LedgerError, ProblemCollector
from ledger.domain.identifiers import normalise_ipi, normalise_isni, normalise_isrc, normalise_upc
from ledger.domain.money import currency, parse_amount, parse_share
from ledger.domain.yaml_fields import Fields, load_yaml

ROLES: Final = (
    "curator",
    "producer",
    "training_data_licensor",
    "model_vendor",
    "artist",
    "songwriter",
    "label",
    "other",
)
"""Roles a party can have on a track."""

KINDS: Final = ("person", "company")

# ---------------------------------------------------------------------------
# Values


@dataclass(frozen=True, slots=True)
class Party:
    """Anyone who can be owed money: a person, a company, an AI vendor, the operator."""

    id: str
    name: str
    kind: str
    payout_currency: str
    payout_threshold: Decimal = Decimal(0)
    email: str | None = None
    ipi: str | None = None
    isni: str | None = None
    is_operator: bool = False


@dataclass(frozen=True, slots=True)
class Track:
    """A recording, keyed by ISRC, on at most one release here."""

    isrc: str
    title: str
    display_artist: str
    release_upc: str | None = None
    release_title: str | None = None


@dataclass(frozen=True, slots=True)
class Contribution:
    """Who did what on a track: the provenance record that pools divide by."""

    isrc: str
    party_id: str
    role: str
    weight: Fraction | None = None
    description: str = ""


class UnknownParty(LedgerError):
    code = "unknown-party"
    title = "Unknown party"
    http_status = 404


class UnknownTrack(LedgerError):
    code = "unknown-track"
    title = "Unknown track"
    http_status = 404


@dataclass(frozen=True, slots=True)
class Catalog:
    """Parties, tracks and contributions, with the lookups the rule engine needs."""

    operator_id: str
    parties: tuple[Party, ...]
    tracks: tuple[Track, ...]
    contributions: tuple[Contribution, ...]
    _party_index: dict[str, Party] = field(init=False, repr=False, compare=False, hash=False)
    _track_index: dict[str, Track] = field(init=False, repr=False, compare=False, hash=False)
    _by_track: dict[str, tuple[Contribution, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _releases: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)
    _artists: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_track: dict[str, list[Contribution]] = {}
        for c in self.contributions:
            by_track.setdefault(c.isrc, []).append(c)
        object.__setattr__(
            self, "_releases", frozenset(t.release_upc for t in self.tracks if t.release_upc)
        )
        object.__setattr__(self, "_artists", frozenset(t.display_artist for t in self.tracks))
        object.__setattr__(self, "_party_index", {p.id: p for p in self.parties})
        object.__setattr__(self, "_track_index", {t.isrc: t for t in self.tracks})
        object.__setattr__(
            self,
            "_by_track",
            {k: tuple(sorted(v, key=lambda c: (c.role, c.party_id))) for k, v in by_track.items()},
        )

    @property
    def operator(self) -> Party:
        return self.party(self.operator_id)

    def party(self, party_id: str) -> Party:
        try:
            return self._party_index[party_id]
        except KeyError:
            raise UnknownParty(f"party {party_id!r} is not in the catalog") from None

    def has_party(self, party_id: str) -> bool:
        return party_id in self._party_index

    def track(self, isrc: str) -> Track:
        try:
            return self._track_index[isrc]
        except KeyError:
            raise UnknownTrack(f"ISRC {isrc} is not in the catalog") from None

    def has_track(self, isrc: str) -> bool:
        return isrc in self._track_index

    def contributions_for(self, isrc: str, role: str | None = None) -> tuple[Contribution, ...]:
        """Contributions on a track (optionally one role), ordered by role then party id."""
        found = self._by_track.get(isrc, ())
        if role is None:
            return found
        return tuple(c for c in found if c.role == role)

    def roles_of(self, isrc: str, party_id: str) -> tuple[str, ...]:
        return tuple(c.role for c in self._by_track.get(isrc, ()) if c.party_id == party_id)

    def releases(self) -> frozenset[str]:
        """Release codes (13-digit GTIN) that have a track here."""
        return self._releases

    def artists(self) -> frozenset[str]:
        """Display artists that have a track here."""
        return self._artists


# ---------------------------------------------------------------------------
# Parsing


def release_code(value: str) -> str:
    """A release's UPC-A or EAN-13 as its 13-digit GTIN, so ``198765432102`` (a UPC from one
    source) and ``0198765432102`` (the same code from another) are the same release."""
    return normalise_upc(value).zfill(13)


def _email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or " " in value:
        raise LedgerError(f"{value!r} is not an email address")
    return value


def _threshold(value: str) -> Decimal:
    amount = parse_amount(value, what="payout_threshold")
    if amount < 0:
        raise LedgerError(f"{value} is negative; a minimum payout is zero or more")
    return amount


def _weight(value: str) -> Fraction:
    return parse_share(value, what="weight")


def _currency(value: str) -> str:
    return currency(value).code


def parse_catalog(text: str, filename: str) -> Catalog:
    """Parse a catalog file; raise :class:`~ledger.domain.errors.InputError` listing every problem."""
    problems = ProblemCollector()
    root = load_yaml(text, filename, problems)
    if root is None:
        problems.raise_if_any()
        raise AssertionError("unreachable")  # pragma: no cover
    top = Fields(root, filename, problems, "", {"parties", "tracks", "contributions"})

    parties: list[Party] = []
    party_lines: dict[str, int] = {}
    for i, node in enumerate(top.seq("parties", required=True)):
        f = Fields(
            node,
            filename,
            problems,
            f"parties[{i}]",
            {
                "id",
                "name",
                "kind",
                "payout_currency",
                "payout_threshold",
                "email",
                "ipi",
                "isni",
                "operator",
            },
        )
        pid = f.text("id")
        name = f.text("name")
        kind = f.text("kind")
        if kind is not None and kind not in KINDS:
            f.problem("kind", f"{kind!r} is not a kind; use person or company")
        cur = f.call("payout_currency", _currency)
        threshold = f.call("payout_threshold", _threshold, required=False)
        email = f.call("email", _email, required=False)
        ipi = f.call("ipi", normalise_ipi, required=False)
        isni = f.call("isni", normalise_isni, required=False)
        operator = f.flag("operator")
        if pid is not None and pid in party_lines:
            f.problem("id", f"party {pid!r} is already defined on line {party_lines[pid]}")
            continue
        if pid is not None:
            party_lines[pid] = f.line("id")
        if None in (pid, name, kind, cur) or kind not in KINDS:
            continue
        parties.append(
            Party(
                id=str(pid),
                name=str(name),
                kind=str(kind),
                payout_currency=str(cur),
                payout_threshold=threshold if isinstance(threshold, Decimal) else Decimal(0),
                email=email if isinstance(email, str) else None,
                ipi=ipi if isinstance(ipi, str) else None,
                isni=isni if isinstance(isni, str) else None,
                is_operator=operator,
            )
        )

    operators = [p for p in parties if p.is_operator]
    if len(operators) != 1 and party_lines:
        listed = ", ".join(p.id for p in operators) or "none"
        top.problem(
            "parties",
            f"exactly one party must have 'operator: true' (the label running the ledger); "
            f"found {listed}",
        )

    tracks: list[Track] = []
    track_lines: dict[str, int] = {}
    for i, node in enumerate(top.seq("tracks")):
        f = Fields(
            node,
            filename,
            problems,
            f"tracks[{i}]",
            {"isrc", "title", "display_artist", "release_upc", "release_title"},
        )
        isrc = f.call("isrc", normalise_isrc)
        title = f.text("title")
        artist = f.text("display_artist")
        upc = f.call("release_upc", release_code, required=False)
        release_title = f.text("release_title", required=False)
        if isinstance(isrc, str):
            if isrc in track_lines:
                f.problem("isrc", f"track {isrc} is already defined on line {track_lines[isrc]}")
                continue
            track_lines[isrc] = f.line("isrc")
        if not isinstance(isrc, str) or title is None or artist is None:
            continue
        tracks.append(
            Track(isrc, title, artist, upc if isinstance(upc, str) else None, release_title)
        )

    contributions: list[Contribution] = []
    seen: dict[tuple[str, str, str], int] = {}
    weighted: dict[tuple[str, str], list[tuple[bool, int]]] = {}
    for i, node in enumerate(top.seq("contributions")):
        f = Fields(
            node,
            filename,
            problems,
            f"contributions[{i}]",
            {"isrc", "party", "role", "weight", "description"},
        )
        isrc = f.call("isrc", normalise_isrc)
        pid = f.text("party")
        role = f.text("role")
        weight = f.call("weight", _weight, required=False)
        description = f.text("description", required=False) or ""
        if isinstance(isrc, str) and isrc not in track_lines:
            f.problem("isrc", f"track {isrc} is not under 'tracks'; add it there first")
        if pid is not None and pid not in party_lines:
            f.problem("party", f"party {pid!r} is not under 'parties'; add it there first")
        if role is not None and role not in ROLES:
            f.problem("role", f"{role!r} is not a role; use one of {', '.join(ROLES)}")
        if weight == 0:
            f.problem("weight", "is zero; leave the contribution out or give it a weight")
        if not isinstance(isrc, str) or pid is None or role not in ROLES:
            continue
        key = (isrc, pid, str(role))
        if key in seen:
            f.problem(None, f"{pid} is already a {role} on {isrc} (line {seen[key]})")
            continue
        seen[key] = f.node.line
        weighted.setdefault((isrc, str(role)), []).append((weight is not None, f.node.line))
        contributions.append(
            Contribution(
                isrc, pid, str(role), weight if isinstance(weight, Fraction) else None, description
            )
        )
    for (isrc, role), marks in weighted.items():
        if len({has for has, _ in marks}) > 1:
            line = next(line for has, line in marks if not has)
            problems.add(
                filename,
                line,
                "weight",
                f"some {role} contributions on {isrc} have a weight and some do not; "
                "give every one a weight or none",
            )

    problems.raise_if_any()
    return Catalog(
        operator_id=operators[0].id,
        parties=tuple(parties),
        tracks=tuple(tracks),
        contributions=tuple(contributions),
    )
