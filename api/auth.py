"""Who is calling: Bearer tokens for the API, a cookie for the web page.

Every API route depends on :func:`principal` (401 without a valid token).
Admin routes add :func:`require_admin` (403 for a holder token); holder
routes add :func:`require_holder`, which yields the caller's own party id, so
a holder route cannot even name another party.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.store.db import Database
from ledger.store.tokens import Forbidden, Principal, authenticate

COOKIE_NAME = "royalty_token"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A token from `royalty tokens create` (admin or one rights-holder).",
)


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def authenticate_token(database: Database, token: str | None) -> Principal:
    with database.read() as session:
        return authenticate(session, token)


def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Principal:
    token = credentials.credentials if credentials is not None else None
    return authenticate_token(get_database(request), token)


def require_admin(who: Principal = Depends(principal)) -> Principal:
    if not who.is_admin:
        raise Forbidden("this route is for the finance team", hint="use an admin token")
    return who


def require_holder(who: Principal = Depends(principal)) -> str:
    """The caller's own party id; admin tokens belong to no party."""
    if who.party_id is None:
        raise Forbidden("this route is for rights-holders", hint="use a token made with --party ID")
    return who.party_id
