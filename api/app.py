"""The HTTP API and the rights-holder web page, as one FastAPI application.

A thin adapter over the services in :mod:`ledger`: routes parse input, call
one service, and format its result. Errors are translated in one place
(:mod:`api.errors`). OpenAPI is at ``/openapi.json``, its viewer at ``/docs``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, routes_admin, routes_holder, web
from ledger.db import Database

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024


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
    return app
