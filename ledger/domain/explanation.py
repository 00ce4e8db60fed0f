"""Why a line is split the way it is: the rule that matched, those that did not, an example.

What ``royalty agreements explain`` (and its ``--json``) shows a finance team:
the resolved tree of one line's context, from :mod:`ledger.domain.rules`, with
the split of an example amount (1,000.00 by default) that sums exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledger.domain.agreements import Agreement
from ledger.domain.catalog import Catalog
from ledger.domain.money import Money, format_share
from ledger.domain.rules import (
    EXAMPLE_AMOUNT,
    Attribution,
    LineContext,
    Part,
    PlannedFee,
    PlannedShare,
    Resolver,
    RuleCheck,
)


@dataclass(frozen=True, slots=True)
class Explanation:
    """The resolved tree of one context: what matched and why, the shares, an example split."""

    context: LineContext
    matched: str
    checks: tuple[RuleCheck, ...]
    fees: tuple[PlannedFee, ...]
    shares: tuple[PlannedShare, ...]
    example_amount: Money
    example_quantity: int
    example_parts: tuple[Part, ...]
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: amounts and shares as strings (shares also as exact fractions)."""
        ctx = self.context
        return {
            "context": {
                "isrc": ctx.isrc,
                "source": ctx.source,
                "territory": ctx.territory,
                "usage": ctx.usage,
                "period": ctx.period.code,
                "currency": ctx.currency,
            },
            "matched": self.matched,
            "rules": [
                {
                    "rule": c.rule_ref,
                    "priority": c.priority,
                    "matched": c.matched,
                    "reason": c.reason,
                }
                for c in self.checks
            ],
            "fees": [{"rule": f.rule_ref, "party": f.party_id, "terms": f.text} for f in self.fees],
            "shares": [
                {
                    "party": s.party_id,
                    "role": s.role,
                    "share": format_share(s.share),
                    "share_exact": f"{s.share.numerator}/{s.share.denominator}",
                    "rule": s.rule_ref,
                    "kind": s.kind,
                    "attribution_weight": (
                        None if s.attribution_weight is None else format_share(s.attribution_weight)
                    ),
                    "basis": s.basis,
                }
                for s in self.shares
            ],
            "example": {
                "amount": self.example_amount.text,
                "quantity": self.example_quantity,
                "parts": [
                    {
                        "party": p.party_id,
                        "role": p.role,
                        "kind": p.kind,
                        "rule": p.rule_ref,
                        "amount": p.amount.text,
                    }
                    for p in self.example_parts
                ],
            },
            "reasons": list(self.reasons),
        }


def explain(
    ctx: LineContext,
    agreements: Sequence[Agreement],
    catalog: Catalog,
    attribution: Attribution = None,
    *,
    example: Decimal = EXAMPLE_AMOUNT,
    example_quantity: int | None = None,
) -> Explanation:
    """Explain how a context resolves, with the split of an example amount (1,000.00).

    Raises the same :class:`ResolutionError` as :func:`resolve` when nothing applies.
    """
    amount = Money(example, ctx.currency)
    quantity = ctx.quantity if example_quantity is None else example_quantity
    resolver = Resolver(agreements, catalog, attribution)
    selection = resolver.select_verbose(ctx)
    plan = resolver.plan(ctx)
    return Explanation(
        context=ctx,
        matched=plan.matched,
        checks=selection.checks,
        fees=plan.fees,
        shares=plan.shares,
        example_amount=amount,
        example_quantity=quantity,
        example_parts=plan.allocate(amount, quantity),
        reasons=selection.reasons + plan.explanation,
    )
