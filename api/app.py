"""The HTTP API and the rights-holder web page, as one FastAPI application.

A thin adapter over the services in :mod:`ledger`: routes parse input, call
one service, and format its result. Errors are translated in one place
(:mod:`api.errors`). OpenAPI is at ``/openapi.json``, its viewer at ``/docs``.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors, routes_admin, routes_holder, web
from ledger.store.db import Database

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_BODY_BYTES = 1024 * 1024  # JSON and form bodies; revenue files go to the upload route
UPLOAD_PATH = "/api/admin/imports"


class BodyLimit:
    """Refuse request bodies over ``MAX_BODY_BYTES`` (413) on every route but the upload.

    FastAPI reads a JSON body before it checks the token, so without this an
    anonymous client could make the server hold any amount of JSON in memory.
    The upload route streams to disk and enforces its own, larger limit.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # answered by the app's handler as a 413 problem
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self) -> str:
        return f"request bodies are limited to {self.limit} bytes here"

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            errors.problem_body(
                413,
                "payload-too-large",
                "Request body too large",
                self._detail(),
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", errors.MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(database: Database, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> FastAPI:
    """An app serving ``database``; uploads larger than ``max_upload_bytes`` get 413."""
    app = FastAPI(
        title="Royalty Ledger",
        version="0.1.0",
        description=(
            "Finance routes need an admin token; rights-holder routes a holder token. "
            "Send `Authorization: Bearer rl_...`. Amounts are strings. Errors are "
            "problem JSON (type, title, status, detail, problems)."
        ),
    )
    app.state.database = database
    app.state.max_upload_bytes = max_upload_bytes
    errors.install(app)
    app.include_router(routes_admin.router)
    app.include_router(routes_holder.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(BodyLimit)
    return app
