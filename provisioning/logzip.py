"""A zip archive written as a stream of bytes, members deflated by the caller: the CSV download makes its three
files in one pass over the rows, streams the first and spools the other two, already deflated, to temporary
files that are copied into the archive after it.

The layout is the one the standard zipfile module writes to an unseekable file (APPNOTE.TXT 6.3): each member's
local header with zip64 sizes to come (general purpose flag bit 3), its deflated data, a zip64 data descriptor;
then the central directory, with zip64 fields and end records only where a size or an offset needs them.
"""

from __future__ import annotations

import struct
import tempfile
import time
import zlib
from collections.abc import Iterator
from typing import BinaryIO

ZIP64_LIMIT = (1 << 31) - 1  # zipfile's: beyond it a size or offset goes to a zip64 field
FILECOUNT_LIMIT = 0xFFFF
DATA_DESCRIPTOR = 0x08  # general purpose flag bit 3: CRC and sizes follow the data
DEFLATED = 8
ZIP64_VERSION = 45
UNIX = 3  # "version made by": the external attributes are Unix modes
READ_WRITE = 0o600 << 16  # -rw------- (zipfile's default for a member written from data)
COPY_BLOCK = 1 << 20


def dos_time(moment: time.struct_time) -> tuple[int, int]:
    """(time, date) in MS-DOS format, as zipfile stores a member's date_time."""
    return (
        moment.tm_hour << 11 | moment.tm_min << 5 | moment.tm_sec // 2,
        (moment.tm_year - 1980) << 9 | moment.tm_mon << 5 | moment.tm_mday,
    )


class Deflater:
    """One member's data: deflate (level 1: a third of the default level's time on this text, for a somewhat
    larger file), CRC-32 and both sizes. zlib releases the GIL while it works on a buffer."""

    def __init__(self) -> None:
        self.compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
        self.crc = 0
        self.size = 0
        self.compressed_size = 0

    def compress(self, data: bytes) -> bytes:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        out = self.compressor.compress(data)
        self.compressed_size += len(out)
        return out

    def flush(self) -> bytes:
        out = self.compressor.flush()
        self.compressed_size += len(out)
        return out


class Spool:
    """A member deflated into a temporary file (memory stays flat however long it grows), copied later."""

    def __init__(self) -> None:
        self.deflater = Deflater()
        self.file: BinaryIO = tempfile.TemporaryFile(prefix="log-download-")  # noqa: SIM115  (closed by close())

    def write(self, data: bytes) -> None:
        self.file.write(self.deflater.compress(data))

    def blocks(self) -> Iterator[bytes]:
        """The deflated data, a block at a time (the compressor flushed first)."""
        self.file.write(self.deflater.flush())
        self.file.seek(0)
        while block := self.file.read(COPY_BLOCK):
            yield block

    def close(self) -> None:
        self.file.close()


class ZipStream:
    """The framing of an archive: member() before a member's deflated data, end_member() after it, then finish().
    The caller hands out the data itself."""

    def __init__(self) -> None:
        self.offset = 0  # bytes handed out so far
        self.time, self.date = dos_time(time.localtime())
        self.members: list[tuple[bytes, int, Deflater]] = []  # (name, header offset, data)

    def _out(self, data: bytes) -> bytes:
        self.offset += len(data)
        return data

    def member(self, name: str, deflater: Deflater) -> bytes:
        """The local header of a member whose CRC and sizes follow its data (a zip64 data descriptor)."""
        encoded = name.encode("ascii")
        self.members.append((encoded, self.offset, deflater))
        extra = struct.pack("<HHQQ", 1, 16, 0, 0)
        header = struct.pack(
            "<4s2B4HL2L2H", b"PK\x03\x04", ZIP64_VERSION, 0, DATA_DESCRIPTOR, DEFLATED, self.time, self.date,
            0, 0xFFFFFFFF, 0xFFFFFFFF, len(encoded), len(extra),
        )  # fmt: skip
        return self._out(header + encoded + extra)

    def end_member(self, deflater: Deflater) -> bytes:
        """The data descriptor, after the member's deflated data (deflater.compressed_size bytes) went out."""
        self.offset += deflater.compressed_size
        return self._out(struct.pack("<4sLQQ", b"PK\x07\x08", deflater.crc, deflater.compressed_size, deflater.size))

    def finish(self) -> bytes:
        """The central directory and the end records."""
        start = self.offset
        records = []
        for name, offset, data in self.members:
            extra_fields: list[int] = []
            size, compressed = data.size, data.compressed_size
            if size > ZIP64_LIMIT or compressed > ZIP64_LIMIT:
                extra_fields += [size, compressed]
                size = compressed = 0xFFFFFFFF
            if offset > ZIP64_LIMIT:
                extra_fields.append(offset)
                offset = 0xFFFFFFFF
            extra = (
                struct.pack(f"<HH{len(extra_fields)}Q", 1, 8 * len(extra_fields), *extra_fields)
                if extra_fields
                else b""
            )
            record = struct.pack(
                "<4s4B4HL2L5H2L", b"PK\x01\x02", ZIP64_VERSION, UNIX, ZIP64_VERSION, 0, DATA_DESCRIPTOR, DEFLATED,
                self.time, self.date, data.crc, compressed, size, len(name), len(extra), 0, 0, 0, READ_WRITE, offset,
            )  # fmt: skip
            records.append(record + name + extra)
        directory = b"".join(records)
        count, length, end = len(records), len(directory), start + len(directory)
        tail = b""
        if count > FILECOUNT_LIMIT or start > ZIP64_LIMIT or length > ZIP64_LIMIT:
            tail = struct.pack(
                "<4sQ2H2L4Q", b"PK\x06\x06", 44, ZIP64_VERSION, ZIP64_VERSION, 0, 0, count, count, length, start
            ) + struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
            count, length, start = min(count, 0xFFFF), min(length, 0xFFFFFFFF), min(start, 0xFFFFFFFF)
        tail += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, length, start, 0)
        return self._out(directory + tail)
