"""Step definitions for the finance month (features/month_*.feature), in the finance team's words.

Every scenario runs on SQLite and on PostgreSQL (the ``database_url`` fixture) and
drives the product the way the finance team does: it writes the catalog, the split
sheets and the revenue files into the scenario's folder and runs ``royalty`` commands
(in-process, ``--db URL``). Figures are read from ``--json`` output, the statement
CSV files and the beancount export (helpers in tests/month_steps.py), and compared
exactly, as Decimal, with the amounts worked out by hand in the features' comments.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from tests.month_steps import (
    SUMMARY_FIGURES,
    Cap,
    World,
    amount,
    beancount_transactions,
    check_balance_row,
    distrokid_file,
    dsr_file,
    line_of,
    nonzero_changes,
    rows,
    summary_of,
    total_of,
    traced_posting,
    tunecore_file,
)

pytestmark = pytest.mark.db

scenarios(
    "month_importing.feature",
    "month_split.feature",
    "month_statements.feature",
    "month_payouts.feature",
    "month_close.feature",
)

Table = list[list[str]]
ZERO = Decimal(0)
MONTH = r"(?P<period>\d{4}-\d{2})"
MONEY = r"(?P<value>-?[\d.]+) (?P<currency>[A-Z]{3})"


@pytest.fixture(autouse=True)
def world(database_url: str, tmp_path: Path, capsys: Cap) -> World:
    """The scenario's world; autouse, so that pytest sees ``database_url`` when it
    collects the scenarios (steps ask for their fixtures only when they run) and runs
    each scenario once per database."""
    folder = tmp_path / "month"
    folder.mkdir()
    return World(url=database_url, folder=folder, capsys=capsys)


# ---------------------------------------------------------------------------
# The catalog and the split sheets


@given(parsers.parse('the label "{operator}" keeps its ledger in {currency}'))
def new_ledger(world: World, operator: str, currency: str) -> None:
    world.operator, world.currency = operator, currency
    world.ok("init", "--currency", currency)


@given("these parties:")
def these_parties(world: World, datatable: Table) -> None:
    world.parties = rows(datatable)


TRACK = r'the track "(?P<isrc>[^"]+)" "(?P<title>[^"]+)" by "(?P<artist>[^"]+)"'


@given(parsers.re(f"the catalog has {TRACK}, made by:"))
@when(parsers.re(f"the finance team adds {TRACK} to the catalog, made by:"))
def track_made_by(world: World, isrc: str, title: str, artist: str, datatable: Table) -> None:
    world.tracks.append({"isrc": isrc, "title": title, "display_artist": artist})
    for r in rows(datatable):
        weight = {"weight": r["weight"]} if r.get("weight") else {}
        world.contributions.append({"isrc": isrc, "party": r["party"], "role": r["role"], **weight})


SHEET = (
    r'the split sheet "(?P<sheet>[^"]+)"(?: version (?P<version>\d+))? '
    r'for "(?P<isrc>[^"]+)" from (?P<start>\d{4}-\d{2}):'
)


@given(parsers.re(SHEET))
@when(parsers.re(SHEET))
def split_sheet(
    world: World, sheet: str, version: str | None, isrc: str, start: str, datatable: Table
) -> None:
    shares = [
        {**({"party": r["party"]} if r["party"] else {}), "role": r["role"], "share": r["share"]}
        for r in rows(datatable)
    ]
    world.current = (sheet, version or "1")
    world.agreements[world.current] = {
        "id": sheet,
        "version": world.current[1],
        "title": f"{world.title_of(isrc)} split sheet",
        "effective_from": start,
        "scope": {"tracks": [isrc]},
        "rules": [{"id": "standard", "shares": shares}],
    }


FEE = 'a distribution fee of {percent} to "{party}" comes off the top'


@given(parsers.parse(FEE))
@when(parsers.parse(FEE))
def distribution_fee(world: World, percent: str, party: str) -> None:
    assert world.current is not None, "a fee belongs to a split sheet: write one first"
    fee = {"id": "distribution-fee", "party": party, "percent": percent}
    world.agreements[world.current]["fees"] = [fee]


@given(parsers.parse('"{party}" has an advance of {value} {currency} to recoup'))
def advance_to_recoup(world: World, party: str, value: str, currency: str) -> None:
    assert world.current is not None, "an advance belongs to a split sheet: write one first"
    advance = {"party": party, "amount": value, "currency": currency, "description": "advance"}
    world.agreements[world.current]["advances"] = [advance]


@given("the catalog and the split sheets are loaded")
@when("the finance team loads the catalog and the split sheets")
def load_documents(world: World) -> None:
    world.load_documents()


@when(parsers.parse('"{party}" is renamed "{name}" in the catalog'))
def rename_party(world: World, party: str, name: str) -> None:
    (found,) = [p for p in world.parties if p["party"] == party]
    found["name"] = name
    world.load_documents()


# ---------------------------------------------------------------------------
# Revenue files, and what the finance team does with them


@given(parsers.re(r'DistroKid sends (?:a corrected )?"(?P<name>[^"]+)":'))
def distrokid_sends(world: World, name: str, datatable: Table) -> None:
    distrokid_file(world, rows(datatable), name)


@given(parsers.parse('TuneCore sends "{name}":'))
def tunecore_sends(world: World, name: str, datatable: Table) -> None:
    tunecore_file(world, rows(datatable), name)


@given(
    parsers.re(
        rf'StreamCo sends the DSR "(?P<name>[^"]+)" for {MONTH} with {MONEY} of subscription '
        r"revenue in the (?P<territory>[A-Z]{2}), over these streams:"
    )
)
def dsr_sends(
    world: World,
    name: str,
    period: str,
    value: str,
    currency: str,
    territory: str,
    datatable: Table,
) -> None:
    dsr_file(world, rows(datatable), name, period, value, currency, territory)


IMPORT = (
    rf'the finance team (?P<verb>imports|has imported) "(?P<name>[^"]+)" for {MONTH}'
    r"(?P<replacing>, replacing the earlier import)?(?: again)?"
)


@given(parsers.re(IMPORT))
@when(parsers.re(IMPORT))
def import_file(world: World, verb: str, name: str, period: str, replacing: str | None) -> None:
    args = ["import", str(world.path(name)), "--period", period, "--json"]
    _act(world, verb, period, *args, *(["--replace"] if replacing else []))


def _act(world: World, verb: str, period: str, *args: str) -> None:
    """A Given ("has split") must succeed; a When ("splits") may be refused, and
    remembers the ledger as it was before."""
    world.period = period
    if verb.startswith("has "):
        world.ok(*args)
    else:
        world.attempt(*args)


SPLIT = rf"the finance team (?P<verb>splits|has split) {MONTH}(?: again)?"
PAY = rf"the finance team (?P<verb>pays|has paid) {MONTH}(?: again)?"
CLOSE = rf"the finance team (?P<verb>closes|has closed) {MONTH}"


@given(parsers.re(SPLIT))
@when(parsers.re(SPLIT))
def split(world: World, verb: str, period: str) -> None:
    _act(world, verb, period, "split", "--period", period, "--json")


@given(parsers.re(PAY))
@when(parsers.re(PAY))
def pay(world: World, verb: str, period: str) -> None:
    _act(world, verb, period, "pay", "--period", period, "--json")


@given(parsers.re(CLOSE))
@when(parsers.re(CLOSE))
def close(world: World, verb: str, period: str) -> None:
    _act(world, verb, period, "period", "close", period)


@when("the finance team releases from suspense what the catalog now knows")
def release_suspense(world: World) -> None:
    world.attempt("suspense", "resolve", "--json")


@when(parsers.re(rf'the finance team writes the statements of {MONTH}(?: to "(?P<to>[^"]+)")?'))
def write_statements(world: World, period: str, to: str | None) -> None:
    out = world.path(to or f"statements-{period}")
    world.ok("statements", "--period", period, "--out", str(out))
    world.statements[period] = out


# ---------------------------------------------------------------------------
# Then: imports, refusals, suspense


@then(
    parsers.re(
        rf"import #(?P<number>\d+) holds (?P<count>\d+) lines? worth {MONEY} "
        r'from "(?P<source>[^"]+)"'
    )
)
def import_holds(
    world: World, number: str, count: str, value: str, currency: str, source: str
) -> None:
    data = world.done()
    assert (data["import_id"], data["lines"], data["source"]) == (int(number), int(count), source)
    assert amount(data["ledger_total"]) == world.money(value, currency)


@then(parsers.parse("import #{new:d} supersedes import #{old:d}"))
def supersedes(world: World, new: int, old: int) -> None:
    data = world.done()
    assert (data["import_id"], data["replaced_imports"]) == (new, [old])


@then(parsers.parse('it is refused because "{reason}"'))
def refused(world: World, reason: str) -> None:
    assert world.last is not None and world.last.code == 1, world.last
    err = world.last.err
    assert err.startswith("error: ") and "Traceback" not in err, err
    assert reason in " ".join(err.split()), err


@then("the ledger is exactly as it was before")
def unchanged(world: World) -> None:
    assert world.before is not None
    assert world.snapshot() == world.before


@then(parsers.re(rf"(?P<source>\w+) owes the label {MONEY}"))
def owes_the_label(world: World, source: str, value: str, currency: str) -> None:
    receivable = world.account_balance(f"receivable:{source.lower()}")
    assert receivable == world.money(value, currency)


@then(parsers.re(rf"{MONEY} of revenue waits to be split"))
def waits_to_be_split(world: World, value: str, currency: str) -> None:
    assert -world.account_balance("revenue:undistributed") == world.money(value, currency)


@then("nothing waits to be split")
def nothing_waits(world: World) -> None:
    assert world.account_balance("revenue:undistributed") == ZERO


@then(parsers.re(rf"(?P<count>\d+) lines? worth {MONEY} (?:is|are) held in suspense"))
def held_in_suspense(world: World, count: str, value: str, currency: str) -> None:
    data = world.done()
    held = (data["suspense_lines"], amount(data["suspense_amount"]))
    assert held == (int(count), world.money(value, currency))
    assert -world.account_balance("suspense:revenue") == amount(value)


@then("the suspense list shows:")
def suspense_list(world: World, datatable: Table) -> None:
    got = [
        {
            "import": str(i["import_id"]),
            "isrc": i["isrc"],
            "reason": i["reason"],
            "lines": str(i["lines"]),
            "amount": amount(i["amount"]),
            "known to the catalog": "yes" if i["resolvable"] else "no",
        }
        for i in world.ok("suspense", "list", "--json")
    ]
    want = [{**r, "amount": amount(r["amount"])} for r in rows(datatable)]
    assert got == want


@then("nothing is held in suspense")
def nothing_in_suspense(world: World) -> None:
    assert world.ok("suspense", "list", "--json") == []
    assert world.account_balance("suspense:revenue") == ZERO


@then(parsers.re(rf"(?P<count>\d+) lines? worth {MONEY} (?:is|are) released into {MONTH}"))
def released(world: World, count: str, value: str, currency: str, period: str) -> None:
    data = world.done()
    assert (data["lines"], amount(data["amount"])) == (int(count), world.money(value, currency))
    assert (data["currency"], data["period"]) == (currency, period)


@then(parsers.re(r'the ledger shows "(?P<narration>[^"]+)", which reverses entry #(?P<entry>\d+):'))
def ledger_shows_reversal(world: World, narration: str, entry: str, datatable: Table) -> None:
    out = world.path("ledger.beancount")
    world.ok("export", "beancount", "--out", str(out))
    (txn,) = [t for t in beancount_transactions(out.read_text("utf-8")) if t.narration == narration]
    assert txn.meta.get("reverses") == entry, txn.meta
    got: dict[str, Decimal] = {}
    for code, value, currency in txn.postings:
        got[code] = got.get(code, ZERO) + world.money(str(value), currency)
    assert got == {r["account"]: amount(r["amount"]) for r in rows(datatable)}


# ---------------------------------------------------------------------------
# Then: the split and the balances


@then(
    parsers.re(
        r"run #(?P<run>\d+) (?:posts (?P<value>[\d.]+) (?P<currency>[A-Z]{3}) of revenue"
        rf"|adjusts run #(?P<earlier>\d+)) in {MONTH} with these changes:"
    )
)
def run_changes(
    world: World,
    run: str,
    value: str | None,
    currency: str | None,
    earlier: str | None,
    period: str,
    datatable: Table,
) -> None:
    """The run's changes per account: those in the table, and no other account moved."""
    data = world.done()
    adjusts = int(earlier) if earlier else None
    assert (data["run_id"], data["adjusts_run_id"], data["posted_in"]) == (
        int(run),
        adjusts,
        period,
    )
    if value and currency:
        assert amount(data["revenue"]) == world.money(value, currency)
    assert data["unchanged"] is False and amount(data["suspense"]) == ZERO
    figures = ("earned", "fees", "net")
    want = {r["party / account"]: tuple(amount(r[k]) for k in figures) for r in rows(datatable)}
    assert nonzero_changes(data["changes"]) == want


