"""Reading the finance team's input files: the CLI reads them, the services take values.

Every problem names the file (and, from the parsers, its line and field), and
nothing is changed when a file cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ledger.domain.errors import InputError, Problem

if TYPE_CHECKING:
    from ledger.domain.fx import Rates
    from ledger.parsers import Mapping


def read_text(path: Path) -> str:
    """A UTF-8 text file (a byte-order mark is dropped), or an InputError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError([Problem(str(path), None, None, "file not found")]) from None
    except IsADirectoryError:
        raise InputError([Problem(str(path), None, None, "is a folder, not a file")]) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(str(path), None, None, f"not UTF-8 text ({exc.reason})")]
        ) from None


def read_rates(path: Path) -> Rates:
    """A rates file (``period,currency,rate``) as the period's rates."""
    from ledger.domain.fx import parse_rates

    return parse_rates(read_text(path), str(path))


def read_mapping(path: Path) -> Mapping:
    """A column mapping (YAML) for a CSV or TSV file."""
    from ledger.parsers import parse_mapping

    return parse_mapping(read_text(path), str(path))
