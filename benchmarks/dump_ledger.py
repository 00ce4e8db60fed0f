"""Dump whole ledgers as canonical text, to prove that a refactor changed no behaviour.

The script builds the same ledgers with any checkout of this project and writes
what they hold and what the CLI prints as sorted, stable text files (one row per
line), with a SHA-256 for each. Two dumps made with two checkouts (before and
after a refactor) must be byte-identical; ``--compare`` says so or lists every
file that differs with its first differing lines.

It never imports the project's packages (``ledger``, ``cli``, ``api``, ...), whose
modules may move: every step runs the installed ``royalty`` command
(``--royalty PATH``) as a subprocess, and the tables are read with raw SQL
(``sqlite3`` from the standard library, ``psycopg`` for PostgreSQL).

Ledgers (each into ``OUT/<ledger>/``; databases and files in ``OUT/_work/``):

* ``sqlite-demo``: ``royalty demo --out demo`` (always SQLite, in ``demo/royalty.db``),
  then ``royalty statements --period 2026-10 --out statements-cli`` (an open period,
  so nothing is issued).
* ``sqlite-month``: a generated 200,000-line DDEX DSR (``benchmarks/gen_dsr.py`` of the
  checkout, seed 2026, 5,000 ISRCs, EUR and USD; the ISRCs of registrant QZK6H are
  not in the catalog and go to suspense), with the catalog, agreements and rates of
  ``benchmarks/bench_import_split.py``, run through the CLI: ``init``, ``catalog
  load``, ``agreements load``, ``import --period --fx``, ``split``, ``pay``,
  ``period close``, ``statements --out`` (a closed period: statements are issued).
* with ``--db-url postgresql://USER@HOST:PORT/NAME``: ``pg-month`` (the same steps)
  and ``pg-demo`` (``royalty demo`` is SQLite only, so the demo month is replayed
  step by step through the CLI: the shipped examples, the demo's revenue files,
  ``import`` one file at a time in the demo's order, ``split``, ``pay``,
  ``statements``), each in a fresh database ``NAME_demo`` / ``NAME_month`` created
  and dropped through ``--pg-admin`` (kept with ``--keep-db``).

What is compared (``OUT/<ledger>/``):

* ``postings.tsv``: every posting (id, entry_id, account code, currency,
  amount_whole, amount_frac, isrc, source, territory, usage, usage_period, rule_ref,
  memo); ``journal_entries.tsv``: id, idempotency_key, period, kind, description,
  source_ref, reverses_id, content_hash; ``revenue_lines.tsv`` (every column),
  ``revenue_imports.tsv`` (all but imported_at), ``split_runs.tsv`` (all but
  created_at), ``payouts.tsv`` (all but created_at), ``account_totals.tsv`` (every
  column and the account code); all ordered by id.
* ``table_<name>.tsv``: every other table (accounts, parties, tracks, contributions,
  documents, periods, settings, ledger head, ...; not issued_statement, see below),
  every column, ordered by all columns; clock columns (below) are written as
  ``<clock>`` (or ``\\N`` when null); text over 4,096 characters (a loaded
  document) as its SHA-256.
* ``schema.txt``: tables, columns, indexes, constraints and triggers.
* ``issued_statements.tsv``: party, period, format, the SHA-256 of the issued
  content once normalised (below), whether the stored sha256 is the SHA-256 of the
  stored bytes, and whether those bytes are the file ``royalty statements`` wrote.
* ``statement_files.tsv``: every statement file written to disk (``royalty demo``,
  ``royalty statements --out``), name -> SHA-256 of its normalised text, and that
  text in ``statements/<dir>__<name>.txt`` (CSV: the text; PDF: the page count and
  the text of every page, extracted with pypdf, runs of blanks made one).
* ``cmd_<name>.txt``: the command line, exit code, stdout and stderr of read
  commands: ``balances`` (``--period``, ``--json``, all time), ``ledger
  trial-balance`` (and ``--json``), ``suspense list`` (and ``--json``), ``split
  --dry-run`` (and ``--json``), ``pay --dry-run``, ``ledger trace --party X --period
  P`` (and ``--json``), ``ledger trace ID`` of an import and of a split posting,
  ``period list --json``, ``agreements explain``, importing a file again (refused),
  ``ledger verify``, ``export beancount``.
* ``build_<nn>_<name>.txt``: the same for every command that built the ledger.
* ``inputs.tsv``: SHA-256 of every input file (revenue files, catalog, agreements,
  rates, the checkout's examples), so a comparison also proves equal inputs.

What is masked, and why: the ledger's clock. ``journal_entry.posted_at`` and
every ``*_at`` column hold the time of the run, and the hash chain
(``prev_hash``, ``hash``, ``ledger_head.last_hash``) hashes ``posted_at``, so they
differ on every run. Those columns are left out (the tables above) or written as
``<clock>``. In all text written (CLI output, statements, tables) three regexes
mask what comes from them:

* a chain hash: any run of 8 to 64 lowercase hex digits that is a prefix of a
  ``hash``/``prev_hash``/``last_hash`` stored in this ledger -> ``<chain-hash>``
  (``ledger verify``'s chain head, a statement's "entry #15 hash 641feae592ef76a7",
  the beancount export's ``hash:``); a run of fewer than 16 digits without a letter
  is taken for a number and kept. File hashes and content hashes are kept.
* a date of this run (UTC or local, from the start of the run to now) ->
  ``<run-date>``, with a time of day after it -> ``<run-time>``
  (``posted_at``, "already imported ... 2026-12-04 18:03 UTC", a statement's
  "Issued" date, which is the close date or the latest posting's date). Dates of
  the input files (2026-10-01, 2026-11-05, ...) are kept.
* the absolute paths of the work folder, the inputs and the checkout, and the
  database URL and name -> ``<work>``, ``<inputs>``, ``<checkout>``, ``<db>``,
  ``<dbname>``.

The raw SHA-256 of statement files and issued statements hash those dates and
chain hashes, so they go to ``OUT/info/`` with the timings and the run's details;
``info/`` is written but never compared. What the masks hide is therefore not
proven equal: the format of ``posted_at`` and how the chain is hashed. ``ledger
verify`` (compared) still proves that each ledger's chain is whole and checks.

A build step that fails stops the run; a read command's exit code and stderr are
part of its file, so a command that starts failing after a refactor shows up as
a difference.

Inputs: the DSR is generated with the checkout's own generator and must equal
the copy in ``--inputs`` (default ``OUT/../inputs``) byte for byte (the run stops
otherwise); the first run fills ``--inputs`` (the DSR, catalog, agreements,
rates, and the demo's revenue files, which ``pg-demo`` imports).

Before and after a refactor (on this 2-core machine: about 4 minutes on SQLite
alone, 9 to 10 with PostgreSQL too; of that, the month's five 290-page PDF
statements take about a minute to write and 20 s to read back per database).
OUT is emptied first (only if it holds an earlier dump):

    python benchmarks/dump_ledger.py --royalty /work/baseline/.venv/bin/royalty \\
        --out /work/dumps/baseline --inputs /work/dumps/inputs \\
        --db-url postgresql://postgres@127.0.0.1:5432/rl_dump
    python benchmarks/dump_ledger.py --royalty /work/main/.venv/bin/royalty \\
        --out /work/dumps/main-after --inputs /work/dumps/inputs \\
        --db-url postgresql://postgres@127.0.0.1:5432/rl_dump
    python benchmarks/dump_ledger.py --compare /work/dumps/baseline /work/dumps/main-after

Any Python 3.11 with psycopg (for PostgreSQL) and pypdf (for PDF text) runs it, e.g.
a checkout's ``.venv/bin/python``. ``--compare`` exits 0 when every compared file
is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

PERIOD = "2026-10"
MONTH_LINES = 200_000
SEED = 2026
ISRCS = 5000
DSR_NAME = f"bench_{MONTH_LINES}.tsv"
REGISTRANTS = ("USRW1", "GBAYE", "DEA12", "FRZ03", "QZK6H")  # as in benchmarks/gen_dsr.py
DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
CLOCK_COLUMNS = frozenset(
    {
        "posted_at",
        "prev_hash",
        "hash",
        "last_hash",
        "imported_at",
        "created_at",
        "loaded_at",
        "closed_at",
        "released_at",
        "revoked_at",
        "token_hash",  # a random token's hash
    }
)
LONG_TEXT = 4096  # longer values (documents kept verbatim) are written as their SHA-256
NULL = "\\N"

# ---------------------------------------------------------------------------
# The month's catalog, agreements and rates (as benchmarks/bench_import_split.py)


def _isrc(i: int) -> str:
    return f"{REGISTRANTS[i % len(REGISTRANTS)]}26{i:05d}"


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

RATES = "period,currency,rate\n2026-10,EUR,1.0812\n"

# ---------------------------------------------------------------------------
# Small helpers


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fail(msg: str, code: int = 2) -> None:
    say(f"error: {msg}")
    raise SystemExit(code)


def cell(value: Any) -> str:
    """One value as one tab-free, newline-free field."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return f"<bytes sha256={sha256_bytes(value)} len={len(value)}>"
    if isinstance(value, float):
        return f"<float {value!r}>"  # money is never a float: make one visible
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if len(text) > LONG_TEXT:
        return f"<text sha256={sha256_bytes(text.encode())} chars={len(text)}>"
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# ---------------------------------------------------------------------------
# Masks


