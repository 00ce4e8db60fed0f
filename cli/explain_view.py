"""``royalty agreements explain`` as text: the explanation laid out for a terminal."""

from __future__ import annotations

from ledger.domain.explanation import Explanation
from ledger.domain.money import Money, format_share, total


def render_text(explanation: Explanation) -> str:
    ctx = explanation.context
    out = [
        f"{ctx.isrc}  source {ctx.source}  territory {ctx.territory}  usage {ctx.usage}"
        f"  period {ctx.period}",
        f"rule applied: {explanation.matched}",
        "",
        "why:",
        *(f"  {r}" for r in explanation.reasons),
        "",
        f"split of an example {_money2(explanation.example_amount)} {ctx.currency}"
        + (f" over {explanation.example_quantity:,} units" if explanation.example_quantity else "")
        + ":",
    ]
    if not explanation.example_quantity and any(f.per_unit_units for f in explanation.fees):
        out.append("  (per-unit fees are 0.00 here: give the example a quantity to see them)")
    width = max((len(p.party_id) + len(p.role) + 3 for p in explanation.example_parts), default=10)
    out.append(
        f"  {'party (role)':<{width}}  {'kind':<5}  {'share':>12}  {'amount':>12}  rule"
        "  (a fee's share is of the line, the others' of what is left after fees)"
    )
    for p in explanation.example_parts:
        who = f"{p.party_id} ({p.role})"
        weight = (
            f"  attribution {format_share(p.attribution_weight)}"
            if p.attribution_weight is not None
            else ""
        )
        out.append(
            f"  {who:<{width}}  {p.kind:<5}  {format_share(p.share):>12}  "
            f"{_money2(p.amount):>12}  {p.rule_ref}{weight}"
        )
    whole = total((p.amount for p in explanation.example_parts), ctx.currency)
    out.append(f"  {'total':<{width}}  {'':<5}  {'':>12}  {_money2(whole):>12}")
    return "\n".join(out)


def _money2(amount: Money) -> str:
    """Display text with thousands separators; full precision kept when not whole cents."""
    text = amount.text
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}.{frac}"
