"""Request and response models at the API edge. Amounts are strings, never numbers.

Responses built from service dataclasses are serialised generically
(:func:`plain`: Decimal and Fraction to exact text); the models here document
their shapes in the OpenAPI spec and validate request bodies.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ledger.domain.jsonable import plain as _plain

PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def plain(value: Any) -> Any:
    """Dataclasses, Decimals and Fractions as JSON-ready values (amounts as strings)."""
    return _plain(value)


def dumps(value: Any) -> str:
    return json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"), default=str)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitRequest(_Strict):
    period: str = Field(pattern=PERIOD_PATTERN, examples=["2026-10"])
    dry_run: bool = False


class PayoutRequest(_Strict):
    period: str = Field(pattern=PERIOD_PATTERN, examples=["2026-10"])
    dry_run: bool = False


class ResolveRequest(_Strict):
    period: str | None = Field(default=None, pattern=PERIOD_PATTERN, examples=["2026-10"])


class ProblemItem(BaseModel):
    where: str
    file: str
    line: int | None
    field: str | None
    message: str


class ProblemOut(BaseModel):
    """Every error answer (RFC 9457 problem details)."""

    type: str
    title: str
    status: int
    detail: str
    problems: list[ProblemItem] | None = None


class ImportSummaryOut(BaseModel):
    import_id: int | None
    filename: str
    sha256: str
    format: str
    source: str
    period: str
    lines: int
    totals: dict[str, str]
    ledger_currency: str
    ledger_total: str
    suspense_lines: int
    suspense_amount: str
    entry_id: int | None
    replaced_imports: list[int] = []
    dry_run: bool = False


class ImportInfoOut(BaseModel):
    id: int
    filename: str
    sha256: str
    format: str
    source: str
    period: str
    lines: int
    suspense_lines: int
    totals: dict[str, str]
    status: str
    entry_id: int | None
    superseded_by: int | None
    imported_at: str


class PartyChangeOut(BaseModel):
    party_id: str
    account: str
    currency: str
    earned: str
    fees: str
    net: str


class SplitResultOut(BaseModel):
    period: str
    posted_in: str | None
    run_id: int | None
    adjusts_run_id: int | None
    inputs_hash: str
    revenue: str
    currency: str
    groups: int
    entries: int
    legs: int
    unchanged: bool
    dry_run: bool
    changes: list[PartyChangeOut]
    suspense: str
    recoupments: list[tuple[str, str]] = []
    problems: list[str] = []


class PayoutLineOut(BaseModel):
    party_id: str
    name: str
    currency: str
    balance: str
    paid: str
    carried: str
    reason: str


class PayoutResultOut(BaseModel):
    period: str
    posted_in: str | None
    currency: str
    lines: list[PayoutLineOut]
    total_paid: str
    dry_run: bool


class SuspenseItemOut(BaseModel):
    import_id: int
    filename: str
    isrc: str
    reason: str
    lines: int
    quantity: int
    amount: str
    currency: str
    first_line: int
    resolvable: bool


class ResolveSummaryOut(BaseModel):
    period: str | None
    groups: int
    lines: int
    amount: str
    currency: str
    entry_id: int | None
    remaining_lines: int


class PartyBalanceOut(BaseModel):
    party_id: str
    name: str
    currency: str
    period: str | None
    opening: str
    earned: str
    fees: str
    recouped: str
    paid: str
    other: str
    closing: str
    advance_outstanding: str


class StatementRefOut(BaseModel):
    period: str
    formats: list[str]
    issued: bool
    sha256: dict[str, str] | None


class PeriodOut(BaseModel):
    code: str
    status: str
    closed_at: str | None


class MeOut(BaseModel):
    party_id: str
    name: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ProblemOut, "content": {"application/problem+json": {}}}
    for status in (401, 403, 404, 409, 413, 422)
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: ERRORS[s] for s in statuses}