@then("the split posts nothing, as the ledger already matches its inputs")
def posts_nothing(world: World) -> None:
    data = world.done()
    assert data["unchanged"] is True and (data["entries"], data["legs"]) == (0, 0)
    assert data["changes"] == []


@then(parsers.re(rf"the split covered {MONEY} of revenue"))
def split_covered(world: World, value: str, currency: str) -> None:
    assert amount(world.done()["revenue"]) == world.money(value, currency)


@then(parsers.re(rf"the net changes add up to {MONEY}"))
def nets_add_up(world: World, value: str, currency: str) -> None:
    nets = sum((amount(c["net"]) for c in world.done()["changes"]), ZERO)
    assert nets == world.money(value, currency)


@then(parsers.parse("the balances of {period} are:"))
def balances_are(world: World, period: str, datatable: Table) -> None:
    """The figures in the table, for the parties in it (columns as `royalty balances`)."""
    got = {b["party_id"]: b for b in world.ok("balances", "--period", period, "--json")}
    for r in rows(datatable):
        b = got[r.pop("party")]
        assert b["currency"] == world.currency
        assert {k: amount(b[k]) for k in r} == {k: amount(v) for k, v in r.items()}, b
        check_balance_row(b)


# ---------------------------------------------------------------------------
# Then: payouts and periods


