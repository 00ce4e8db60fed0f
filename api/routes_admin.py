"""Finance routes (admin token): imports, split runs, suspense, balances, periods, payouts.

Each route parses its input, calls one service in :mod:`ledger` inside one
write transaction, and returns the service's result as JSON. Routes that post
money honour ``Idempotency-Key``: the stored first response is written in the
same transaction as the postings, so a retry replays it and posts nothing.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from api.auth import get_database, require_admin
from api.schemas import (
    PERIOD_PATTERN,
    ImportInfoOut,
    ImportSummaryOut,
    PartyBalanceOut,
    PayoutRequest,
    PayoutResultOut,
    PeriodOut,
    ResolveRequest,
    ResolveSummaryOut,
    SplitRequest,
    SplitResultOut,
    SuspenseItemOut,
    dumps,
    errors,
    plain,
)
from ledger.domain.errors import PayloadTooLarge
from ledger.domain.fx import rates_from_parameters
from ledger.domain.periods import Period
from ledger.parsers import open_revenue_file
from ledger.services import balances, imports, payouts, periods, splits, suspense
from ledger.store import idempotency
from ledger.store.db import Database
from ledger.store.idempotency import StoredResponse

router = APIRouter(
    prefix="/api/admin",
    tags=["finance"],
    dependencies=[Depends(require_admin)],
    responses=errors(401, 403, 422),
)

CHUNK = 1024 * 1024
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=idempotency.MAX_KEY_LENGTH,
        description="Retry with the same key to get the first result; never posts twice.",
    ),
]
OptionalPeriod = Annotated[str | None, Query(pattern=PERIOD_PATTERN, examples=["2026-10"])]


def _json(body: str, status: int, *, replayed: bool = False) -> Response:
    headers = {"Idempotency-Replayed": "true"} if replayed else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _posting(
    database: Database,
    key: str | None,
    scope: str,
    fingerprint: str,
    work: Callable[[Session], tuple[int, Any]],
    *,
    dry_run: bool = False,
) -> Response:
    """Run one money-moving use case once per idempotency key."""
    with database.write() as session:
        if key is not None:
            stored = idempotency.lookup(session, key, scope, fingerprint)
            if stored is not None:
                return _json(stored.body, stored.status_code, replayed=True)
        status, result = work(session)
        body = dumps(result)
        if key is not None and not dry_run:
            idempotency.record(session, key, scope, fingerprint, StoredResponse(status, body))
    return _json(body, status)


# ---------------------------------------------------------------------------
# Imports


def safe_filename(name: str) -> str:
    """The uploaded file's base name, with nothing that could reach another directory."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    if base in {"", ".", ".."}:
        return "upload"
    return base[:255]


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the upload is larger than {limit} bytes",
        hint="split the file or ask for a higher --max-upload-mb",
    )


