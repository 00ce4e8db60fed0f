"""Parse speed and peak memory of the DSR parser on 1M and 3M usage lines.

Generates the files once (benchmarks/out/, git-ignored), then parses each in a
fresh process so peak RSS is that parse's own: ``validate()`` (pass 1) and
``records()`` (pass 2, what an import reads: plain tuples, amounts in units);
``lines`` iterates the RevenueLine objects instead. Prints lines/s and peak
RSS per size, and a reference: reading the same file with the csv module and
parsing one Decimal per line. Wall time depends on what else the machine runs;
CPU time less so.

    python benchmarks/bench_parse.py [--lines 1000000 3000000] [--gz]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from gen_dsr import generate_dsr  # noqa: E402


def _peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def child(path: str, mode: str) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    from ledger.parsers import open_revenue_file

    start = time.perf_counter()
    cpu = time.process_time()
    if mode == "baseline":
        n = 0
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh, delimiter="\t"):
                if row and row[0] == "SU02.02":
                    Decimal(row[7])
                    n += 1
        print(
            json.dumps(
                {
                    "lines": n,
                    "total_s": time.perf_counter() - start,
                    "cpu_s": time.process_time() - cpu,
                    "peak_mb": _peak_mb(),
                }
            )
        )
        return
    parsed = open_revenue_file(path)
    info = parsed.validate()
    validated = time.perf_counter()
    n = 0
    for _ in parsed.records() if mode == "records" else parsed:
        n += 1
    done = time.perf_counter()
    if n != info.line_count:
        raise SystemExit(f"yielded {n} lines, expected {info.line_count}")
    print(
        json.dumps(
            {
                "lines": n,
                "validate_s": validated - start,
                "iterate_s": done - validated,
                "total_s": done - start,
                "cpu_s": time.process_time() - cpu,
                "peak_mb": _peak_mb(),
                "totals": {k: str(v) for k, v in info.totals.items()},
            }
        )
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--gz", action="store_true", help="benchmark gzipped files")
    parser.add_argument("--out", default=str(HERE / "out"))
    parser.add_argument("--child", nargs=2, metavar=("FILE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"{'lines':>10} {'mode':>9} {'validate':>9} {'iterate':>8} {'total':>7} "
        f"{'CPU':>7} {'lines/s':>10} {'peak RSS':>9}"
    )
    for lines in args.lines:
        path = out / f"dsr_{lines}.tsv{'.gz' if args.gz else ''}"
        if not path.exists():
            t = time.perf_counter()
            generate_dsr(path, lines)
            print(f"(generated {path.name} in {time.perf_counter() - t:.1f} s)")
        modes = ["records", "lines"] if args.gz else ["baseline", "records", "lines"]
        for mode in modes:
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(path), mode],
                check=True,
                capture_output=True,
                text=True,
                cwd=HERE.parent,
            )
            r = json.loads(result.stdout)
            rate = r["lines"] / r["total_s"]
            print(
                f"{lines:>10} {mode:>9} {r.get('validate_s', 0):>8.2f}s "
                f"{r.get('iterate_s', 0):>7.2f}s {r['total_s']:>6.2f}s {r['cpu_s']:>6.2f}s "
                f"{rate:>10,.0f} "
                f"{r['peak_mb']:>6} MB"
            )


if __name__ == "__main__":
    main()