@then("the payouts are:")
def payouts_are(world: World, datatable: Table) -> None:
    lines = world.done()["lines"]
    got = [
        (x["party_id"], *(amount(x[k]) for k in ("balance", "paid", "carried")), x["reason"])
        for x in lines
    ]
    want = [
        (r["party"], *(amount(r[k]) for k in ("balance", "paid", "carried forward")), r["why"])
        for r in rows(datatable)
    ]
    assert got == want
    for x in lines:  # whole cents only, and nothing lost
        assert amount(x["paid"]) == amount(x["paid"]).quantize(Decimal("0.01"))
        assert amount(x["paid"]) + amount(x["carried"]) == amount(x["balance"])


@then(parsers.re(rf"{MONEY} is paid in total"))
def paid_in_total(world: World, value: str, currency: str) -> None:
    data = world.done()
    assert (data["currency"], amount(data["total_paid"])) == (currency, amount(value))


@then(parsers.re(rf"the bank has paid out {MONEY}"))
def bank_paid_out(world: World, value: str, currency: str) -> None:
    assert -world.account_balance("bank") == world.money(value, currency)


@then(parsers.re(rf"{MONTH} is (?P<status>open|closed)"))
def period_status(world: World, period: str, status: str) -> None:
    periods = {p["period"]: p["status"] for p in world.ok("period", "list", "--json")}
    assert periods.get(period, "open") == status, periods


