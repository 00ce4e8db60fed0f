"""Every API route, called with no token, a bad token, and the wrong kind of token.

The routes are read from the app itself, so a route added later is covered
without editing this file.
"""

from __future__ import annotations

import re

import pytest

from api.app import create_app
from ledger.store.db import Database
from tests.api_support import client, seed

SAMPLE_PARAMS = {"code": "2026-10", "period": "2026-10", "fmt": "pdf"}


def _api_routes(database: Database) -> list[tuple[str, str]]:
    """(method, path) of every API route, from the app's own OpenAPI spec."""
    spec = create_app(database).openapi()
    out: list[tuple[str, str]] = []
    for template, operations in spec["paths"].items():
        if template.startswith("/api/"):
            path = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS[m.group(1)], template)
            out.extend((method.upper(), path) for method in sorted(operations))
    return out


def test_the_route_list_covers_both_sides(database: Database) -> None:
    routes = _api_routes(database)
    assert ("POST", "/api/admin/imports") in routes
    assert ("GET", "/api/me/statements/2026-10/pdf") in routes
    assert len(routes) >= 12


def test_every_api_route_refuses_a_request_without_a_token(database: Database) -> None:
    seed(database)
    http = client(database)
    for method, path in _api_routes(database):
        response = http.request(method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"] == "Bearer"
        body = response.json()
        assert body["type"].endswith("unauthorized") and body["status"] == 401
        assert body["title"] and body["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer rl_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "rl_no-scheme"],
)
def test_every_api_route_refuses_a_bad_token(database: Database, header: str) -> None:
    seed(database)
    http = client(database)
    for method, path in _api_routes(database):
        response = http.request(method, path, headers={"Authorization": header})
        assert response.status_code == 401, (method, path, header)


def test_admin_routes_are_forbidden_to_holders(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    admin_routes = [(m, p) for m, p in _api_routes(database) if p.startswith("/api/admin/")]
    assert len(admin_routes) >= 8
    for method, path in admin_routes:
        response = http.request(method, path, headers=tokens.bearer(tokens.alice))
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["type"].endswith("forbidden")


def test_holder_routes_are_for_holders_not_admin_tokens(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    holder_routes = [(m, p) for m, p in _api_routes(database) if p.startswith("/api/me")]
    assert len(holder_routes) >= 4
    for method, path in holder_routes:
        response = http.request(method, path, headers=tokens.bearer(tokens.admin))
        assert response.status_code == 403, (method, path, response.text)


def test_a_revoked_token_stops_working_at_once(database: Database) -> None:
    from ledger.store import tokens as token_service

    seeded = seed(database)
    http = client(database)
    assert http.get("/api/me", headers=seeded.bearer(seeded.bob)).status_code == 200
    with database.read() as session:
        bob_id = token_service.authenticate(session, seeded.bob).token_id
    with database.write() as session:
        token_service.revoke(session, bob_id)
    assert http.get("/api/me", headers=seeded.bearer(seeded.bob)).status_code == 401


def test_me_names_the_tokens_own_party(database: Database) -> None:
    tokens = seed(database)
    http = client(database)
    alice = http.get("/api/me", headers=tokens.bearer(tokens.alice)).json()
    bob = http.get("/api/me", headers=tokens.bearer(tokens.bob)).json()
    assert alice["party_id"] == "alice" and bob == {"party_id": "bob", "name": "Bob Lee"}


def test_unknown_routes_and_methods_answer_problem_json(database: Database) -> None:
    http = client(database)
    missing = http.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["type"].endswith("not-found")
    wrong = http.delete("/api/admin/imports")
    assert wrong.status_code == 405 and wrong.json()["status"] == 405


def test_the_spec_has_no_json_numbers_only_strings_for_amounts(database: Database) -> None:
    spec = create_app(database).openapi()
    found: list[str] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "number":
                found.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(spec, "")
    assert found == []
    balance = spec["components"]["schemas"]["PartyBalanceOut"]["properties"]
    assert balance["closing"]["type"] == "string"
    assert spec["components"]["schemas"]["PayoutResultOut"]["properties"]["total_paid"] == {
        "type": "string",
        "title": "Total Paid",
    }
