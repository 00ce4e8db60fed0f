"""Loading the finance team's documents: catalog, agreements and attribution reports.

Each file is validated completely by the pure parsers before anything is
stored, and every problem is reported at once with file, line and key; the
adapter reads the file and hands over its text. ``royalty agreements explain``
is here too: it reads the same documents.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from ledger.domain import catalog as cat
from ledger.domain.agreement_files import check_agreements, parse_agreements
from ledger.domain.attribution import parse_attribution
from ledger.domain.errors import InputError, Problem
from ledger.domain.explanation import Explanation, explain
from ledger.domain.periods import Period
from ledger.domain.rules import LineContext
from ledger.store import documents, settings
from ledger.store.models import DocumentVersion


@dataclass(frozen=True, slots=True)
class CatalogLoad:
    parties: int
    tracks: int
    contributions: int
    document_id: int
    unchanged: bool


@dataclass(frozen=True, slots=True)
class AgreementsLoad:
    agreements: tuple[str, ...]
    """``id@vN`` of every agreement in the file."""
    document_id: int
    unchanged: bool


@dataclass(frozen=True, slots=True)
class AttributionLoad:
    period: Period
    licensors: int
    document_id: int
    unchanged: bool


def load_catalog(session: Session, text: str, filename: str) -> CatalogLoad:
    """Validate a catalog file completely, then upsert it."""
    parsed = cat.parse_catalog(text, filename)
    operator = settings.get(session, settings.OPERATOR)
    if operator is not None and operator != parsed.operator_id:
        raise InputError(
            [
                Problem(
                    filename,
                    None,
                    "operator",
                    f"the ledger's operator is {operator!r}, this file names "
                    f"{parsed.operator_id!r}",
                )
            ]
        )
    documents.save_catalog(session, parsed)
    doc_id, unchanged = documents.keep(session, "catalog", filename, text)
    session.flush()
    return CatalogLoad(
        len(parsed.parties), len(parsed.tracks), len(parsed.contributions), doc_id, unchanged
    )


def check_agreement_file(session: Session, text: str, filename: str) -> tuple[Problem, ...]:
    """Every problem of an agreements file against the catalog and the loaded versions."""
    catalog = documents.current_catalog(session)
    existing = documents.stored_agreements(session, catalog)
    return check_agreements(text, filename, catalog, existing=existing)


def load_agreements(session: Session, text: str, filename: str) -> AgreementsLoad:
    """Validate an agreements file against the catalog and the loaded versions, then keep it."""
    catalog = documents.current_catalog(session)
    existing = documents.stored_agreements(session, catalog)
    parsed = parse_agreements(text, filename, catalog, existing=existing)
    doc_id, unchanged = documents.keep(session, "agreements", filename, text)
    return AgreementsLoad(tuple(a.ref for a in parsed), doc_id, unchanged)


def load_attribution(session: Session, text: str, filename: str, period: Period) -> AttributionLoad:
    """Keep a period's attribution report; a newer report for the period replaces the older."""
    report = parse_attribution(text, filename, period, catalog=documents.current_catalog(session))
    sha = documents.sha256_of(text)
    for doc in documents.active_documents(session, "attribution"):
        if doc.period == period and doc.sha256 != sha:
            doc.active = False
            session.add(doc)
    doc_id, unchanged = documents.keep(session, "attribution", filename, text, period)
    row = session.get(DocumentVersion, doc_id)
    if row is not None and not row.active:
        row.active = True
        session.add(row)
    session.flush()
    return AttributionLoad(period, len({w.licensor_id for w in report.weights}), doc_id, unchanged)


def explain_line(
    session: Session,
    isrc: str,
    period: Period,
    *,
    source: str,
    territory: str,
    usage: str,
    quantity: int,
) -> Explanation:
    """Which rule applies to a line of the track in the ledger currency, why, and the
    split of an example amount."""
    context = LineContext.example(
        isrc,
        period,
        source=source,
        territory=territory,
        usage=usage,
        currency=settings.ledger_currency(session),
        quantity=quantity,
    )
    catalog = documents.current_catalog(session)
    agreements = documents.stored_agreements(session, catalog)
    reports = documents.attribution_reports(session, catalog)
    return explain(context, agreements, catalog, reports)