# ---------------------------------------------------------------------------
# Then: the auditor's trace

OWED = rf'(?P<party>[\w-]+)\'s {MONEY} for "(?P<isrc>[^"]+)" '


@then(parsers.re(OWED + r'was posted by "(?P<description>[^"]+)"'))
def posted_by(
    world: World, party: str, value: str, currency: str, isrc: str, description: str
) -> None:
    traced = traced_posting(world, party, value, isrc)
    assert (traced["currency"], traced["entry_kind"]) == (currency, "adjustment")
    assert traced["entry_description"].startswith(description), traced


@then(parsers.re(OWED + r'traces back to line (?P<line>\d+) of "(?P<name>[^"]+)"'))
def traces_back(
    world: World, party: str, value: str, currency: str, isrc: str, line: str, name: str
) -> None:
    traced = traced_posting(world, party, value, isrc)
    got = [(x["filename"], x["line_no"], amount(x["amount"])) for x in traced["lines"]]
    assert got == [(name, int(line), world.money(value, currency))]


# ---------------------------------------------------------------------------
# Then: statements (the CSV layout is documented at the top of reports/csv.py)

STATEMENT = rf'the statement of "(?P<party>[^"]+)" for {MONTH}(?: in "(?P<folder>[^"]+)")?'


@then(parsers.re(STATEMENT + " has this summary:"))
def statement_summary(
    world: World, party: str, period: str, folder: str | None, datatable: Table
) -> None:
    world.statement_rows = world.statement(party, period, folder)
    figures = summary_of(world.statement_rows)
    want = {r["figure"].replace(" ", "_"): amount(r["amount"]) for r in rows(datatable)}
    assert set(want) <= set(SUMMARY_FIGURES), want
    assert {k: figures[k] for k in want} == want