class Masker:
    """Masks what depends on the clock (chain hashes, this run's dates) and on paths."""

    HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{8,64}(?![0-9A-Za-z])")
    DATE = re.compile(
        r"(?<!\d)(\d{4}-\d{2}-\d{2})"
        r"((?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:Z|[+-]\d{2}:?\d{2}|\s?UTC)?)?(?!\d)"
    )

    def __init__(self, started: dt.datetime, replacements: Sequence[tuple[str, str]]) -> None:
        self.started = started
        self.chain: list[str] = []
        self._dates: set[str] = set()
        self._dates_at = -10.0
        self.replacements = sorted(
            ((a, b) for a, b in replacements if a), key=lambda ab: -len(ab[0])
        )

    def set_chain(self, hashes: Iterable[str]) -> None:
        self.chain = sorted({h.lower() for h in hashes if h})

    def run_dates(self) -> set[str]:
        if time.monotonic() - self._dates_at < 1.0:
            return self._dates
        now = dt.datetime.now(dt.UTC)
        out: set[str] = set()
        for tz in (dt.UTC, None):
            start = self.started.astimezone(tz).date()
            end = now.astimezone(tz).date()
            day = start
            while day <= end:
                out.add(day.isoformat())
                day += dt.timedelta(days=1)
        self._dates, self._dates_at = out, time.monotonic()
        return out

    def _hex(self, m: re.Match[str]) -> str:
        h = m.group(0)
        if len(h) < 16 and h.isdigit():
            return h  # a number (an amount's digits), not a hash
        i = bisect.bisect_left(self.chain, h)
        if i < len(self.chain) and self.chain[i].startswith(h):
            return "<chain-hash>"
        return h

    def __call__(self, text: str) -> str:
        for a, b in self.replacements:
            if a in text:
                text = text.replace(a, b)
        if self.chain:
            text = self.HEX.sub(self._hex, text)
        dates = self.run_dates()

        def date(m: re.Match[str]) -> str:
            if m.group(1) not in dates:
                return m.group(0)
            return "<run-time>" if m.group(2) else "<run-date>"

        return self.DATE.sub(date, text)


