"""What the first pass over a DSR keeps of its usage lines for the second, on disk.

A DSR's revenue is on its summaries and is allocated over the usage lines
only once every line has been seen, so the import reads the file twice in
effect. Rather than read and parse the text again, the first pass keeps a few
integers per line in a temporary file (:class:`Spill`): memory stays flat and
what the second pass yields is exactly the content that was hashed.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from typing import IO

from ledger.domain.errors import InputError, Problem
from ledger.parsers.base import Record


class Spill:
    """What pass 1 keeps of the usage lines for pass 2, on disk: memory stays flat.

    Per usage line, in file order: line number, summary index, resource index,
    usage index and streams (28 bytes a line on disk); an SU03 line has summary
    index -1 and its whole record in ``others``. Pass 1 appends to plain lists
    (an array's append costs twice as much); each full chunk of :attr:`CHUNK`
    lines goes to an anonymous temporary file as arrays. The last, partial chunk
    stays in memory, so a small file never touches the disk.
    """

    CHUNK = 1 << 14
    TYPES = ("q", "i", "i", "i", "q")
    """Array type codes of lines, summaries, resources, usages and streams."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[int] = []
        self.summaries: list[int] = []
        self.resources: list[int] = []
        self.usages: list[int] = []
        self.streams: list[int] = []
        self.others: list[Record] = []
        self.size_on_disk = 0
        """Of the DSR file (compressed bytes for gzip): where progress ends."""
        self._file: IO[bytes] | None = None
        self._chunks: list[tuple[int, int, int, int]] = []  # (offset, lines, bytes, on disk)
        self._size = 0

    def _lists(self) -> tuple[list[int], ...]:
        return (self.lines, self.summaries, self.resources, self.usages, self.streams)

    def room(self) -> int:
        """Lines that can be added before :meth:`flush` is due."""
        return self.CHUNK - len(self.lines)

    def add_record(self, line_no: int, record: Record) -> None:
        self.lines.append(line_no)
        self.summaries.append(-1)
        self.resources.append(0)
        self.usages.append(0)
        self.streams.append(0)
        self.others.append(record)

    def flush(self, on_disk: int) -> None:
        """Write the lines kept so far to the temporary file (and forget them);
        ``on_disk``: how far pass 1 has read the DSR file."""
        count = len(self.lines)
        parts = [
            array(t, values).tobytes() for t, values in zip(self.TYPES, self._lists(), strict=True)
        ]
        data = b"".join([*parts, pickle.dumps(self.others)])
        try:
            if self._file is None:
                # Kept open across both passes; close() closes it (and it goes with its owner).
                self._file = tempfile.TemporaryFile(prefix="royalty-dsr-")  # noqa: SIM115
            self._file.seek(self._size)
            self._file.write(data)
        except OSError as exc:
            self.close()
            raise InputError(
                [
                    Problem(
                        self.name,
                        None,
                        None,
                        f"cannot write a temporary file for the import: {exc.strerror or exc}",
                    )
                ]
            ) from None
        self._chunks.append((self._size, count, len(data), on_disk))
        self._size += len(data)
        for values in self._lists():
            values.clear()
        self.others.clear()

    def chunks(
        self,
    ) -> Iterator[
        tuple[
            Sequence[int],
            Sequence[int],
            Sequence[int],
            Sequence[int],
            Sequence[int],
            list[Record],
            int,
        ]
    ]:
        """Every chunk in file order: (lines, summaries, resources, usages, streams, others,
        bytes of the DSR file on disk up to the chunk's end)."""
        for offset, count, size, on_disk in self._chunks:
            assert self._file is not None
            self._file.seek(offset)
            data = self._file.read(size)
            arrays = []
            at = 0
            for typecode in self.TYPES:
                part = array(typecode)
                end = at + count * part.itemsize
                part.frombytes(data[at:end])
                arrays.append(part)
                at = end
            others: list[Record] = pickle.loads(data[at:])
            lines, summaries, resources, usages, streams = arrays
            yield lines, summaries, resources, usages, streams, others, on_disk
        yield (
            self.lines,
            self.summaries,
            self.resources,
            self.usages,
            self.streams,
            self.others,
            self.size_on_disk,
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._chunks = []
