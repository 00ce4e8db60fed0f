"""Agreement files: YAML split sheets read and checked into :mod:`ledger.domain.agreements` values.

The finance team writes agreements as YAML; this module reports every problem
at once with file, line and key, and :mod:`ledger.domain.rules` resolves
revenue lines against what it returns.

Agreement file reference
------------------------

A file holds a list under ``agreements``. Every amount, share and rate is
written as text (``"15%"``, ``"1/3"``, ``"0.25"``, ``"0.0001"``) and read
exactly; YAML floats never touch money. Periods are months, ``YYYY-MM``::

    agreements:
      - id: walk-my-walk             # stable id; with the version it names the agreement
        version: 2                   # a new version of the same id supersedes older ones
        title: Walk My Walk split sheet
        effective_from: 2026-10      # first month it applies to
        effective_to: 2027-09        # last month (inclusive); leave out for open-ended
        scope:                       # exactly one of:
          releases: ["0198765432102"]  #   tracks: [ISRC, ...]   releases: [UPC/EAN, ...]
                                       #   artists: [display artist, ...]   catalog: true
        fees:                        # taken before the split, in the order written
          - id: distribution-fee
            party: rust-label
            percent: 15%             # of what is left of the line at this point
          - id: voice-licence
            party: jukebox-vendor
            per_unit: "0.0001"       # per unit of the line's quantity (per stream)
            currency: USD            # the currency of the rate (required with per_unit)
            cap: 5%                  # optional: at most this share of the line's amount
            when: {usage: stream}    # optional conditions, as for rules
        rules:
          - id: standard             # one complete split sheet per rule
            priority: 0              # higher wins; the default is 0
            when:                    # optional; every condition given must hold
              source: [Spotify, Apple Music]   # store / DSP as the revenue file names it
              territory: [US, EU]    # ISO 3166 countries or groups: EU EEA DACH NORDICS LATAM, WW
              usage: [stream]        # stream | download | ugc | radio | other
              period: {from: 2026-10, to: 2026-12}   # or a single month: 2026-11
            shares:
              - {party: rust, role: producer, share: 30%}           # a named party
              - {role: curator, share: 20%}                         # a role's pool, see below
              - {role: model_vendor, share: 10%, divide_by: weights}
              - {role: training_data_licensor, share: 15%, divide_by: attribution}
              - {party: rust-label, role: label, share: remaining}  # at most one 'remaining'
        advances:                    # recoupable, per party; recouped by the split service
          - {party: rust, amount: "5000.00", currency: USD, description: production advance}

Shares go to a ``party`` (its ``role`` defaults to its role on the track, else
``label`` for the operator, else ``other``) or to a ``role``: a pool divided
among the track's contributors in that role. ``divide_by`` says how:

* ``weights`` (the default): by the contributions' declared weights, equally
  when none are declared;
* ``equal``: equally, whatever the weights;
* ``attribution``: by the period's attribution report (training-data
  licensors; ``model: NAME`` picks one model's weights), falling back to
  declared weights, then equal, when the period has no report for the track.

A share is a percentage, a fraction or ``remaining``. Without ``remaining``
the shares of a rule sum to exactly 100 %; with it, to at most 100 %. Shares
divide what is left after the fees.

A fee goes to a ``party`` (``role`` optional, defaulting as for shares). A
per-unit fee is the rate times the line's quantity, at most ``cap`` of the
line's amount and never more than what is left; it applies only to lines in
its ``currency`` (revenue is converted to the ledger currency on import).

Conditions: ``source`` compares store names without regard to case;
``territory`` ``WW`` matches lines a source reports as worldwide (a rule
without a territory condition matches every territory); a condition lists
one value or several.

Which rule applies: of the agreements in force for the line's period whose
scope covers its track (of several versions of one id in force, the
highest), the matching rule with the highest ``priority``. Give a narrower rule (a country, a store) a
higher priority than the broad one it overrides. Two rules of the same
priority that could match the same line are an error, across agreements too.
Only the fees of the agreement whose rule matched apply.

Validation reports every problem with file, line and key: shares not summing
to 100 %, more than one ``remaining``, unknown parties, tracks, releases or
artists, a role pool with no contributor on a track in scope, overlapping
rules of equal priority (also against agreements already loaded), unknown
countries, currencies and usage types, and a loaded version whose content
changed (a version never changes: load a new version instead).

Amounts are split exactly (see :mod:`ledger.domain.rules`): the parts of a line
always add up to it, to the ledger's 10 decimal places.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from ledger.domain.agreements import (
    ALWAYS,
    DIVIDE_BY,
    SCOPE_KINDS,
    USAGES,
    Advance,
    Agreement,
    Conditions,
    Fee,
    InvalidAgreement,
    Rule,
    Scope,
    ShareEntry,
    content_hash,
    periods_overlap,
)
from ledger.domain.catalog import ROLES, Catalog, Track, release_code
from ledger.domain.errors import InputError, LedgerError, Problem, ProblemCollector
from ledger.domain.identifiers import (
    TERRITORY_GROUPS,
    normalise_isrc,
    normalise_territory,
)
from ledger.domain.money import Money, currency, format_share, parse_amount, parse_share
from ledger.domain.periods import Period
from ledger.domain.yaml_fields import Fields, Node, as_list, load_yaml

# ---------------------------------------------------------------------------
# Parsing


def _period(value: str) -> Period:
    return Period.parse(value)


def _share(value: str) -> Fraction:
    share = parse_share(value)
    if share > 1:
        raise InvalidAgreement(f"{value} is over 100%")
    return share


def _per_unit(value: str) -> Decimal:
    rate = parse_amount(value, what="per_unit")
    if rate < 0:
        raise InvalidAgreement(f"{value} is negative")
    return rate


def _positive_amount(value: str) -> Decimal:
    amount = parse_amount(value)
    if amount <= 0:
        raise InvalidAgreement(f"{value} is not a positive amount")
    return amount


def _int(value: str) -> int:
    text = value.strip()
    if not text.lstrip("-").isdigit():
        raise InvalidAgreement(f"{value!r} is not a whole number")
    return int(text)


def _conditions(
    node: Node | None, where: str, filename: str, problems: ProblemCollector
) -> Conditions:
    if node is None or node.is_null:
        return ALWAYS
    f = Fields(node, filename, problems, where, {"source", "territory", "usage", "period"})
    written: list[tuple[str, str]] = []
    sources: frozenset[str] | None = None
    territories: frozenset[str] | None = None
    usages: frozenset[str] | None = None
    p_from: Period | None = None
    p_to: Period | None = None
    if f.has("source"):
        names = [n.text() for n in f.seq("source")]
        clean = [n.strip() for n in names if n and n.strip()]
        if len(clean) != len(names):
            f.problem("source", "each source is a store or DSP name, as text")
        sources = frozenset(n.casefold() for n in clean)
        written.append(("source", " or ".join(clean)))
    if f.has("territory"):
        codes: set[str] = set()
        texts: list[str] = []
        for n in f.seq("territory"):
            text = (n.text() or "").strip().upper()
            texts.append(text)
            if text in TERRITORY_GROUPS:
                codes |= TERRITORY_GROUPS[text]
                continue
            try:
                codes.add(normalise_territory(text))
            except LedgerError:
                groups = ", ".join(sorted(TERRITORY_GROUPS))
                f.problem(
                    "territory",
                    f"{text!r} is not an ISO 3166 country code or a group ({groups}, WW)",
                    n.line,
                )
        territories = frozenset(codes)
        written.append(("territory", ", ".join(texts)))
    if f.has("usage"):
        found: set[str] = set()
        for n in f.seq("usage"):
            text = (n.text() or "").strip().lower()
            if text not in USAGES:
                f.problem(
                    "usage", f"{text!r} is not a usage type; use one of {', '.join(USAGES)}", n.line
                )
            found.add(text)
        usages = frozenset(found)
        written.append(("usage", " or ".join(sorted(found))))
    if f.has("period"):
        pnode = f.map["period"]
        if isinstance(pnode.value, dict):
            pf = Fields(pnode, filename, problems, f.field_name("period"), {"from", "to"})
            p_from = pf.call("from", _period, required=False)  # type: ignore[assignment]
            p_to = pf.call("to", _period, required=False)  # type: ignore[assignment]
            if p_from is None and p_to is None:
                pf.problem(None, "give 'from', 'to' or both")
        else:
            p_from = p_to = f.call("period", _period)  # type: ignore[assignment]
        if p_from and p_to and p_to < p_from:
            f.problem("period", f"ends ({p_to}) before it starts ({p_from})")
        written.append(("period", f"{p_from or '...'} to {p_to or '...'}"))
    return Conditions(sources, territories, usages, p_from, p_to, tuple(written))


class _Parser:
    def __init__(self, filename: str, catalog: Catalog, problems: ProblemCollector) -> None:
        self.filename = filename
        self.catalog = catalog
        self.problems = problems

    def party(self, f: Fields, key: str = "party") -> str | None:
        pid = f.text(key)
        if pid is not None and not self.catalog.has_party(pid):
            f.problem(key, f"party {pid!r} is not in the catalog; add it to the catalog first")
            return None
        return pid

    def scope(self, node: Node | None, where: str, parent: Fields) -> Scope | None:
        if node is None or node.is_null:
            parent.problem(None, "'scope' is missing (tracks, releases, artists or catalog: true)")
            return None
        f = Fields(node, self.filename, self.problems, where, set(SCOPE_KINDS))
        given = [k for k in SCOPE_KINDS if f.has(k)]
        if len(given) != 1:
            f.problem(None, "give exactly one of tracks, releases, artists or catalog: true")
            return None
        kind = given[0]
        if kind == "catalog":
            if not f.flag("catalog"):
                f.problem("catalog", "write 'catalog: true' for the whole catalog")
                return None
            return Scope("catalog")
        values: set[str] = set()
        for n in f.seq(kind):
            text = (n.text() or "").strip()
            try:
                if kind == "tracks":
                    value = normalise_isrc(text)
                    if not self.catalog.has_track(value):
                        f.problem(kind, f"track {value} is not in the catalog", n.line)
                elif kind == "releases":
                    value = release_code(text)
                    if value not in self.catalog.releases():
                        f.problem(kind, f"release {value} has no track in the catalog", n.line)
                else:
                    value = text
                    if value not in self.catalog.artists():
                        f.problem(kind, f"artist {value!r} has no track in the catalog", n.line)
            except LedgerError as exc:
                f.problem(kind, str(exc), n.line)
                continue
            values.add(value)
        return Scope(kind, frozenset(values))

    def share_entry(self, node: Node, where: str) -> ShareEntry | None:
        f = Fields(
            node,
            self.filename,
            self.problems,
            where,
            {"party", "role", "share", "divide_by", "model"},
        )
        share_text = f.text("share")
        share: Fraction | None = None
        if share_text is not None and share_text.lower() != "remaining":
            share = f.call("share", _share)  # type: ignore[assignment]
            if share is None:
                return None
        party = self.party(f) if f.has("party") else None
        role = f.text("role", required=False)
        if role is not None and role not in ROLES:
            f.problem("role", f"{role!r} is not a role; use one of {', '.join(ROLES)}")
            return None
        if not f.has("party") and role is None:
            f.problem(None, "give a 'party' or a 'role' for this share")
            return None
        divide_by = f.text("divide_by", required=False) or "weights"
        if divide_by not in DIVIDE_BY:
            f.problem("divide_by", f"{divide_by!r}: use one of {', '.join(DIVIDE_BY)}")
            return None
        if f.has("party") and f.has("divide_by"):
            f.problem("divide_by", "only a role's pool is divided; a party's share is not")
        if (f.has("party") and party is None) or share_text is None:
            return None
        model = f.text("model", required=False)
        return ShareEntry(share, party, role, divide_by, model, node.line)

    def fee(self, node: Node, where: str) -> Fee | None:
        f = Fields(
            node,
            self.filename,
            self.problems,
            where,
            {"id", "party", "role", "percent", "per_unit", "currency", "cap", "when"},
        )
        fid = f.text("id")
        party = self.party(f)
        role = f.text("role", required=False)
        if role is not None and role not in ROLES:
            f.problem("role", f"{role!r} is not a role; use one of {', '.join(ROLES)}")
        percent = f.call("percent", _share, required=False) if f.has("percent") else None
        per_unit = f.call("per_unit", _per_unit, required=False) if f.has("per_unit") else None
        cap = f.call("cap", _share, required=False) if f.has("cap") else None
        cur = None
        if f.has("percent") == f.has("per_unit"):
            f.problem(
                None,
                "a fee is either 'percent' or 'per_unit' (with 'currency'), not both or neither",
            )
        if f.has("per_unit"):
            cur = f.call("currency", lambda c: currency(c).code)
        elif f.has("currency"):
            f.problem("currency", "only a per_unit fee has a currency")
        if f.has("cap") and f.has("percent"):
            f.problem("cap", "a percentage fee needs no cap; lower the percent instead")
        when = _conditions(f.map.get("when"), f.field_name("when"), self.filename, self.problems)
        if (
            fid is None
            or party is None
            or (role is not None and role not in ROLES)
            or (percent is None and per_unit is None)
        ):
            return None
        rate = None
        if isinstance(per_unit, Decimal) and isinstance(cur, str):
            rate = Money(per_unit, cur)
        elif per_unit is not None:
            return None
        return Fee(
            fid,
            party,
            percent if isinstance(percent, Fraction) else None,
            rate,
            cap if isinstance(cap, Fraction) else None,
            role,
            when,
            node.line,
        )

    def rule(self, node: Node, where: str, agreement_tracks: list[Track]) -> Rule | None:
        f = Fields(node, self.filename, self.problems, where, {"id", "priority", "when", "shares"})
        rid = f.text("id")
        priority = f.call("priority", _int, required=False)
        when = _conditions(f.map.get("when"), f.field_name("when"), self.filename, self.problems)
        entries: list[ShareEntry] = []
        ok = True
        share_nodes = f.seq("shares", required=True)
        for i, n in enumerate(share_nodes):
            entry = self.share_entry(n, f"{f.field_name('shares')}[{i}]")
            if entry is None:
                ok = False
            else:
                entries.append(entry)
        remaining = [e for e in entries if e.is_remaining]
        explicit = sum((e.share for e in entries if e.share is not None), Fraction(0))
        if len(remaining) > 1:
            lines = ", ".join(str(e.line) for e in remaining)
            f.problem("shares", f"more than one share is 'remaining' (lines {lines}); keep one")
        elif ok and share_nodes:
            if remaining and explicit > 1:
                f.problem(
                    "shares",
                    f"shares sum to {format_share(explicit)} before 'remaining'; "
                    "they must leave something for it (at most 100%)",
                )
            elif not remaining and explicit != 1:
                f.problem(
                    "shares",
                    f"shares sum to {format_share(explicit)}, not 100%; "
                    "fix the shares or make one of them 'remaining'",
                )
        # Every role pool needs someone to divide among, on every track in scope.
        for e in entries:
            if not e.is_pool:
                continue
            missing = [
                t.isrc
                for t in agreement_tracks
                if not self.catalog.contributions_for(t.isrc, e.role)
            ]
            if missing:
                self.problems.add(
                    self.filename,
                    e.line,
                    f"{f.field_name('shares')}.role",
                    f"no {e.role} contributes to {', '.join(missing)}; "
                    "add the contribution to the catalog or name a party instead",
                )
        if rid is None or not ok or len(remaining) > 1:
            return None
        return Rule(
            rid, tuple(entries), priority if isinstance(priority, int) else 0, when, node.line
        )

    def advance(self, node: Node, where: str) -> Advance | None:
        f = Fields(
            node,
            self.filename,
            self.problems,
            where,
            {"party", "amount", "currency", "description"},
        )
        party = self.party(f)
        amount = f.call("amount", _positive_amount)
        cur = f.call("currency", lambda c: currency(c).code)
        description = f.text("description", required=False) or ""
        if party is None or not isinstance(amount, Decimal) or not isinstance(cur, str):
            return None
        return Advance(party, Money(amount, cur), description)

    def agreement(self, node: Node, where: str) -> Agreement | None:
        f = Fields(
            node,
            self.filename,
            self.problems,
            where,
            {
                "id",
                "version",
                "title",
                "effective_from",
                "effective_to",
                "scope",
                "rules",
                "fees",
                "advances",
            },
        )
        aid = f.text("id")
        version = f.call("version", _int)
        if isinstance(version, int) and version < 1:
            f.problem("version", "versions start at 1")
        title = f.text("title", required=False) or (aid or "")
        eff_from = f.call("effective_from", _period)
        eff_to = f.call("effective_to", _period, required=False)
        if isinstance(eff_from, Period) and isinstance(eff_to, Period) and eff_to < eff_from:
            f.problem("effective_to", f"{eff_to} is before effective_from {eff_from}")
        scope = self.scope(f.map.get("scope"), f.field_name("scope"), f)
        tracks = [t for t in self.catalog.tracks if scope.covers(t)] if scope else []
        fees = [self.fee(n, f"{f.field_name('fees')}[{i}]") for i, n in enumerate(f.seq("fees"))]
        rules = [
            self.rule(n, f"{f.field_name('rules')}[{i}]", tracks)
            for i, n in enumerate(f.seq("rules", required=True))
        ]
        advances = [
            self.advance(n, f"{f.field_name('advances')}[{i}]")
            for i, n in enumerate(f.seq("advances"))
        ]
        _unique([r for r in rules if r], "rules", "rule", f)
        _unique([x for x in fees if x], "fees", "fee", f)
        if (
            aid is None
            or not isinstance(version, int)
            or not isinstance(eff_from, Period)
            or scope is None
            or None in rules
            or None in fees
            or None in advances
        ):
            return None
        agreement = Agreement(
            id=aid,
            version=version,
            title=title,
            effective_from=eff_from,
            effective_to=eff_to if isinstance(eff_to, Period) else None,
            scope=scope,
            rules=tuple(r for r in rules if r),
            fees=tuple(x for x in fees if x),
            advances=tuple(a for a in advances if a),
            line=node.line,
        )
        object.__setattr__(agreement, "content_hash", content_hash(agreement))
        return agreement


def _unique(items: Sequence[Rule | Fee], key: str, what: str, f: Fields) -> None:
    seen: dict[str, int] = {}
    for item in items:
        if item.id in seen:
            f.problem(
                key,
                f"{what} id {item.id!r} is used twice (lines {seen[item.id]} and {item.line})",
                item.line,
            )
        seen.setdefault(item.id, item.line)


def _scopes_overlap(a: Agreement, b: Agreement, covered: dict[int, frozenset[str]]) -> bool:
    if a.scope.kind == "catalog" or b.scope.kind == "catalog":
        return True
    return not covered[id(a)].isdisjoint(covered[id(b)])


def _overlap_problems(
    agreements: Sequence[Agreement], existing: Sequence[Agreement], catalog: Catalog, filename: str
) -> list[Problem]:
    """Rules of equal priority that could match one line: ambiguous, so an error."""
    out: list[Problem] = []
    new_ids = {(a.id, a.version) for a in agreements}
    pool = list(agreements) + [a for a in existing if (a.id, a.version) not in new_ids]
    covered = {id(a): frozenset(t.isrc for t in catalog.tracks if a.scope.covers(t)) for a in pool}
    for i, a in enumerate(pool):
        for b in pool[i:]:
            if a.id == b.id and a.version != b.version:
                continue  # a newer version supersedes an older one
            if a is not b and not (
                periods_overlap(a.effective_from, a.effective_to, b.effective_from, b.effective_to)
                and _scopes_overlap(a, b, covered)
            ):
                continue
            if (a.id, a.version) not in new_ids and (b.id, b.version) not in new_ids:
                continue
            for ri, ra in enumerate(a.rules):
                for rb in b.rules[ri + 1 :] if a is b else b.rules:
                    if ra.priority == rb.priority and ra.when.overlaps(rb.when):
                        out.append(
                            Problem(
                                filename,
                                rb.line if a is b else ra.line,
                                "priority",
                                f"rules {a.ref}#{ra.id} and {b.ref}#{rb.id} have the same "
                                f"priority ({ra.priority}) and could match the same line; give "
                                "the narrower one a higher priority or make their conditions exclusive",
                            )
                        )
    return out


def _collect(
    text: str,
    filename: str,
    catalog: Catalog,
    existing: Sequence[Agreement],
) -> tuple[list[Agreement], ProblemCollector]:
    problems = ProblemCollector()
    root = load_yaml(text, filename, problems)
    if root is None:
        return [], problems
    top = Fields(root, filename, problems, "", {"agreements"})
    parser = _Parser(filename, catalog, problems)
    result: list[Agreement] = []
    seen: dict[tuple[str, int], int] = {}
    for i, node in enumerate(as_list(top.map.get("agreements")) if top.has("agreements") else []):
        a = parser.agreement(node, f"agreements[{i}]")
        if a is None:
            continue
        if (a.id, a.version) in seen:
            problems.add(
                filename,
                a.line,
                f"agreements[{i}].version",
                f"{a.ref} is already defined on line {seen[(a.id, a.version)]}; "
                "raise the version for a new one",
            )
            continue
        seen[(a.id, a.version)] = a.line
        result.append(a)
    if not top.has("agreements"):
        top.problem(None, "'agreements' is missing: the file holds a list under 'agreements'")
    for a in existing:
        if (a.id, a.version) in seen and a.content_hash != next(
            x.content_hash for x in result if (x.id, x.version) == (a.id, a.version)
        ):
            problems.add(
                filename,
                seen[(a.id, a.version)],
                "version",
                f"{a.ref} is already loaded with different content; "
                "a loaded version never changes, raise the version",
            )
    problems.extend(_overlap_problems(result, existing, catalog, filename))
    return result, problems


def check_agreements(
    text: str, filename: str, catalog: Catalog, *, existing: Sequence[Agreement] = ()
) -> tuple[Problem, ...]:
    """Every problem in an agreement file (empty when it is valid); changes nothing.

    ``existing`` are agreements already loaded, so overlaps with them are found too.
    """
    _, problems = _collect(text, filename, catalog, existing)
    return tuple(problems.problems)


def parse_agreements(
    text: str, filename: str, catalog: Catalog, *, existing: Sequence[Agreement] = ()
) -> tuple[Agreement, ...]:
    """Parse and check an agreement file; raise :class:`InputError` listing every problem."""
    result, problems = _collect(text, filename, catalog, existing)
    problems.raise_if_any()
    if not result:
        raise InputError([Problem(filename, None, "agreements", "the file has no agreements")])
    return tuple(result)


__all__ = ["check_agreements", "parse_agreements"]