# ---------------------------------------------------------------------------
# Database access (raw SQL)


class Reader:
    """Raw SQL on either database; ``?`` placeholders."""

    def __init__(self, *, sqlite_path: Path | None = None, pg_url: str | None = None) -> None:
        self.pg = pg_url is not None
        if pg_url is not None:
            import psycopg

            self.conn: Any = psycopg.connect(pg_url, autocommit=False)
        else:
            assert sqlite_path is not None
            self.conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
        self._n = 0

    def close(self) -> None:
        with suppress(Exception):
            self.conn.rollback()
        self.conn.close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        if self.pg:
            sql = sql.replace("?", "%s")
            self._n += 1
            cur = self.conn.cursor(name=f"dump_{self._n}")  # server side: flat memory
            cur.itersize = 20_000
        else:
            cur = self.conn.cursor()
        try:
            cur.execute(sql, tuple(params))
            yield from cur
        finally:
            cur.close()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        for row in self.rows(sql, params):
            return row[0]
        return None

    def tables(self) -> list[str]:
        if self.pg:
            sql = (
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_type = 'BASE TABLE'"
            )
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        return sorted(r[0] for r in self.rows(sql))

    def columns(self, table: str) -> list[str]:
        if self.pg:
            return [
                r[0]
                for r in self.rows(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                    " 'public' AND table_name = ? ORDER BY ordinal_position",
                    (table,),
                )
            ]
        return [r[1] for r in self.rows(f'PRAGMA table_info("{table}")')]

    def schema(self) -> list[str]:
        if not self.pg:
            return [
                "\t".join(cell(v) for v in r)
                for r in self.rows(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master"
                    " WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
                )
            ]
        queries = [
            "SELECT 'column', table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_schema = 'public'"
            " ORDER BY table_name, ordinal_position",
            "SELECT 'index', tablename, indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = 'public' ORDER BY tablename, indexname",
            "SELECT 'constraint', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
            " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE n.nspname = 'public' ORDER BY 2, 3",
            "SELECT 'trigger', t.tgrelid::regclass::text, t.tgname, pg_get_triggerdef(t.oid)"
            " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 2, 3",
            "SELECT 'function', p.proname, pg_get_functiondef(p.oid) FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
            " ORDER BY 2, 3",
        ]
        return ["\t".join(cell(v) for v in r) for q in queries for r in self.rows(q)]


# ---------------------------------------------------------------------------
# One dump run


