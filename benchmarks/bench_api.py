"""Load test of the holder API: N rights-holders downloading statements at once.

Prepares its own SQLite file (a catalog of N holders, a generated DSR month,
imported, split, closed and its statements issued), starts `royalty serve`
on 127.0.0.1 as a separate server process, then runs N concurrent
clients (asyncio + httpx, one token each) for a bounded time and request count.
Prints requests per second, p50/p95/p99 latency and errors. Timing is done in
integer nanoseconds; no money is measured here.

    python benchmarks/bench_api.py [--holders 50] [--seconds 30] [--format pdf|csv|mixed]
        [--draft]   # open period: each download renders the statement on the fly
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PERIOD = "2026-10"
MAX_REQUESTS = 2_000_000  # hard bound on the whole run, whatever the duration


def _catalog(holders: int, isrcs: list[str]) -> tuple[str, str]:
    import yaml

    parties = [
        {
            "id": "label",
            "name": "Bench Label",
            "kind": "company",
            "operator": "true",
            "payout_currency": "USD",
        }
    ]
    parties += [
        {"id": f"h{i:03d}", "name": f"Holder {i} – Zoë", "kind": "person", "payout_currency": "USD"}
        for i in range(holders)
    ]
    contributions = []
    for n, isrc in enumerate(isrcs):
        contributions.append({"isrc": isrc, "party": f"h{n % holders:03d}", "role": "producer"})
        contributions.append(
            {"isrc": isrc, "party": f"h{(n + 1) % holders:03d}", "role": "curator"}
        )
    catalog = {
        "parties": parties,
        "tracks": [{"isrc": i, "title": f"Track {i}", "display_artist": "Bench"} for i in isrcs],
        "contributions": contributions,
    }
    agreements = {
        "agreements": [
            {
                "id": "bench",
                "version": "1",
                "effective_from": "2026-01",
                "scope": {"tracks": isrcs},
                "rules": [
                    {
                        "id": "standard",
                        "shares": [
                            {"role": "producer", "share": "60%"},
                            {"role": "curator", "share": "20%"},
                            {"party": "label", "share": "remaining"},
                        ],
                    }
                ],
            }
        ]
    }
    return yaml.safe_dump(catalog), yaml.safe_dump(agreements)


def prepare(work: Path, holders: int, lines: int, *, draft: bool) -> tuple[str, dict[str, str]]:
    """A ledger with one split month and a token per holder; returns (url, {party: token})."""
    from benchmarks.gen_dsr import _isrc, generate_dsr
    from ledger.domain.fx import parse_rates
    from ledger.domain.periods import Period
    from ledger.parsers import open_revenue_file
    from ledger.services import documents, imports, periods, splits, statements
    from ledger.store import settings
    from ledger.store import tokens as token_service
    from ledger.store.db import Database, upgrade
    from reports import render

    isrcs = [_isrc(b) for b in range(max(holders * 4, 20))]
    url = f"sqlite:///{work / 'bench.db'}"
    database = Database(url)
    upgrade(database)
    catalog_text, agreements_text = _catalog(holders, isrcs)
    dsr = generate_dsr(work / "bench_dsr.tsv", lines, isrcs=len(isrcs), period=PERIOD)
    month = Period.parse(PERIOD)
    rates = parse_rates(f"period,currency,rate\n{PERIOD},EUR,1.0812\n", "rates.csv")
    out: dict[str, str] = {}
    with database.write() as session:
        settings.initialise(session, "USD")
        documents.load_catalog(session, catalog_text, "catalog.yaml")
        documents.load_agreements(session, agreements_text, "agreements.yaml")
        with open_revenue_file(dsr, period=month) as parsed:
            imports.import_revenue(session, parsed, rates=rates, period=month)
        splits.run_split(session, month)
        for i in range(holders):
            party = f"h{i:03d}"
            out[party] = token_service.create_token(session, party_id=party, label="bench")[1]
    if not draft:
        with database.write() as session:
            periods.close_period(session, month)
            for _ in statements.issue_statements(session, month, render):
                pass  # issued and stored; the files are served from the database
    database.dispose()
    return url, out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _percentile(sorted_ns: list[int], pct: int) -> int:
    if not sorted_ns:
        return 0
    index = min(len(sorted_ns) - 1, (len(sorted_ns) * pct + 99) // 100 - 1)
    return sorted_ns[max(index, 0)]


def _ms(ns: int) -> str:
    return f"{ns // 1_000_000}.{(ns // 10_000) % 100:02d} ms"


async def load(base: str, tokens: dict[str, str], seconds: int, fmt: str) -> dict[str, object]:
    import httpx

    deadline = time.monotonic_ns() + seconds * 1_000_000_000
    latencies: list[int] = []
    errors: dict[str, int] = {}
    count = 0
    limits = httpx.Limits(max_connections=len(tokens) + 5, max_keepalive_connections=len(tokens))

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:

        async def holder(n: int, token: str) -> None:
            nonlocal count
            headers = {"Authorization": f"Bearer {token}"}
            i = 0
            while time.monotonic_ns() < deadline and count < MAX_REQUESTS:
                f = fmt if fmt != "mixed" else ("pdf" if (n + i) % 2 else "csv")
                i += 1
                start = time.monotonic_ns()
                try:
                    r = await http.get(f"/api/me/statements/{PERIOD}/{f}", headers=headers)
                    await r.aread()
                    ok = r.status_code == 200 and len(r.content) > 0
                    if not ok:
                        errors[f"HTTP {r.status_code}"] = errors.get(f"HTTP {r.status_code}", 0) + 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    ok = False
                latencies.append(time.monotonic_ns() - start)
                count += 1

        started = time.monotonic_ns()
        await asyncio.gather(*(holder(n, t) for n, t in enumerate(tokens.values())))
        elapsed = time.monotonic_ns() - started
    latencies.sort()
    return {"requests": count, "elapsed_ns": elapsed, "latencies": latencies, "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holders", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--lines", type=int, default=20_000, help="usage lines in the DSR month")
    parser.add_argument("--format", choices=("pdf", "csv", "mixed"), default="mixed")
    parser.add_argument(
        "--draft", action="store_true", help="leave the period open: every download renders a draft"
    )
    args = parser.parse_args(argv)

    import httpx

    with tempfile.TemporaryDirectory(prefix="royalty-bench-api-") as tmp:
        work = Path(tmp)
        t0 = time.monotonic_ns()
        url, tokens = prepare(work, args.holders, args.lines, draft=args.draft)
        print(
            f"prepared {args.holders} holders, {args.lines} revenue lines "
            f"({'draft' if args.draft else 'issued'} statements) in "
            f"{(time.monotonic_ns() - t0) // 1_000_000} ms"
        )
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "--db", url, "serve", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):  # bounded wait for the server, 30 s at most
                try:
                    if httpx.get(base + "/openapi.json", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None:
                    print("server exited early", file=sys.stderr)
                    return 1
                time.sleep(0.1)
            result = asyncio.run(load(base, tokens, args.seconds, args.format))
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    lat: list[int] = result["latencies"]  # type: ignore[assignment]
    requests = int(result["requests"])  # type: ignore[call-overload]
    elapsed = int(result["elapsed_ns"])  # type: ignore[call-overload]
    errors: dict[str, int] = result["errors"]  # type: ignore[assignment]
    per_second_x100 = requests * 100 * 1_000_000_000 // max(elapsed, 1)
    print(
        json.dumps(
            {
                "holders": args.holders,
                "format": args.format,
                "seconds": args.seconds,
                "requests": requests,
                "requests_per_second": f"{per_second_x100 // 100}.{per_second_x100 % 100:02d}",
                "p50": _ms(_percentile(lat, 50)),
                "p95": _ms(_percentile(lat, 95)),
                "p99": _ms(_percentile(lat, 99)),
                "max": _ms(lat[-1] if lat else 0),
                "errors": sum(errors.values()),
                "error_kinds": errors,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
