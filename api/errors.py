"""One place that turns errors into HTTP responses (RFC 9457 problem JSON).

Every :class:`~ledger.domain.errors.LedgerError` carries its own status, code and
title; this module only translates. Validation errors from request parsing
become 422 in the same shape, so a client reads one format whatever went
wrong. Unexpected exceptions become a 500 without internals (logged here).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.domain.errors import InputError, LedgerError, Problem

log = logging.getLogger("royalty.api")
MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:royalty-ledger:problem:"

_HTTP_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    411: "length-required",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    500: "internal-error",
}


def problem_body(
    status: int, code: str, title: str, detail: str, problems: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if problems is not None:
        body["problems"] = problems
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    problems: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, code, title, detail, problems),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _problem_item(p: Problem) -> dict[str, Any]:
    return {
        "where": p.file if p.line is None else f"{p.file}:{p.line}",
        "file": p.file,
        "line": p.line,
        "field": p.field,
        "message": p.message,
    }


def ledger_error_response(exc: LedgerError) -> JSONResponse:
    problems = None
    if isinstance(exc, InputError):
        problems = [_problem_item(p) for p in exc.problems]
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return problem_response(exc.http_status, exc.code, exc.title, str(exc), problems, headers)


async def _ledger_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, LedgerError):  # pragma: no cover - registered for LedgerError only
        raise exc
    if exc.http_status >= 500:
        log.error("ledger error %s: %s", exc.code, exc)
    return ledger_error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    items = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        items.append(
            {
                "where": ".".join(loc),
                "file": "request",
                "line": None,
                "field": ".".join(loc[1:]) or (loc[0] if loc else None),
                "message": str(err.get("msg", "invalid")),
            }
        )
    detail = "; ".join(f"{i['where']}: {i['message']}" for i in items) or "invalid request"
    return problem_response(422, "invalid-request", "Invalid request", detail, items)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    code = _HTTP_CODES.get(exc.status_code, "http-error")
    title = code.replace("-", " ").capitalize()
    return problem_response(
        exc.status_code, code, title, str(exc.detail), headers=dict(exc.headers or {}) or None
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return problem_response(
        500, "internal-error", "Internal error", "the server failed; the error was logged"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
