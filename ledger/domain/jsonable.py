"""Values as JSON for every adapter (CLI, API): amounts and shares as exact strings.

One conversion, so `royalty ... --json` and the HTTP API never disagree on how an
amount, a share, a period or a result dataclass is written. Amounts never become
JSON numbers (a client parsing them as floats would lose cents).
"""

from __future__ import annotations

from dataclasses import is_dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.domain.money import Money, format_share, to_text
from ledger.domain.periods import Period


def plain(value: Any) -> Any:
    """Dataclasses, dicts and sequences as JSON-ready values; amounts (Money, Decimal),
    shares (Fraction) and periods as text. Money's currency is a field of its own
    wherever the shape carries one, so an amount is written as its exact text."""
    if isinstance(value, Money):
        return value.text
    if isinstance(value, Period):
        return value.code
    if isinstance(value, Decimal):
        return to_text(value)
    if isinstance(value, Fraction):
        return format_share(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value
