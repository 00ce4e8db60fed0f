"""Bytes on disk to text lines: gzip, byte-order marks, declared encodings, content hash.

Every revenue parser reads its file through :func:`open_text`, so the quirks of
real files are handled once: ``.gz`` recognised by its magic bytes (not its
name), UTF-8 with or without a byte-order mark, UTF-16 LE/BE with a BOM, and
Latin-1 (or another codec) only when the caller declares it. Undeclared
non-UTF-8 bytes are an error naming the line, never a guess.

While the text is read, the *decompressed* bytes are hashed (SHA-256), so the
same report sent plain or gzipped has one content hash: the import service uses
it to refuse a file imported before.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ledger.domain.errors import InputError, Problem

_GZIP_MAGIC = b"\x1f\x8b"
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHUNK = 1 << 16


class _HashingReader(io.RawIOBase):
    """Raw stream over another binary stream that hashes every byte it hands out."""

    def __init__(
        self, inner: IO[bytes] | gzip.GzipFile, progress: Callable[[int], None] | None = None
    ) -> None:
        super().__init__()
        self._inner = inner
        self._on_disk = getattr(inner, "fileobj", None) or inner  # gzip: the compressed file
        self._progress = progress
        self.hash = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.hash.update(data)
        self.bytes_read += n
        if self._progress is not None:
            self._progress(self._on_disk.tell())
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


def _open_raw(path: Path) -> IO[bytes] | gzip.GzipFile:
    """The file's bytes, transparently gunzipped when it starts with the gzip magic."""
    fh = open(path, "rb")  # noqa: SIM115 - handed to the caller, who closes it
    if fh.peek(2)[:2] == _GZIP_MAGIC:
        fh.close()
        return gzip.GzipFile(path, "rb")
    return fh


def read_head(path: str | Path, size: int = 8192) -> bytes:
    """The first ``size`` decompressed bytes (for format detection); errors are InputErrors."""
    name = str(path)
    try:
        raw = _open_raw(Path(path))
        try:
            return raw.read(size)
        finally:
            raw.close()
    except OSError as exc:
        raise InputError([Problem(name, None, None, _os_message(exc))]) from None
    except (EOFError, zlib.error) as exc:
        raise InputError([Problem(name, None, None, f"damaged gzip data ({exc})")]) from None


def choose_encoding(head: bytes, declared: str | None) -> str:
    """The codec to read a file with: its BOM wins, then the declared encoding, then UTF-8.

    Raises :class:`LookupError` for an unknown declared encoding.
    """
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    if declared:
        info = codecs.lookup(declared)
        name = info.name
        # A UTF-8 declaration still accepts (and drops) a BOM if one is there.
        return "utf-8-sig" if name == "utf-8" else name
    return "utf-8-sig"


@dataclass(frozen=True, slots=True)
class ReadStats:
    """What reading the whole file produced: for the import's traceability record."""

    sha256: str
    size: int
    encoding: str


class TextSource:
    """One read of a file as text; iterate ``.stream`` (a text file) or ``lines()``.

    Use as a context manager. After the text has been read to the end,
    :meth:`finish` returns the content hash of the decompressed bytes.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        encoding: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """``progress(done, total)`` is called per 64 KiB read, in bytes on disk; ``name``
        is the file as problems name it (default: the path)."""
        self.name = name or str(path)
        self.path = Path(path)
        head = read_head(self.path, 4)
        try:
            self.encoding = choose_encoding(head, encoding)
        except LookupError:
            raise InputError(
                [
                    Problem(
                        self.name,
                        None,
                        "encoding",
                        f"unknown encoding {encoding!r}; use e.g. utf-8, utf-16, latin-1",
                    )
                ]
            ) from None
        try:
            on_chunk = None
            if progress is not None:
                total = self.path.stat().st_size
                report = progress

                def on_chunk(done: int) -> None:
                    report(done, total)

            self._raw = _HashingReader(_open_raw(self.path), on_chunk)
        except OSError as exc:
            raise InputError([Problem(self.name, None, None, _os_message(exc))]) from None
        buffered = io.BufferedReader(self._raw, _CHUNK)
        self.stream = io.TextIOWrapper(
            buffered, encoding=self.encoding, errors="strict", newline=""
        )

    def __enter__(self) -> TextSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stream.close()

    def on_disk(self) -> int:
        """Bytes of the file on disk read so far (compressed bytes for gzip), as progress
        reports them."""
        return int(self._raw._on_disk.tell())

    def lines(self) -> Iterator[tuple[int, str]]:
        """(physical line number from 1, text without its line end), guarded by :meth:`guard`."""
        with self.guard():
            for line_no, line in enumerate(self.stream, 1):
                yield line_no, line.rstrip("\r\n")

    def guard(self) -> _Guard:
        """Context manager turning decode and gzip failures into an InputError naming the line."""
        return _Guard(self)

    def finish(self) -> ReadStats:
        """Read whatever is left (so the hash covers all bytes) and return the stats."""
        with self.guard():
            while self._raw.readinto(bytearray(_CHUNK)):
                pass
        return ReadStats(self._raw.hash.hexdigest(), self._raw.bytes_read, self.encoding)


class _Guard:
    def __init__(self, source: TextSource) -> None:
        self.source = source

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is None:
            return
        name = self.source.name
        if isinstance(exc, UnicodeDecodeError):
            line = locate_decode_error(self.source.path, self.source.encoding)
            what = "UTF-16" if self.source.encoding.startswith("utf-16") else self.source.encoding
            raise InputError(
                [
                    Problem(
                        name,
                        line,
                        None,
                        f"bytes that are not valid {what} ({exc.reason}); if the file is Latin-1 or "
                        "Windows-1252, declare it (encoding: latin-1)",
                    )
                ]
            ) from None
        if isinstance(exc, EOFError | zlib.error | gzip.BadGzipFile):
            raise InputError([Problem(name, None, None, f"damaged gzip data ({exc})")]) from None
        if isinstance(exc, OSError):
            raise InputError([Problem(name, None, None, _os_message(exc))]) from None


def locate_decode_error(path: Path, encoding: str) -> int | None:
    """Physical line of the first undecodable bytes (slow path, only after a failure)."""
    if encoding.startswith("utf-16"):
        return None
    try:
        raw = _open_raw(path)
        with raw:
            for line_no, data in enumerate(raw, 1):
                try:
                    data.decode(encoding)
                except UnicodeDecodeError:
                    return line_no
    except (OSError, EOFError, zlib.error):
        return None
    return None


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or exc.__class__.__name__
    return f"cannot read the file: {reason}"
