"""Bulk posting: N balanced entries of 5 postings in one transaction.

Prints entries/s, postings/s and peak memory (RSS) for SQLite and, when reachable,
PostgreSQL. Usage:

    python benchmarks/bench_post.py [--entries 1000000] [--pg postgresql://postgres@127.0.0.1:5432/test]

Target (issue 2): at least 300,000 postings/s on SQLite on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledger.domain.entries import EntryDraft, Leg
from ledger.domain.periods import Period
from ledger.store import journal
from ledger.store.db import Database, resolve_url, upgrade
from ledger.store.models import Party
from ledger.store.verify import trial_balance


def drafts(n: int) -> Iterator[EntryDraft]:
    """Entries as a split run produces them: legs built from integer 10^-10 units.

    The amounts vary per entry (999 distinct patterns), every entry balances, and
    legs are not shared between entries except through equal values.
    """
    parties = [f"payable:p{i}" for i in range(4)]
    dims = ("USRW12600001", "streamco", "US", "stream")
    period = Period(2026, 10)
    for i in range(n):
        a = (i % 999 + 1) * 7
        b = (i * 7) % 999 + 1
        c = (i * 13) % 999 + 1
        d = (i * 17) % 999 + 1
        yield EntryDraft(
            f"bench:{i}",
            period,
            "split",
            "benchmark split",
            (
                Leg("revenue:undistributed", a + b + c + d, "USD", *dims),
                Leg(parties[0], -a, "USD", *dims, "wmw@v1#share", "earned"),
                Leg(parties[1], -b, "USD", *dims, "wmw@v1#share", "earned"),
                Leg(parties[2], -c, "USD", *dims, "wmw@v1#share", "earned"),
                Leg(parties[3], -d, "USD", *dims, "wmw@v1#share", "earned"),
            ),
        )


def bench(url: str, n: int) -> None:
    db = Database(url)
    upgrade(db)
    with db.write() as s:
        for i in range(4):
            s.add(Party(id=f"p{i}", name=f"Party {i}"))
    start = time.perf_counter()
    with db.write() as s:
        posted = journal.post_many(s, drafts(n))
    elapsed = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{db.dialect:10s} entries={posted:,} postings={posted * 5:,} seconds={elapsed:.1f} "
        f"entries/s={posted / elapsed:,.0f} postings/s={posted * 5 / elapsed:,.0f} "
        f"peak_rss_mb={rss_mb:.0f}"
    )
    start = time.perf_counter()
    with db.read() as s:
        tb = trial_balance(s)
    print(
        f"{db.dialect:10s} trial balance over {posted * 5:,} postings: {time.perf_counter() - start:.2f}s, balanced={tb.balanced}"
    )
    db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    args = ap.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            bench(f"sqlite:///{Path(tmp) / 'bench.db'}", args.entries)
    if not args.skip_pg:
        admin = create_engine(resolve_url(args.pg), isolation_level="AUTOCOMMIT")
        name = f"rl_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench(
                make_url(resolve_url(args.pg)).set(database=name).render_as_string(False),
                args.entries,
            )
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
