"""The named errors of Royalty Ledger, one small tree translated in one place.

Every error a user can cause is a :class:`LedgerError`. Each class carries the
HTTP status the API answers with and a short machine name (``code``); the CLI
prints ``str(error)`` on one line and exits non-zero. Messages follow one shape:
where, what is wrong, how to fix it.

Input files report *all* their problems at once as :class:`Problem` values
inside an :class:`InputError`, so a finance team fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class LedgerError(Exception):
    """Base of every error the user can cause; never a bug."""

    http_status = 400
    code = "ledger-error"
    title = "Ledger error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class InvalidAmount(LedgerError):
    code = "invalid-amount"
    title = "Invalid amount"


class UnknownCurrency(LedgerError):
    code = "unknown-currency"
    title = "Unknown currency"


class CurrencyMismatch(LedgerError):
    code = "currency-mismatch"
    title = "Currencies do not match"


class AllocationError(LedgerError):
    code = "allocation-error"
    title = "Amount cannot be allocated"


class UnbalancedEntry(LedgerError):
    code = "unbalanced-entry"
    title = "Journal entry does not balance"
    http_status = 422


class IdempotencyConflict(LedgerError):
    code = "idempotency-conflict"
    title = "Idempotency key reused with different content"
    http_status = 409


class PeriodClosed(LedgerError):
    code = "period-closed"
    title = "Period is closed"
    http_status = 409


class InvalidPeriod(LedgerError):
    code = "invalid-period"
    title = "Invalid period"


class NotFound(LedgerError):
    code = "not-found"
    title = "Not found"
    http_status = 404


class Conflict(LedgerError):
    code = "conflict"
    title = "Conflict"
    http_status = 409


class LedgerTampered(LedgerError):
    code = "ledger-tampered"
    title = "Ledger verification failed"
    http_status = 500


class NotInitialised(LedgerError):
    code = "not-initialised"
    title = "Database is not initialised"
    http_status = 503


class Unauthorized(LedgerError):
    code = "unauthorized"
    title = "Authentication required"
    http_status = 401


class PayloadTooLarge(LedgerError):
    code = "payload-too-large"
    title = "Upload too large"
    http_status = 413


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in an input file: where (file, line, field) and what."""

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class InputError(LedgerError):
    """One or more problems in an input file; nothing was loaded or imported."""

    code = "invalid-input"
    title = "Invalid input"
    http_status = 422

    def __init__(self, problems: Sequence[Problem], *, truncated: bool = False) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.truncated = truncated
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        first = str(self.problems[0])
        more = len(self.problems) - 1
        if more or truncated:
            suffix = (
                f" (and {more}{'+' if truncated else ''} more problem{'s' if more != 1 else ''})"
            )
            first += suffix
        super().__init__(first, hint="nothing was changed; fix the file and run again")

    def lines(self) -> list[str]:
        out = [str(p) for p in self.problems]
        if self.truncated:
            out.append("... more problems not shown; fix these and run again")
        return out


class ProblemCollector:
    """Collects problems up to a limit, for parsers that report everything at once."""

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self.problems: list[Problem] = []
        self.truncated = False

    def add(self, file: str, line: int | None, field: str | None, message: str) -> None:
        if len(self.problems) >= self.limit:
            self.truncated = True
            return
        self.problems.append(Problem(file, line, field, message))

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.add(p.file, p.line, p.field, p.message)

    def __bool__(self) -> bool:
        return bool(self.problems)

    @property
    def full(self) -> bool:
        return self.truncated

    def raise_if_any(self) -> None:
        if self.problems:
            # In file and line order, whatever pass of the parser found them.
            ordered = sorted(self.problems, key=lambda p: (p.file, p.line or 0))
            raise InputError(ordered, truncated=self.truncated)