@then(parsers.re(STATEMENT + ' is addressed to "(?P<name>[^"]+)"'))
def addressed_to(world: World, party: str, period: str, folder: str | None, name: str) -> None:
    info = [r for r in world.statement(party, period, folder) if r["record"] == "info"]
    assert [r["description"] for r in info if r["kind"] == "party_name"] == [name]


@then("its lines are:")
def its_lines(world: World, datatable: Table) -> None:
    lines = [line_of(r, "share_fraction") for r in world.statement_rows if r["record"] == "line"]
    assert lines == [line_of(r, "share") for r in rows(datatable)]


@then(parsers.re(r"its (?P<record>adjustment|fee|recoupment|payment) rows are:"))
def its_rows(world: World, record: str, datatable: Table) -> None:
    found = [r for r in world.statement_rows if r["record"] == record]
    want = rows(datatable)
    assert [(r["kind"], amount(r["amount"])) for r in found] == [
        (w["kind"], amount(w["amount"])) for w in want
    ]
    for r, w in zip(found, want, strict=True):
        assert w.get("description", "") in r["description"], r


@then(parsers.re(r'it says of what is carried forward: "(?P<why>[^"]*)"'))
def carried_because(world: World, why: str) -> None:
    summary = [r for r in world.statement_rows if r["record"] == "summary"]
    assert [r["description"] for r in summary if r["kind"] == "carried_forward"] == [why]


@then("its figures add up to its lines, adjustments, fees, recoupments and payments")
def figures_add_up(world: World) -> None:
    st, s = world.statement_rows, summary_of(world.statement_rows)
    assert s["earned"] == total_of(st, "line") + total_of(st, "adjustment")
    assert s["fees"] == total_of(st, "fee")
    assert s["recouped"] == total_of(st, "recoupment")
    assert s["paid"] == total_of(st, "payment")


@then("its closing balance is opening + earned - fees - recouped - paid")
def closing_adds_up(world: World) -> None:
    s = summary_of(world.statement_rows)
    assert s["closing"] == s["opening"] + s["earned"] - s["fees"] - s["recouped"] - s["paid"]


@then("its closing balance is what is payable now plus what is carried forward")
def closing_is_settled(world: World) -> None:
    s = summary_of(world.statement_rows)
    assert s["closing"] == s["payable_now"] + s["carried_forward"]


@then(
    parsers.parse('"{first}" and "{second}" hold the same {count:d} statement files, byte for byte')
)
def same_bytes(world: World, first: str, second: str, count: int) -> None:
    a, b = world.path(first), world.path(second)
    names = sorted(p.name for p in a.iterdir())
    assert len(names) == count and names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
