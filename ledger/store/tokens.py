"""API tokens: who may call the HTTP API and the web page, and as whom.

A token is either an *admin* token (the finance team: every route) or a
*holder* token bound to one party (that rights-holder's own balances and
statements, nothing else). The plaintext is shown once, at creation; the
database keeps only its SHA-256, so a copy of the database grants no access.
A revoked token stays in the table (who had access, and until when) but
authenticates no more.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session

from ledger.domain.errors import LedgerError, NotFound, Unauthorized
from ledger.store.models import ApiToken, Party

PREFIX = "rl_"
MAX_TOKEN_LENGTH = 200  # longer inputs are refused before hashing


class Forbidden(LedgerError):
    """A valid token asked for something its kind may not do (a holder on an admin route)."""

    code = "forbidden"
    title = "Not allowed for this token"
    http_status = 403


class InvalidTokenRequest(LedgerError):
    code = "invalid-token-request"
    title = "Invalid token request"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: an admin, or one party."""

    token_id: int
    party_id: str | None
    is_admin: bool


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never its plaintext nor its hash."""

    id: int
    party_id: str | None
    is_admin: bool
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(
    session: Session, *, party_id: str | None = None, admin: bool = False, label: str | None = None
) -> tuple[int, str]:
    """Create a token and return ``(id, plaintext)``; the plaintext is not stored."""
    if admin == (party_id is not None):
        raise InvalidTokenRequest(
            "a token is either for one party or an admin token",
            hint="give --party ID or --admin, not both and not neither",
        )
    if party_id is not None and session.get(Party, party_id) is None:
        raise NotFound(f"party {party_id!r} is not in the catalog", hint="load the catalog first")
    if label is not None and len(label) > 200:
        raise InvalidTokenRequest("label: longer than 200 characters", hint="shorten the label")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=hash_token(plaintext),
        party_id=party_id,
        is_admin=admin,
        label=label,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    if row.id is None:  # pragma: no cover - the database assigns it on flush
        raise RuntimeError("token id not assigned")
    return row.id, plaintext


def authenticate(session: Session, plaintext: str | None) -> Principal:
    """The principal a presented token stands for, or :class:`Unauthorized`.

    The lookup is by hash, so comparing hashes leaks nothing about the token.
    """
    if not plaintext or len(plaintext) > MAX_TOKEN_LENGTH or not plaintext.startswith(PREFIX):
        raise Unauthorized("missing or malformed token", hint="send Authorization: Bearer rl_...")
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext))  # type: ignore[arg-type]
    ).first()
    if row is None or row.revoked_at is not None or row.id is None:
        raise Unauthorized("unknown or revoked token", hint="ask the finance team for a new token")
    return Principal(token_id=row.id, party_id=row.party_id, is_admin=row.is_admin)


def revoke(session: Session, token_id: int) -> TokenInfo:
    """Stop a token from authenticating; revoking twice keeps the first date."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist", hint="see `royalty tokens list`")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.add(row)
        session.flush()
    return _info(row)


def list_tokens(session: Session) -> list[TokenInfo]:
    rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()  # type: ignore[arg-type]
    return [_info(r) for r in rows]


def _info(row: ApiToken) -> TokenInfo:
    if row.id is None:  # pragma: no cover
        raise RuntimeError("token without id")
    return TokenInfo(
        id=row.id,
        party_id=row.party_id,
        is_admin=row.is_admin,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
