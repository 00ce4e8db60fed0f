"""Idempotency keys for requests that move money.

A client that retries a request (a timeout, a dropped connection) sends the
same ``Idempotency-Key``; the first response is stored in the same
transaction as the postings it describes, so a retry gets exactly that
response and posts nothing. The same key with a different request (other
route, other body) is an :class:`~ledger.domain.errors.IdempotencyConflict`: the
client has a bug, and guessing which request it meant would move money wrongly.

Writers are serialised (:meth:`ledger.store.db.Database.write`), so two concurrent
requests with one key cannot both run: the second sees the first's record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from ledger.domain.errors import IdempotencyConflict, LedgerError
from ledger.store.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


class InvalidIdempotencyKey(LedgerError):
    code = "invalid-idempotency-key"
    title = "Invalid Idempotency-Key"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The response first given to a request with this key."""

    status_code: int
    body: str


def request_hash(scope: str, *parts: bytes | str) -> str:
    """A fingerprint of a request: its scope (method and route) and its content."""
    digest = hashlib.sha256(scope.encode("utf-8"))
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKey(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
            hint="use a UUID per logical request",
        )
    return key


def lookup(session: Session, key: str, scope: str, fingerprint: str) -> StoredResponse | None:
    """The stored response for a retry, None for a new key, or a conflict."""
    row = session.get(IdempotencyRecord, check_key(key))
    if row is None:
        return None
    if row.scope != scope or row.request_hash != fingerprint:
        raise IdempotencyConflict(
            f"Idempotency-Key {key!r} was used for a different request",
            hint="use a new key for a new request; retry only with the same body",
        )
    return StoredResponse(status_code=row.status_code, body=row.response)


def record(
    session: Session, key: str, scope: str, fingerprint: str, response: StoredResponse
) -> None:
    """Store the first response; call it in the transaction that posted the money."""
    session.add(
        IdempotencyRecord(
            key=check_key(key),
            scope=scope,
            request_hash=fingerprint,
            status_code=response.status_code,
            response=response.body,
            created_at=datetime.now(UTC),
        )
    )
    session.flush()
