"""Start-up time of the `royalty` command: what every command pays before its own work.

Runs each command as a real process (the installed `royalty` script next to this
Python, or `python -c "from cli.main import run; run()"` with --no-script), a few
times, and prints the median wall time:

    royalty --help
    royalty balances --help
    royalty --db <fresh SQLite file> balances      (initialised, empty ledger)

With --db URL the last one runs on that database instead (it must be initialised;
nothing is written to it). --importtime also prints the import time of `cli.main`
(`python -X importtime`), i.e. what registering every command costs.

    python benchmarks/bench_startup.py [--runs 5] [--db URL] [--no-script] [--importtime]

Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def royalty_command(use_script: bool) -> list[str]:
    """The installed console script if there is one, else the same entry point via Python."""
    script = Path(sys.executable).with_name("royalty")
    if use_script and script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from cli.main import run; run()"]


def run_once(cmd: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "ROYALTY_DB"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def median_time(cmd: list[str], runs: int) -> tuple[float, float, float]:
    run_once(cmd)  # warm the OS file cache and the .pyc files; not counted
    times = [run_once(cmd) for _ in range(runs)]
    return statistics.median(times), min(times), max(times)


def import_time_ms() -> float:
    """Cumulative import time of cli.main in ms, as `python -X importtime` reports it."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import cli.main"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == "cli.main":
            return int(parts[1]) / 1000
    raise SystemExit("cli.main not found in the -X importtime output")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (median)")
    parser.add_argument("--db", help="an initialised database to run balances on")
    parser.add_argument(
        "--no-script",
        action="store_true",
        help="run `python -c 'from cli.main import run; run()'` instead of the royalty script",
    )
    parser.add_argument("--importtime", action="store_true", help="also time `import cli.main`")
    args = parser.parse_args()

    base = royalty_command(not args.no_script)
    print(f"command: {' '.join(base)}  (median of {args.runs} runs, after one warm-up run)")
    if args.importtime:
        figures = sorted(import_time_ms() for _ in range(args.runs))
        print(f"{'import cli.main (-X importtime)':<40} {statistics.median(figures):8.1f} ms")

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        db = args.db
        if db is None:
            db = str(Path(tmp) / "royalty.db")
            run_once([*base, "--db", db, "init"])
        cases = [
            ("royalty --help", [*base, "--help"]),
            ("royalty balances --help", [*base, "balances", "--help"]),
            ("royalty --db <db> balances", [*base, "--db", db, "balances"]),
        ]
        for label, cmd in cases:
            med, low, high = median_time(cmd, args.runs)
            print(
                f"{label:<40} {med * 1000:8.1f} ms  (min {low * 1000:.1f}, max {high * 1000:.1f})"
            )


if __name__ == "__main__":
    main()