@router.post(
    "/imports",
    summary="Upload and import a revenue file",
    status_code=201,
    response_model=ImportSummaryOut,
    responses={200: {"model": ImportSummaryOut, "description": "dry run"}, **errors(409, 413)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload_import(
    request: Request,
    filename: Annotated[str, Query(min_length=1, max_length=255, description="the file's name")],
    key: IdempotencyKey = None,
    fmt: Annotated[str, Query(max_length=32)] = "auto",
    source: Annotated[str | None, Query(max_length=100)] = None,
    period: OptionalPeriod = None,
    rate: Annotated[
        list[str] | None,
        Query(
            max_length=64,
            description="exchange rate CUR=RATE (1 CUR = RATE in the ledger currency) for"
            " the period, as in `royalty import --fx`; repeat per currency; needs period",
            examples=["EUR=1.0812"],
        ),
    ] = None,
    replace: bool = False,
    dry_run: bool = False,
) -> Response:
    """The raw file is the request body. It is streamed to disk (refused with 413 past
    the size limit) and imported by the same service as `royalty import`."""
    month = Period.parse(period) if period else None
    rates = rates_from_parameters(rate, month) if rate else None
    database = get_database(request)
    limit: int = request.app.state.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    name = safe_filename(filename)
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="royalty-upload-") as tmp:
        path = Path(tmp) / name
        size = 0
        async with await anyio.open_file(path, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                digest.update(chunk)
                await out.write(chunk)
        fingerprint = idempotency.request_hash(
            "imports",
            digest.hexdigest(),
            name,
            fmt,
            source or "",
            period or "",
            str(replace),
            str(dry_run),
            "&".join(rate or []),
        )

        def work(session: Session) -> tuple[int, Any]:
            with open_revenue_file(path, name=name, fmt=fmt, source=source, period=month) as parsed:
                summary = imports.import_revenue(
                    session,
                    parsed,
                    source=source,
                    period=month,
                    rates=rates,
                    replace=replace,
                    dry_run=dry_run,
                )
            return (200 if dry_run else 201), summary

        return await run_in_threadpool(
            _posting, database, key, "POST /api/admin/imports", fingerprint, work, dry_run=dry_run
        )


@router.get("/imports", summary="List imports", response_model=list[ImportInfoOut])
def list_imports(request: Request, period: OptionalPeriod = None) -> Any:
    month = Period.parse(period) if period else None
    with get_database(request).read() as session:
        return plain(imports.list_imports(session, period=month))


# ---------------------------------------------------------------------------
# Split runs, suspense, payouts


@router.post(
    "/splits",
    summary="Run the split for a period (or preview it with dry_run)",
    status_code=201,
    response_model=SplitResultOut,
    responses={200: {"model": SplitResultOut, "description": "dry run"}, **errors(409)},
)
def run_split(request: Request, body: SplitRequest, key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        result = splits.run_split(session, Period.parse(body.period), dry_run=body.dry_run)
        return (200 if body.dry_run else 201), result

    fingerprint = idempotency.request_hash("splits", body.model_dump_json())
    return _posting(
        get_database(request),
        key,
        "POST /api/admin/splits",
        fingerprint,
        work,
        dry_run=body.dry_run,
    )


@router.get(
    "/suspense", summary="List revenue held in suspense", response_model=list[SuspenseItemOut]
)
def list_suspense(request: Request) -> Any:
    with get_database(request).read() as session:
        return plain(suspense.list_suspense(session))


@router.post(
    "/suspense/resolve",
    summary="Release suspense whose tracks are now known",
    response_model=ResolveSummaryOut,
    responses=errors(409),
)
def resolve_suspense(
    request: Request, body: ResolveRequest, key: IdempotencyKey = None
) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        wanted = Period.parse(body.period) if body.period else None
        return 200, suspense.resolve_suspense(session, period=wanted)

    fingerprint = idempotency.request_hash("suspense/resolve", body.model_dump_json())
    return _posting(
        get_database(request), key, "POST /api/admin/suspense/resolve", fingerprint, work
    )


@router.post(
    "/payouts",
    summary="Record payouts for a period (or preview them with dry_run)",
    status_code=201,
    response_model=PayoutResultOut,
    responses={200: {"model": PayoutResultOut, "description": "dry run"}, **errors(409)},
)
def record_payouts(request: Request, body: PayoutRequest, key: IdempotencyKey = None) -> Response:
    def work(session: Session) -> tuple[int, Any]:
        result = payouts.pay(session, Period.parse(body.period), dry_run=body.dry_run)
        return (200 if body.dry_run else 201), result

    fingerprint = idempotency.request_hash("payouts", body.model_dump_json())
    return _posting(
        get_database(request),
        key,
        "POST /api/admin/payouts",
        fingerprint,
        work,
        dry_run=body.dry_run,
    )


# ---------------------------------------------------------------------------
# Balances and periods


@router.get("/balances", summary="Balances per party", response_model=list[PartyBalanceOut])
def list_balances(
    request: Request,
    period: OptionalPeriod = None,
    party: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    month = Period.parse(period) if period else None
    with get_database(request).read() as session:
        return plain(balances.balances(session, period=month, party=party))


@router.post(
    "/periods/{code}/close",
    summary="Close a period for good",
    response_model=PeriodOut,
    responses=errors(409),
)
def close_period(request: Request, code: Annotated[str, PathParam(pattern=PERIOD_PATTERN)]) -> Any:
    with get_database(request).write() as session:
        period = periods.close_period(session, Period.parse(code))
        return PeriodOut(
            code=period.code.code,
            status=period.status,
            closed_at=period.closed_at.isoformat() if period.closed_at else None,
        )
