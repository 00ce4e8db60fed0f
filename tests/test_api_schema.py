"""Property-based API test: schemathesis generates requests from the OpenAPI spec
(valid and invalid bodies, parameters and headers) and no answer may be a 5xx.

SQLite only, to keep CI time reasonable; every operation runs as the admin
and as a rights-holder, so both sides of each route are exercised. The app is
built once (schemathesis reads its spec at import); each test points it at a
fresh database. (schemathesis' ``from_fixture`` loader fails on pytest 9:
it sets a private ``_nodeid`` attribute that pytest no longer has.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from ledger.store import settings as ledger_settings
from ledger.store.db import Database
from tests.api_support import Seeded, seed

APP = create_app(Database("sqlite://"), max_upload_bytes=64 * 1024)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture
def tokens(sqlite_database: Database) -> Iterator[Seeded]:
    with sqlite_database.write() as session:
        ledger_settings.initialise(session, "USD")
    placeholder = APP.state.database
    APP.state.database = sqlite_database
    try:
        yield seed(sqlite_database)
    finally:
        APP.state.database = placeholder


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_request_makes_the_server_fail(case: schemathesis.Case, tokens: Seeded) -> None:
    for token in (tokens.admin, tokens.alice):
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)
        if response.status_code >= 400:
            assert response.json()["status"] == response.status_code