class Dumper:
    def __init__(self, args: argparse.Namespace) -> None:
        self.started = dt.datetime.now(dt.UTC)
        self.royalty = Path(args.royalty).absolute()
        if not self.royalty.exists():
            fail(f"{self.royalty}: no such royalty command")
        self.checkout = (
            Path(args.checkout).absolute()
            if args.checkout
            else self.royalty.parent.parent.parent  # CHECKOUT/.venv/bin/royalty
        )
        if not (self.checkout / "examples" / "catalog.yaml").exists():
            fail(f"{self.checkout} is not a checkout of this project: pass --checkout DIR")
        python = self.royalty.parent / "python"
        self.python = python if python.exists() else Path(sys.executable)
        self.out = Path(args.out).absolute()
        self.inputs = (
            Path(args.inputs).absolute() if args.inputs else self.out.parent / "inputs"
        ).absolute()
        self.work = self.out / "_work"
        self.info = self.out / "info"
        self.db_url: str | None = args.db_url
        self.pg_admin: str = args.pg_admin
        self.keep_db: bool = args.keep_db
        self.ledgers = [x.strip() for x in args.ledgers.split(",") if x.strip()]
        for x in self.ledgers:
            if x not in ("demo", "month"):
                fail(f"--ledgers: unknown ledger {x!r} (demo, month)")
        self.timings: list[tuple[str, float]] = []
        self.raw_hashes: list[str] = []
        self.summary: list[tuple[str, str]] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ROYALTY_")}
        self.env.update(
            PYTHONDONTWRITEBYTECODE="1",  # leave no __pycache__ in the checkout
            PYTHONIOENCODING="utf-8",
            PYTHONUTF8="1",
            LC_ALL="C.UTF-8",
            LANG="C.UTF-8",
            TZ="UTC",
            COLUMNS="200",
            LINES="50",
            TERM="dumb",
            NO_COLOR="1",
        )
        self.env.pop("FORCE_COLOR", None)

    # -- running royalty ------------------------------------------------------

    def royalty_cmd(
        self, ledger: Ledger, args: Sequence[str], *, db: bool = True
    ) -> tuple[int, str, str, float]:
        cmd = [str(self.royalty), *(["--db", ledger.url] if db else []), *args]
        start = time.perf_counter()
        proc = subprocess.run(
            cmd,
            cwd=ledger.work,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        took = time.perf_counter() - start
        out = proc.stdout.decode("utf-8", "replace")
        err = proc.stderr.decode("utf-8", "replace")
        return proc.returncode, out, err, took

    def step(
        self, ledger: Ledger, name: str, args: Sequence[str], *, db: bool = True, ok: bool = True
    ) -> int:
        """Run one command and keep its output for the dump (masked when written)."""
        say(f"  {ledger.name}: royalty {' '.join(args)}")
        code, out, err, took = self.royalty_cmd(ledger, args, db=db)
        self.timings.append((f"{ledger.name} {name}", took))
        shown = ["royalty", *(["--db", "<db>"] if db else []), *args]
        ledger.outputs.append(
            (name, f"$ {' '.join(shown)}\nexit: {code}\n--- stdout\n{out}--- stderr\n{err}")
        )
        if ok and code != 0:
            fail(f"{ledger.name}: royalty {' '.join(args)} failed ({code}):\n{err.strip()}", 1)
        return code

    # -- inputs ---------------------------------------------------------------

    def month_inputs(self) -> dict[str, Path]:
        folder = self.inputs / "month"
        folder.mkdir(parents=True, exist_ok=True)
        texts = {
            "catalog.yaml": catalog_yaml(ISRCS),
            "agreements.yaml": AGREEMENTS,
            "rates.csv": RATES,
        }
        for name, text in texts.items():
            path = folder / name
            if not path.exists():
                path.write_text(text, encoding="utf-8")
            elif path.read_text("utf-8") != text:
                say(f"warning: {path} differs from this script's {name}; using the inputs copy")
        dsr = folder / DSR_NAME
        gen = self.checkout / "benchmarks" / "gen_dsr.py"
        if gen.exists():
            made = self.work / "gen" / DSR_NAME
            made.parent.mkdir(parents=True, exist_ok=True)
            say(f"generating {MONTH_LINES:,} DSR lines with {gen} (seed {SEED})")
            start = time.perf_counter()
            subprocess.run(
                [
                    str(self.python),
                    str(gen),
                    "--lines",
                    str(MONTH_LINES),
                    "--isrcs",
                    str(ISRCS),
                    "--seed",
                    str(SEED),
                    "--out",
                    str(made),
                ],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                check=True,
            )
            self.timings.append(("generate DSR", time.perf_counter() - start))
            got = sha256_file(made)
            self.raw_hashes.append(f"dsr generated by this checkout\t{got}")
            if not dsr.exists():
                shutil.copyfile(made, dsr)
            elif sha256_file(dsr) != got:
                fail(
                    f"{gen} wrote a DSR ({got}) that differs from {dsr} ({sha256_file(dsr)}):"
                    " the two checkouts would not read the same input"
                )
            made.unlink()
        elif not dsr.exists():
            fail(f"no {gen} to generate the DSR, and no {dsr} to reuse")
        else:
            say(f"warning: no {gen}; reusing {dsr}")
        return {name: folder / name for name in (*texts, DSR_NAME)}

    # -- ledgers ----------------------------------------------------------------

    def run(self) -> None:
        if self.out.exists() and any(self.out.iterdir()):
            if not (self.out / "info" / "run.json").exists() and not (self.out / "_work").exists():
                fail(f"{self.out} is not empty and holds no dump: pick another --out")
            for child in self.out.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        self.out.mkdir(parents=True, exist_ok=True)
        self.work.mkdir(parents=True)
        self.info.mkdir(parents=True)
        total = time.perf_counter()
        month = self.month_inputs() if "month" in self.ledgers else {}
        built: list[Ledger] = []
        if "demo" in self.ledgers:
            built.append(self.sqlite_demo())
        if "month" in self.ledgers:
            built.append(self.month("sqlite-month", month))
        if self.db_url:
            if "demo" in self.ledgers:
                built.append(self.pg_demo())
            if "month" in self.ledgers:
                built.append(self.month("pg-month", month))
        self.timings.append(("total", time.perf_counter() - total))
        self.write_info(built)
        self.print_summary(built)

    def new_ledger(self, name: str) -> Ledger:
        return Ledger(self, name)

    def sqlite_demo(self) -> Ledger:
        lg = self.new_ledger("sqlite-demo")
        lg.url = "sqlite:///demo/royalty.db"
        self.step(lg, "demo", ["demo", "--out", "demo"], db=False)
        revenue = lg.work / "demo" / "revenue"
        saved = self.inputs / "demo-revenue"
        if not saved.exists():
            shutil.copytree(revenue, saved)
        for path in sorted(revenue.iterdir()):
            lg.inputs[f"demo/revenue/{path.name}"] = path
            kept = saved / path.name
            if not kept.exists() or sha256_file(kept) != sha256_file(path):
                say(f"warning: {path.name} of this demo differs from {kept}")
        self.add_examples(lg)
        self.step(lg, "statements", ["statements", "--period", PERIOD, "--out", "statements-cli"])
        lg.finish(
            sqlite_path=lg.work / "demo" / "royalty.db",
            party="rust",
            isrc="USRW12600001",
            reimport="demo/revenue/DistroKid_bank_details_2026-10.tsv",
        )
        return lg

    def add_examples(self, lg: Ledger) -> None:
        for path in sorted((self.checkout / "examples").iterdir()):
            if path.is_file():
                lg.inputs[f"<checkout>/examples/{path.name}"] = path

    def pg_demo(self) -> Ledger:
        lg = self.new_ledger("pg-demo")
        pg = self.fresh_pg("demo")
        lg.url = pg
        shutil.copytree(self.checkout / "examples", lg.work / "examples")
        self.add_examples(lg)
        saved = self.inputs / "demo-revenue"
        if not saved.exists():
            fail(f"no {saved}: run the sqlite demo first (it writes the demo's revenue files)")
        shutil.copytree(saved, lg.work / "revenue")
        # the order of ledger/demo.py's generate_month: StreamCo US, GB, DE, then DistroKid
        files = sorted(
            (lg.work / "revenue").iterdir(),
            key=lambda p: (
                p.name.startswith("DistroKid"),
                {"US": 0, "GB": 1, "DE": 2}.get(p.name.split("_")[-3], 9)
                if p.name.startswith("DSR")
                else 0,
                p.name,
            ),
        )
        self.step(lg, "init", ["init", "--currency", "USD"])
        self.step(lg, "catalog", ["catalog", "load", "examples/catalog.yaml"])
        self.step(lg, "agreements", ["agreements", "load", "examples/agreements.yaml"])
        self.step(
            lg,
            "attribution",
            ["attribution", "load", f"examples/attribution-{PERIOD}.csv", "--period", PERIOD],
        )
        for i, path in enumerate(files, 1):
            lg.inputs[f"revenue/{path.name}"] = path
            self.step(
                lg,
                f"import_{i}",
                [
                    "import",
                    f"revenue/{path.name}",
                    "--period",
                    PERIOD,
                    "--fx",
                    f"examples/rates-{PERIOD}.csv",
                ],
            )
        self.step(lg, "split", ["split", "--period", PERIOD])
        self.step(lg, "pay", ["pay", "--period", PERIOD])
        self.step(lg, "statements", ["statements", "--period", PERIOD, "--out", "statements-cli"])
        lg.finish(
            pg_url=pg,
            party="rust",
            isrc="USRW12600001",
            reimport="revenue/DistroKid_bank_details_2026-10.tsv",
        )
        return lg

    def month(self, name: str, inputs: dict[str, Path]) -> Ledger:
        lg = self.new_ledger(name)
        pg = self.fresh_pg("month") if name.startswith("pg") else None
        lg.url = pg or "sqlite:///ledger.db"
        for file, path in inputs.items():
            shutil.copyfile(path, lg.work / file)
            lg.inputs[file] = lg.work / file
        self.step(lg, "init", ["init", "--currency", "USD"])
        self.step(lg, "catalog", ["catalog", "load", "catalog.yaml"])
        self.step(lg, "agreements", ["agreements", "load", "agreements.yaml"])
        self.step(lg, "import", ["import", DSR_NAME, "--period", PERIOD, "--fx", "rates.csv"])
        self.step(lg, "split", ["split", "--period", PERIOD])
        self.step(lg, "pay", ["pay", "--period", PERIOD])
        self.step(lg, "close", ["period", "close", PERIOD])
        self.step(lg, "statements", ["statements", "--period", PERIOD, "--out", "statements"])
        lg.finish(
            sqlite_path=None if pg else lg.work / "ledger.db",
            pg_url=pg,
            party="producer",
            isrc=_isrc(0),
            reimport=DSR_NAME,
        )
        return lg

    # -- PostgreSQL -----------------------------------------------------------

    def fresh_pg(self, kind: str) -> str:
        """A new, empty database NAME_<kind>; its URL (the form royalty takes)."""
        import psycopg
        import psycopg.conninfo

        assert self.db_url is not None
        base_url, _, query = self.db_url.partition("?")
        server, _, base = base_url.rpartition("/")
        admin_db = psycopg.conninfo.conninfo_to_dict(self.pg_admin).get("dbname")
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,50}", base) or base in (
            "postgres",
            "template0",
            "template1",
            admin_db,
        ):
            fail(f"--db-url: pick a database name of its own ([a-z0-9_], not {base!r})")
        name = f"{base}_{kind}"
        with psycopg.connect(self.pg_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        return f"{server}/{name}" + (f"?{query}" if query else "")

    def drop_pg(self, url: str) -> None:
        import psycopg

        name = url.partition("?")[0].rsplit("/", 1)[1]
        with psycopg.connect(self.pg_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # -- info and summary -------------------------------------------------------

    def write_info(self, built: list[Ledger]) -> None:
        git = ""
        with suppress(Exception):
            head = subprocess.run(
                ["git", "-C", str(self.checkout), "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            dirty = subprocess.run(
                ["git", "-C", str(self.checkout), "status", "--porcelain"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.splitlines()
            git = f"{head} ({len(dirty)} changed paths in the working tree)"
        run = {
            "started": self.started.isoformat(),
            "finished": dt.datetime.now(dt.UTC).isoformat(),
            "royalty": str(self.royalty),
            "checkout": str(self.checkout),
            "git": git,
            "inputs": str(self.inputs),
            "db_url": self.db_url,
            "ledgers": [lg.name for lg in built],
            "python": sys.version,
        }
        (self.info / "run.json").write_text(json.dumps(run, indent=2) + "\n")
        (self.info / "timings.tsv").write_text(
            "".join(f"{name}\t{secs:.2f}\n" for name, secs in self.timings)
        )
        (self.info / "raw_hashes.tsv").write_text("".join(f"{x}\n" for x in self.raw_hashes))

    def print_summary(self, built: list[Ledger]) -> None:
        lines = [f"{h}  {name}" for name, h in self.summary]
        (self.out / "SHA256SUMS").write_text("".join(f"{x}\n" for x in lines))
        width = max((len(n) for n, _ in self.summary), default=10)
        print(f"{'name':{width}s}  sha256")
        for name, h in self.summary:
            print(f"{name:{width}s}  {h}")
        print()
        for lg in built:
            digest = sha256_bytes(
                "".join(
                    f"{h}  {n}\n" for n, h in self.summary if n.startswith(lg.name + "/")
                ).encode()
            )
            print(f"{lg.name:{width}s}  {digest}  (all its files)")
        secs = dict(self.timings).get("total", 0.0)
        print(f"\n{len(self.summary)} files in {self.out} ({secs:.1f} s); timings in info/")


class Ledger:
    """One ledger being built and dumped."""

    def __init__(self, dumper: Dumper, name: str) -> None:
        self.d = dumper
        self.name = name
        self.url = ""
        self.work = dumper.work / name
        self.work.mkdir(parents=True)
        self.dump = dumper.out / name
        self.dump.mkdir(parents=True)
        self.outputs: list[tuple[str, str]] = []
        self.inputs: dict[str, Path] = {}
        self.mask: Masker | None = None
        self.normalised: dict[tuple[str, str], tuple[str, list[str]]] = {}

    # -- the read commands ------------------------------------------------------

    def read_commands(self, reader: Reader, party: str, isrc: str, reimport: str) -> None:
        first = reader.one("SELECT min(id) FROM posting")
        split_posting = reader.one(
            "SELECT min(p.id) FROM posting p JOIN account a ON a.id = p.account_id"
            " JOIN journal_entry e ON e.id = p.entry_id WHERE a.code = ? AND e.kind = 'split'",
            (f"payable:{party}",),
        )
        commands: list[tuple[str, list[str]]] = [
            ("balances", ["balances", "--period", PERIOD]),
            ("balances_json", ["balances", "--period", PERIOD, "--json"]),
            ("balances_all_time", ["balances"]),
            ("trial_balance", ["ledger", "trial-balance"]),
            ("trial_balance_json", ["ledger", "trial-balance", "--json"]),
            ("suspense_list", ["suspense", "list"]),
            ("suspense_list_json", ["suspense", "list", "--json"]),
            ("split_dry_run", ["split", "--period", PERIOD, "--dry-run"]),
            ("split_dry_run_json", ["split", "--period", PERIOD, "--dry-run", "--json"]),
            ("pay_dry_run", ["pay", "--period", PERIOD, "--dry-run"]),
            ("trace_party", ["ledger", "trace", "--party", party, "--period", PERIOD]),
            (
                "trace_party_json",
                ["ledger", "trace", "--party", party, "--period", PERIOD, "--json"],
            ),
            ("trace_posting_import", ["ledger", "trace", str(first)]),
            ("trace_posting_split", ["ledger", "trace", str(split_posting)]),
            ("trace_posting_split_json", ["ledger", "trace", str(split_posting), "--json"]),
            ("period_list_json", ["period", "list", "--json"]),
            (
                "agreements_explain",
                [
                    "agreements",
                    "explain",
                    "--isrc",
                    isrc,
                    "--territory",
                    "US",
                    "--period",
                    PERIOD,
                    "--quantity",
                    "1000000",
                ],
            ),
            ("import_again_refused", ["import", reimport, "--period", PERIOD, "--dry-run"]),
            ("verify", ["ledger", "verify"]),
            ("export_beancount", ["export", "beancount"]),
        ]
        for name, args in commands:
            self.d.step(self, f"cmd_{name}", args, ok=False)

    # -- finishing: commands, tables, statements ------------------------------

    def finish(
        self,
        *,
        sqlite_path: Path | None = None,
        pg_url: str | None = None,
        party: str,
        isrc: str,
        reimport: str,
    ) -> None:
        reader = Reader(sqlite_path=sqlite_path, pg_url=pg_url)
        try:
            self.read_commands(reader, party, isrc, reimport)
            reader.conn.rollback()  # a fresh snapshot after the commands
            replacements = [
                (str(self.work), "<work>"),
                (str(self.work.resolve()), "<work>"),
                (str(self.d.inputs), "<inputs>"),
                (str(self.d.checkout), "<checkout>"),
                (str(self.d.out), "<out>"),
            ]
            if pg_url:
                name = pg_url.partition("?")[0].rsplit("/", 1)[1]
                plus = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
                replacements += [(plus, "<db>"), (pg_url, "<db>"), (name, "<dbname>")]
            else:
                replacements += [(self.url, "<db>")]
            self.mask = Masker(self.d.started, replacements)
            self.mask.set_chain(
                itertools.chain(
                    (
                        h
                        for r in reader.rows("SELECT prev_hash, hash FROM journal_entry")
                        for h in r
                    ),
                    (r[0] for r in reader.rows("SELECT last_hash FROM ledger_head")),
                )
            )
            for what, dump in (
                ("outputs", self.write_outputs),
                ("tables", lambda: self.write_tables(reader)),
                ("statements", lambda: self.write_statements(reader)),
                ("inputs", self.write_inputs),
            ):
                start = time.perf_counter()
                dump()
                self.d.timings.append((f"{self.name} dump {what}", time.perf_counter() - start))
        finally:
            reader.close()
        if pg_url and not self.d.keep_db:
            self.d.drop_pg(pg_url)

    def write(self, rel: str, lines: Iterable[str], *, header: str | None = None) -> None:
        """Write masked lines to the dump and note the file's SHA-256."""
        assert self.mask is not None
        path = self.dump / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        with path.open("w", encoding="utf-8", newline="\n") as f:
            buf: list[str] = []
            if header is not None:
                buf.append(header + "\n")
            for line in lines:
                buf.append(self.mask(line) + "\n")
                if len(buf) >= 10_000:
                    chunk = "".join(buf)
                    f.write(chunk)
                    h.update(chunk.encode())
                    buf = []
            chunk = "".join(buf)
            f.write(chunk)
            h.update(chunk.encode())
        self.d.summary.append((f"{self.name}/{rel}", h.hexdigest()))

    def write_outputs(self) -> None:
        n = 0
        for name, text in self.outputs:
            if name.startswith("cmd_"):
                rel = f"{name}.txt"
            else:
                n += 1
                rel = f"build_{n:02d}_{name}.txt"
            self.write(rel, text.splitlines())

    def query_table(self, reader: Reader, rel: str, columns: Sequence[str], sql: str) -> None:
        rows = ("\t".join(cell(v) for v in row) for row in reader.rows(sql))
        self.write(rel, rows, header="#" + "\t".join(columns))

    def write_tables(self, reader: Reader) -> None:
        explicit: dict[str, tuple[str, list[str], str]] = {
            "posting": (
                "postings.tsv",
                [
                    "id",
                    "entry_id",
                    "account",
                    "currency",
                    "amount_whole",
                    "amount_frac",
                    "isrc",
                    "source",
                    "territory",
                    "usage",
                    "usage_period",
                    "rule_ref",
                    "memo",
                ],
                "SELECT p.id, p.entry_id, a.code, p.currency, p.amount_whole, p.amount_frac,"
                " p.isrc, p.source, p.territory, p.usage, p.usage_period, p.rule_ref, p.memo"
                " FROM posting p JOIN account a ON a.id = p.account_id ORDER BY p.id",
            ),
            "journal_entry": (
                "journal_entries.tsv",
                [
                    "id",
                    "idempotency_key",
                    "period",
                    "kind",
                    "description",
                    "source_ref",
                    "reverses_id",
                    "content_hash",
                ],
                "",
            ),
            "revenue_line": ("revenue_lines.tsv", [], ""),
            "revenue_import": ("revenue_imports.tsv", [], ""),
            "split_run": ("split_runs.tsv", [], ""),
            "payout": ("payouts.tsv", [], ""),
            "account_total": ("account_totals.tsv", [], ""),
        }
        tables = reader.tables()
        for table, (rel, cols, sql) in explicit.items():
            if table not in tables:
                self.write(rel, [f"<no table {table}>"])
                continue
            if not cols:
                cols = [c for c in reader.columns(table) if c not in CLOCK_COLUMNS]
            if not sql:
                select = ", ".join(f"t.{c}" for c in cols)
                if table == "account_total":
                    cols = [*cols, "account"]
                    select += ", a.code"
                    sql = (
                        f"SELECT {select} FROM account_total t"
                        " JOIN account a ON a.id = t.account_id ORDER BY t.id"
                    )
                else:
                    sql = f"SELECT {select} FROM {table} t ORDER BY t.id"
            self.query_table(reader, rel, cols, sql)
        for table in tables:
            if table in explicit or table == "issued_statement":  # see write_statements
                continue
            cols = reader.columns(table)
            select = ", ".join(
                f"CASE WHEN {c} IS NULL THEN NULL ELSE '<clock>' END"
                if c in CLOCK_COLUMNS
                else f'"{c}"'
                for c in cols
            )
            order = ", ".join(str(i) for i in range(1, len(cols) + 1))
            self.query_table(
                reader,
                f"table_{table}.tsv",
                cols,
                f'SELECT {select} FROM "{table}" ORDER BY {order}',
            )
        self.write("schema.txt", reader.schema())

    # -- statements -------------------------------------------------------------

    def normalise_statement(self, name: str, data: bytes) -> list[str]:
        if name.endswith(".pdf"):
            try:
                import pypdf
            except ImportError:
                return [f"<pdf sha256={sha256_bytes(data)}: pypdf is not installed>"]
            import logging

            logging.getLogger("pypdf").setLevel(logging.ERROR)
            pdf = pypdf.PdfReader(io.BytesIO(data))
            lines = [f"pages: {len(pdf.pages)}"]
            for i, page in enumerate(pdf.pages, 1):
                lines.append(f"--- page {i}")
                lines += [" ".join(x.split()) for x in page.extract_text().splitlines()]
            return lines
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [f"<binary sha256={sha256_bytes(data)}>"]
        return text.splitlines()

    def normalised_sha(self, name: str, data: bytes) -> tuple[str, list[str]]:
        assert self.mask is not None
        key = (name.rsplit(".", 1)[-1], sha256_bytes(data))
        if key not in self.normalised:  # an issued statement is the file's bytes again
            lines = [self.mask(x) for x in self.normalise_statement(name, data)]
            self.normalised[key] = (sha256_bytes("".join(x + "\n" for x in lines).encode()), lines)
        return self.normalised[key]

    def write_statements(self, reader: Reader) -> None:
        files = sorted(
            p
            for folder in ("demo/statements", "statements-cli", "statements")
            if (self.work / folder).is_dir()
            for p in (self.work / folder).rglob("*")
            if p.is_file()
        )
        table = []
        on_disk: dict[str, bytes] = {}
        for path in files:
            rel = path.relative_to(self.work).as_posix()
            data = path.read_bytes()
            on_disk[rel] = data
            digest, lines = self.normalised_sha(path.name, data)
            table.append(f"{rel}\t{digest}")
            self.write(f"statements/{rel.replace('/', '__')}.txt", lines)
            self.d.raw_hashes.append(f"{self.name}\tfile\t{rel}\t{sha256_bytes(data)}")
        self.write("statement_files.tsv", table, header="#file\tnormalised_sha256")
        rows = []
        if "issued_statement" in reader.tables():
            for party, period, fmt, stored, content in reader.rows(
                "SELECT party_id, period, format, sha256, content FROM issued_statement"
                " ORDER BY party_id, period, format"
            ):
                data = bytes(content)
                name = f"statement_{period}_{party}.{fmt}"
                digest, _ = self.normalised_sha(name, data)
                same = [rel for rel, b in on_disk.items() if rel.endswith("/" + name)]
                same_text = (
                    "no file" if not same else ("same" if on_disk[same[0]] == data else "DIFFERENT")
                )
                rows.append(
                    "\t".join(
                        [
                            party,
                            period,
                            fmt,
                            digest,
                            "ok" if sha256_bytes(data) == stored else "MISMATCH",
                            same_text,
                        ]
                    )
                )
                self.d.raw_hashes.append(f"{self.name}\tissued\t{name}\t{stored}")
        self.write(
            "issued_statements.tsv",
            rows,
            header="#party\tperiod\tformat\tnormalised_sha256\tsha256_of_content\tfile_on_disk",
        )

    def write_inputs(self) -> None:
        self.write(
            "inputs.tsv",
            (f"{name}\t{sha256_file(path)}" for name, path in sorted(self.inputs.items())),
            header="#input\tsha256",
        )


# ---------------------------------------------------------------------------
# --compare


def dump_files(root: Path) -> dict[str, Path]:
    """Every compared file of a dump folder: ``<ledger>/...``, without info/ and _work/."""
    out: dict[str, Path] = {}
    for ledger in sorted(root.iterdir()):
        if not ledger.is_dir() or ledger.name.startswith("_") or ledger.name == "info":
            continue
        for path in sorted(ledger.rglob("*")):
            if path.is_file():
                out[path.relative_to(root).as_posix()] = path
    return out


def first_differences(a: Path, b: Path, limit: int = 5) -> list[str]:
    shown: list[str] = []
    count = 0
    lines_a = lines_b = 0
    with (
        a.open(encoding="utf-8", errors="replace") as fa,
        b.open(encoding="utf-8", errors="replace") as fb,
    ):
        for n, (x, y) in enumerate(itertools.zip_longest(fa, fb), 1):
            lines_a += x is not None
            lines_b += y is not None
            if x != y:
                count += 1
                if len(shown) < limit * 2:
                    shown.append(f"    line {n} A: {_clip(x)}")
                    shown.append(f"    line {n} B: {_clip(y)}")
    return [
        f"  {count} of {max(lines_a, lines_b)} lines differ by position"
        f" (A has {lines_a} lines, B {lines_b}); first ones:",
        *shown,
    ]


def _clip(line: str | None) -> str:
    if line is None:
        return "<no line>"
    line = line.rstrip("\n")
    return line if len(line) <= 300 else line[:300] + f"... ({len(line)} chars)"


def compare(a_dir: Path, b_dir: Path) -> int:
    for d in (a_dir, b_dir):
        if not d.is_dir():
            fail(f"{d}: no such dump folder")
    a, b = dump_files(a_dir), dump_files(b_dir)
    if not a and not b:
        fail("no dump files to compare")
    differ = same = 0
    for rel in sorted(a.keys() | b.keys()):
        if rel not in b:
            print(f"ONLY IN A: {rel}")
            differ += 1
        elif rel not in a:
            print(f"ONLY IN B: {rel}")
            differ += 1
        elif sha256_file(a[rel]) != sha256_file(b[rel]):
            print(f"DIFFERS: {rel}")
            for line in first_differences(a[rel], b[rel]):
                print(line)
            differ += 1
        else:
            same += 1
    print(
        f"\nA = {a_dir}\nB = {b_dir}\n{same} files identical, {differ} differing or missing"
        f" ({len(a)} files in A, {len(b)} in B)"
    )
    return 1 if differ else 0


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="See the module docstring for what is compared and masked.",
    )
    ap.add_argument("--royalty", help="the royalty command of the checkout to dump")
    ap.add_argument("--out", help="dump folder (emptied first)")
    ap.add_argument("--inputs", help="input files to reuse (default: OUT/../inputs)")
    ap.add_argument("--checkout", help="source checkout (default: the folder of .venv/bin/royalty)")
    ap.add_argument("--db-url", help="also on PostgreSQL: postgresql://USER@HOST:PORT/NAME")
    ap.add_argument(
        "--pg-admin", default=DEFAULT_ADMIN, help=f"admin URL (default {DEFAULT_ADMIN})"
    )
    ap.add_argument("--keep-db", action="store_true", help="keep the PostgreSQL databases")
    ap.add_argument("--ledgers", default="demo,month", help="demo, month or both (default)")
    ap.add_argument("--compare", nargs=2, metavar=("DIR_A", "DIR_B"), help="compare two dumps")
    args = ap.parse_args(argv)
    if args.compare:
        return compare(Path(args.compare[0]), Path(args.compare[1]))
    if not args.royalty or not args.out:
        ap.error("--royalty and --out are required (or --compare DIR_A DIR_B)")
    Dumper(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
