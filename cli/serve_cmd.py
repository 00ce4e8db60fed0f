"""`royalty serve`: the HTTP API and the rights-holder web page under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import state
from cli.output import console


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    max_upload_mb: Annotated[
        int, typer.Option(help="Largest revenue file accepted by upload, in MiB.", min=1)
    ] = 200,
    keep_alive: Annotated[
        int,
        typer.Option(help="Seconds an idle keep-alive connection stays open.", min=1, max=3600),
    ] = 30,
) -> None:
    """Serve the API (OpenAPI at /docs) and the rights-holder web page.

    Example: royalty serve --host 0.0.0.0 --port 8000
    """
    import uvicorn

    from api.app import create_app

    database = state().ledger()
    app = create_app(database, max_upload_bytes=max_upload_mb * 1024 * 1024)

    console.print(
        f"Serving {database.describe()} on http://{host}:{port} (API docs at /docs)",
        highlight=False,
        markup=False,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,
        timeout_keep_alive=keep_alive,
    )
