"""The rights-holder web page: sign in with a token, see balances, download statements.

Server-rendered HTML (Jinja2, autoescaped), no JavaScript. Signing in checks
the token and stores it in a cookie that scripts cannot read (HttpOnly) and
that browsers never send on a cross-site request (SameSite=Strict). Sign-in
is the only form that acts on a credential, and it carries the token itself,
so a forged cross-site form gains nothing. Admin tokens are refused here: the
page shows one party's own data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.auth import COOKIE_NAME, authenticate_token, get_database
from api.routes_holder import my_balances, my_statements, party_name, statement_download
from ledger.domain.errors import LedgerError, NotFound, Unauthorized
from ledger.store.tokens import MAX_TOKEN_LENGTH, Principal

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
SESSION_SECONDS = 8 * 3600
BALANCE_COLUMNS = (
    ("Opening", "opening"),
    ("Earned", "earned"),
    ("Fees", "fees"),
    ("Recouped", "recouped"),
    ("Paid", "paid"),
    ("Other", "other"),
    ("Closing", "closing"),
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _signed_in(request: Request) -> Principal | None:
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    try:
        who = authenticate_token(get_database(request), token)
    except Unauthorized:
        return None
    return who if who.party_id is not None else None


def _to_signin() -> Response:
    response = RedirectResponse("/signin", status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("/")
def home(request: Request) -> Response:
    if _signed_in(request) is None:
        return _to_signin()
    return RedirectResponse("/account", status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request) -> Response:
    return _page(request, "signin.html", {"error": None})


@router.post("/signin")
def signin(
    request: Request, token: Annotated[str, Form(max_length=MAX_TOKEN_LENGTH)] = ""
) -> Response:
    token = token.strip()
    try:
        who = authenticate_token(get_database(request), token)
    except Unauthorized:
        return _page(
            request,
            "signin.html",
            {"error": "That token is not valid. Check it, or ask the finance team for a new one."},
            status=401,
        )
    if who.party_id is None:
        return _page(
            request,
            "signin.html",
            {"error": "This page is for rights-holders. Admin tokens work with the API only."},
            status=403,
        )
    response = RedirectResponse("/account", status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.headers.update(SECURITY_HEADERS)
    return response


@router.post("/signout")
def signout() -> Response:
    """Forget the cookie. It needs no credential, so a forged request can only sign out."""
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    response.headers.update(SECURITY_HEADERS)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> Response:
    who = _signed_in(request)
    if who is None or who.party_id is None:
        return _to_signin()
    party = party_name(request, who.party_id)
    balances = my_balances(request, who.party_id)
    statements = my_statements(request, who.party_id)
    return _page(
        request,
        "account.html",
        {
            "party": party,
            "balances": balances,
            "columns": BALANCE_COLUMNS,
            "statements": statements,
        },
    )


@router.get("/account/statements/{period}/{fmt}")
def download(
    request: Request,
    period: Annotated[str, PathParam(max_length=16)],
    fmt: Literal["pdf", "csv"],
) -> Response:
    who = _signed_in(request)
    if who is None or who.party_id is None:
        return _to_signin()
    try:
        return statement_download(request, who.party_id, period, fmt)
    except NotFound:
        return _page(
            request,
            "error.html",
            {
                "title": "Statement not found",
                "detail": f"There is no {fmt.upper()} statement for {period}.",
            },
            status=404,
        )
    except LedgerError as exc:
        return _page(
            request, "error.html", {"title": exc.title, "detail": str(exc)}, status=exc.http_status
        )
