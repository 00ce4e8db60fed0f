"""Import and split a generated 1,000,000-line DSR file; time `balances` on the result.

Each phase runs as its own `royalty` process (as a finance team would run it), timed
with its peak memory (RSS) from os.wait4. SQLite by default; --pg URL runs on a fresh
PostgreSQL database too. The catalog covers every ISRC of the file but those of one
registrant (QZK6H), whose lines go to suspense.

    python benchmarks/bench_import_split.py --lines 1000000 [--lines 3000000] [--pg postgresql://postgres@127.0.0.1:5432/test]

Targets: import under 8 s and 400 MB (issue 4), split under 10 s and 500 MB, balances
under 1 s (issue 5).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gen_dsr import _isrc, generate_dsr

OUT = Path(__file__).parent / "out"


def catalog_yaml(isrcs: int) -> str:
    parties = [
        "  - {id: label, name: Bench Label Ltd., kind: company, payout_currency: USD, operator: true}",
        "  - {id: curator, name: Curator, kind: person, payout_currency: USD, payout_threshold: '50.00'}",
        "  - {id: producer, name: Producer, kind: person, payout_currency: USD}",
        "  - {id: vendor, name: Model Vendor Inc., kind: company, payout_currency: USD}",
        "  - {id: lic-a, name: Licensor A, kind: company, payout_currency: USD}",
        "  - {id: lic-b, name: Licensor B, kind: company, payout_currency: USD}",
    ]
    tracks, contribs = [], []
    for i in range(isrcs):
        isrc = _isrc(i)
        if isrc.startswith("QZK6H"):
            continue
        tracks.append(f"  - {{isrc: {isrc}, title: Track {i}, display_artist: Bench Artist}}")
        contribs.append(f"  - {{isrc: {isrc}, party: curator, role: curator}}")
        contribs.append(f"  - {{isrc: {isrc}, party: producer, role: producer}}")
        contribs.append(f"  - {{isrc: {isrc}, party: vendor, role: model_vendor}}")
        contribs.append(
            f"  - {{isrc: {isrc}, party: lic-a, role: training_data_licensor, weight: '2'}}"
        )
        contribs.append(
            f"  - {{isrc: {isrc}, party: lic-b, role: training_data_licensor, weight: '1'}}"
        )
    return (
        "parties:\n"
        + "\n".join(parties)
        + "\ntracks:\n"
        + "\n".join(tracks)
        + "\ncontributions:\n"
        + "\n".join(contribs)
        + "\n"
    )


AGREEMENTS = """agreements:
  - id: bench
    version: 1
    title: Catalog-wide AI split
    effective_from: 2026-01
    scope: {catalog: true}
    fees:
      - {id: distribution, party: label, percent: 15%}
    rules:
      - id: standard
        shares:
          - {role: curator, share: 25%}
          - {role: producer, share: 35%}
          - {role: model_vendor, share: 10%}
          - {role: training_data_licensor, share: 20%, divide_by: weights}
          - {party: label, share: remaining}
"""


def royalty(db: str, *args: str) -> tuple[float, float, str]:
    """Run one royalty command; return (seconds, its own peak RSS in MB, stdout)."""
    cmd = [sys.executable, "-c", "from cli.main import run; run()", "--db", db, *args]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {err.read().strip()}")
        return elapsed, usage.ru_maxrss / 1024, out.read()


def run(db: str, dsr: Path, work: Path, lines: int) -> None:
    (work / "catalog.yaml").write_text(catalog_yaml(5000))
    (work / "agreements.yaml").write_text(AGREEMENTS)
    (work / "rates.csv").write_text("period,currency,rate\n2026-10,EUR,1.0812\n")
    royalty(db, "init")
    royalty(db, "catalog", "load", str(work / "catalog.yaml"))
    royalty(db, "agreements", "load", str(work / "agreements.yaml"))
    kind = db.split(":", 1)[0]
    t, rss, _ = royalty(
        db, "import", str(dsr), "--period", "2026-10", "--fx", str(work / "rates.csv")
    )
    print(
        f"{kind:10s} import {lines:,} lines: {t:.1f} s, peak RSS {rss:.0f} MB, {lines / t:,.0f} lines/s"
    )
    t, rss, _ = royalty(db, "split", "--period", "2026-10")
    print(f"{kind:10s} split: {t:.1f} s, peak RSS {rss:.0f} MB")
    t, rss, _ = royalty(db, "balances", "--period", "2026-10")
    print(f"{kind:10s} balances: {t:.2f} s (whole command, Python start-up included)")
    t, rss, out = royalty(db, "ledger", "verify")
    print(f"{kind:10s} verify: {t:.1f} s: {out.strip()}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, action="append")
    ap.add_argument("--pg", default=None, help="admin URL of a PostgreSQL server")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    for lines in args.lines or [1_000_000]:
        dsr = OUT / f"bench_{lines}.tsv"
        if not dsr.exists():
            generate_dsr(dsr, lines)
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", dsr, Path(tmp), lines)
            if args.pg:
                from sqlalchemy import create_engine, text
                from sqlalchemy.engine import make_url

                from ledger.store.db import resolve_url

                admin = create_engine(resolve_url(args.pg), isolation_level="AUTOCOMMIT")
                name = f"rl_bench_{uuid.uuid4().hex[:8]}"
                with admin.connect() as c:
                    c.execute(text(f'CREATE DATABASE "{name}"'))
                try:
                    url = make_url(resolve_url(args.pg)).set(database=name).render_as_string(False)
                    run(url, dsr, Path(tmp), lines)
                finally:
                    with admin.connect() as c:
                        c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
