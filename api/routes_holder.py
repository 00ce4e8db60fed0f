"""Rights-holder routes: my balance, my statements, one statement as PDF or CSV.

The party comes from the token, never from the URL, so a holder cannot name
anyone else's data: another holder's statement and a guessed period are both
404, indistinguishable from each other.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam

from api.auth import get_database, require_holder
from api.schemas import (
    PERIOD_PATTERN,
    MeOut,
    PartyBalanceOut,
    StatementRefOut,
    errors,
    plain,
)
from ledger.domain.errors import InvalidPeriod, NotFound
from ledger.domain.periods import Period
from ledger.services import balances, statements
from ledger.store.models import Party
from reports import render

router = APIRouter(prefix="/api/me", tags=["rights-holder"], responses=errors(401, 403))

Holder = Annotated[str, Depends(require_holder)]


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the exact name as RFC 5987 ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(c for c in ascii_name if c.isprintable() and c not in '"\\;')
    ascii_name = re.sub(r"\s+(?=\.)", "", re.sub(r"\s+", " ", ascii_name)).strip()
    stem, dot, suffix = ascii_name.rpartition(".")
    if not stem.strip():  # nothing ASCII left of the name itself
        ascii_name = f"download.{suffix}" if dot and suffix else "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_name(party_name: str, period: str, fmt: str) -> str:
    """``Statement 2026-10 - Zoë Ångström.pdf``: the holder's own name, nothing path-like."""
    cleaned = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", " ", party_name).strip()
    cleaned = re.sub(r"\s+", " ", cleaned)[:100] or "statement"
    return f"Statement {period} - {cleaned}.{fmt}"


def party_name(request: Request, party_id: str) -> MeOut:
    with get_database(request).read() as session:
        party = session.get(Party, party_id)
        if party is None:
            raise NotFound("this token's party no longer exists")
        return MeOut(party_id=party.id, name=party.name)


def my_balances(request: Request, party_id: str) -> Any:
    with get_database(request).read() as session:
        return plain(balances.balances(session, party=party_id))


def my_statements(request: Request, party_id: str) -> Any:
    with get_database(request).read() as session:
        return plain(statements.list_statements(session, party_id))


def statement_download(request: Request, party_id: str, period: str, fmt: str) -> Response:
    """One statement's bytes for this party only; anything else is the same 404."""
    if not re.fullmatch(PERIOD_PATTERN, period):
        raise NotFound(f"no {fmt} statement for period {period}")
    try:
        month = Period.parse(period)
        with get_database(request).read() as session:
            found = statements.statement_file(session, party_id, month, fmt, render)
            party = session.get(Party, party_id)
            name = party.name if party is not None else party_id
    except (NotFound, InvalidPeriod):
        raise NotFound(f"no {fmt} statement for period {period}") from None
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": content_disposition(download_name(name, period, fmt)),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("", summary="Who this token belongs to", response_model=MeOut)
def me(request: Request, party_id: Holder) -> MeOut:
    return party_name(request, party_id)


@router.get("/balances", summary="My balances", response_model=list[PartyBalanceOut])
def balances_route(request: Request, party_id: Holder) -> Any:
    return my_balances(request, party_id)


@router.get("/statements", summary="My statements", response_model=list[StatementRefOut])
def statements_route(request: Request, party_id: Holder) -> Any:
    return my_statements(request, party_id)


@router.get(
    "/statements/{period}/{fmt}",
    summary="Download one of my statements",
    responses={
        200: {"content": {"application/pdf": {}, "text/csv": {}}},
        **errors(404),
    },
)
def statement_route(
    request: Request,
    party_id: Holder,
    period: Annotated[str, PathParam(max_length=16)],
    fmt: Literal["pdf", "csv"],
) -> Response:
    return statement_download(request, party_id, period, fmt)
