"""Reading untrusted files: zip members, gzip and IDX streams, and plain files confined to a folder.

Account before you spend (see vae_core.limits): entry counts come from the zip's end record, sizes from
its directory and from IDX headers, and every read is chunked and stopped at the size it declared or its
budget. Files named inside a folder are resolved, kept inside the allowed root and must be regular files.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import ArchiveError

IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (N, rows, cols)
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (N,)

_EOCD_SIGNATURE = b"PK\x05\x06"  # end of central directory record
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_EOCD_SIZE = 22
_MAX_ZIP_COMMENT = 65_535
# Deflate inflates at most ~1000:1 and zipfile bounds each inflate call; bzip2/lzma are
# decompressed a whole compressed block at a time, so one read could allocate gigabytes.
_ALLOWED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_READ_CHUNK = 1 << 20
# What zipfile, gzip and zlib raise on corrupt input (a negative seek from a lying header is a ValueError).
_READ_ERRORS = (
    OSError,
    EOFError,
    zlib.error,
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OverflowError,
    IndexError,
    struct.error,
)


@dataclass
class ReadBudget:
    """Bytes still allowed to be read out of one archive; shared by all its members."""

    remaining: int


def is_safe_member_name(name: str) -> bool:
    """True when a zip member name stays inside the archive (relative, no '..', no drive, no NUL)."""
    posix = name.replace("\\", "/")
    if not posix or "\x00" in posix or posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        return False
    return ".." not in posix.split("/")


def declared_member_count(stream: BinaryIO) -> int | None:
    """Entry count from the zip's end record (zip64 aware), read before the central directory is parsed."""
    size = stream.seek(0, io.SEEK_END)
    tail_size = min(size, _EOCD_SIZE + _MAX_ZIP_COMMENT)
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise ArchiveError("not a zip archive (no end-of-archive record; truncated or another format)")
    count = int.from_bytes(tail[at + 10 : at + 12], "little")
    if count != 0xFFFF:
        return count
    locator = tail[at - 20 : at] if at >= 20 else b""
    if locator[:4] != _ZIP64_LOCATOR_SIGNATURE:
        return None  # unknown here; the count is checked again after parsing
    stream.seek(int.from_bytes(locator[8:16], "little"))
    record = stream.read(56)
    if record[:4] != _ZIP64_EOCD_SIGNATURE:
        return None
    return int.from_bytes(record[32:40], "little")


@contextmanager
def open_zip(
    source: Path | bytes, max_members: int, max_file_bytes: int = 2**40
) -> Iterator[zipfile.ZipFile]:
    """Open a zip (bytes, or a regular file on disk), refused before parsing when it has too many entries."""
    if isinstance(source, (bytes, bytearray)):
        with _zip_from(io.BytesIO(source), max_members) as archive:
            yield archive
        return
    with (
        open_regular(Path(source), None, max_file_bytes) as stream,
        _zip_from(stream, max_members) as archive,
    ):
        yield archive


@contextmanager
def _zip_from(stream: BinaryIO, max_members: int) -> Iterator[zipfile.ZipFile]:
    """A ZipFile over an open stream, its entry count checked from the end record first."""
    with stream:
        count = declared_member_count(stream)
        if count is not None and count > max_members:
            raise ArchiveError(f"it has {count:,} entries, over the limit of {max_members:,}")
        try:
            archive = zipfile.ZipFile(stream)
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            OSError,
            EOFError,
            ValueError,
            OverflowError,
            NotImplementedError,
            RuntimeError,
            UnicodeDecodeError,
        ) as err:
            raise ArchiveError(f"not a readable zip archive ({str(err)[:200]})") from err
        with archive:
            if len(archive.infolist()) > max_members:
                raise ArchiveError(
                    f"it has {len(archive.infolist()):,} entries, over the limit of {max_members:,}"
                )
            yield archive


def checked_members(archive: zipfile.ZipFile, max_total_bytes: int) -> list[zipfile.ZipInfo]:
    """The archive's file entries, after refusing unsafe names, encryption, odd compression and bombs."""
    if any(not info.filename for info in archive.infolist()):
        raise ArchiveError("a member has an empty name; the whole archive is refused")
    files = [info for info in archive.infolist() if not info.is_dir()]
    for info in files:
        if not is_safe_member_name(info.filename):
            raise ArchiveError(
                f"member {info.filename!r} has an absolute path or '..' that points outside the archive; "
                "the whole archive is refused"
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(f"member {info.filename!r} is encrypted; zip it again without a password")
        if info.compress_type not in _ALLOWED_COMPRESSION:
            raise ArchiveError(
                f"member {info.filename!r} uses compression method {info.compress_type}; "
                "only stored or deflate (the usual zip) are accepted"
            )
    declared_total = sum(info.file_size for info in files)
    if declared_total > max_total_bytes:
        raise ArchiveError(
            f"its members unpack to {declared_total:,} bytes, over the limit of {max_total_bytes:,} "
            "(a zip bomb, or simply too large)"
        )
    return files


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: ReadBudget) -> bytes:
    """One member's bytes, read in chunks and stopped once it outgrows its declared size or the budget."""
    allowed = min(info.file_size, budget.remaining)
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_READ_CHUNK):
                size += len(chunk)
                if size > allowed:
                    raise ArchiveError(
                        f"member {info.filename!r} unpacks to more than its declared {info.file_size:,} "
                        "bytes or the archive's size limit"
                    )
                chunks.append(chunk)
    except ArchiveError:
        raise
    except _READ_ERRORS as err:
        raise ArchiveError(
            f"member {info.filename!r} cannot be read ({err}); the archive is corrupt"
        ) from err
    budget.remaining -= size
    return b"".join(chunks)


def confined(path: Path, root: Path | None) -> Path:
    """`path` resolved (links followed), refused when it leaves `root` (no check when root is None)."""
    resolved = path.resolve()
    if root is not None and not resolved.is_relative_to(root.resolve()):
        raise ArchiveError(
            f"{path.name!r} leads outside the data folder this server allows ({root.resolve()})"
        )
    return resolved


def regular_file_size(path: Path, root: Path | None, max_bytes: int) -> int:
    """The size of a regular file inside root; links that leave it, special and oversized files refused."""
    info = os.stat(confined(path, root))
    if not stat.S_ISREG(info.st_mode):
        raise ArchiveError(f"{path.name!r} is not a regular file (a folder, device, pipe or socket)")
    if info.st_size > max_bytes:
        raise ArchiveError(
            f"{path.name!r} holds {info.st_size:,} bytes, over the limit of {max_bytes:,} for one file"
        )
    return info.st_size


@contextmanager
def open_regular(path: Path, root: Path | None, max_bytes: int) -> Iterator[BinaryIO]:
    """A binary stream over a regular file inside root of at most max_bytes; pipes and devices never block."""
    resolved = confined(path, root)
    fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ArchiveError(f"{path.name!r} is not a regular file (a folder, device, pipe or socket)")
        if info.st_size > max_bytes:
            raise ArchiveError(f"{path.name!r} holds {info.st_size:,} bytes, over the limit of {max_bytes:,}")
        yield handle


def read_regular(path: Path, root: Path | None, max_bytes: int) -> bytes:
    """A whole regular file (see open_regular), read in chunks and stopped past max_bytes."""
    with open_regular(path, root, max_bytes) as handle:
        data = _read_up_to(handle, max_bytes + 1)
    if len(data) > max_bytes:
        raise ArchiveError(f"{path.name!r} grew past {max_bytes:,} bytes while being read")
    return bytes(data)


def _read_up_to(stream: BinaryIO, size: int) -> bytearray:
    """Up to size bytes from stream, read in chunks so a lying header cannot force one huge allocation."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = stream.read(min(_READ_CHUNK * 16, size - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return buffer


class IdxStream:
    """A uint8 IDX file (gzipped or not) read item by item: the header is checked before any data is read."""

    def __init__(
        self, stream: BinaryIO, magic: int, max_count: int, max_side: int, budget: ReadBudget
    ) -> None:
        try:
            is_gzip = stream.read(2) == b"\x1f\x8b"
            stream.seek(0)
            self._stream: BinaryIO = gzip.GzipFile(fileobj=stream, mode="rb") if is_gzip else stream
            self.dims = self._read_header(magic, max_count, max_side)
        except ArchiveError:
            raise
        except _READ_ERRORS as err:
            raise ArchiveError(f"it cannot be read ({err}); the file or its gzip wrapper is corrupt") from err
        self.item_bytes = int(np.prod(self.dims[1:], dtype=np.int64)) if len(self.dims) > 1 else 1
        expected = self.dims[0] * self.item_bytes
        if expected > budget.remaining:
            raise ArchiveError(
                f"its header declares {expected:,} bytes of data, over the limit of {budget.remaining:,}"
            )
        budget.remaining -= expected
        self.items_left = self.dims[0]

    def _read_header(self, magic: int, max_count: int, max_side: int) -> tuple[int, ...]:
        """(count, *item shape) from the header, after checking magic number and sizes."""
        header = self._stream.read(4)
        if len(header) < 4:
            raise ArchiveError("the file is too short to hold an IDX header")
        found = int.from_bytes(header, "big")
        if found != magic:
            raise ArchiveError(f"its magic number is {found}, expected {magic}; not an IDX file of this kind")
        ndim = header[3]
        dims_bytes = self._stream.read(4 * ndim)
        if len(dims_bytes) < 4 * ndim:
            raise ArchiveError("the header ends before its dimensions")
        dims = tuple(int(v) for v in np.frombuffer(dims_bytes, dtype=">u4"))
        if dims[0] < 1 or dims[0] > max_count:
            raise ArchiveError(
                f"its header declares {dims[0]:,} items; between 1 and {max_count:,} are accepted"
            )
        if any(side < 1 or side > max_side for side in dims[1:]):
            raise ArchiveError(
                f"its header declares items of shape {dims[1:]}; sides up to {max_side} are accepted"
            )
        return dims

    def read(self, count: int) -> np.ndarray:
        """The next `count` items (fewer at the end) as a uint8 array (count, *item shape)."""
        count = min(count, self.items_left)
        size = count * self.item_bytes
        try:
            data = _read_up_to(self._stream, size)
        except ArchiveError:
            raise
        except _READ_ERRORS as err:
            raise ArchiveError(f"it cannot be read ({err}); the file or its gzip wrapper is corrupt") from err
        if len(data) != size:
            total = self.dims[0] * self.item_bytes
            held = total - self.items_left * self.item_bytes + len(data)
            raise ArchiveError(
                f"its data holds only {held:,} bytes, short of the {total:,} bytes its header "
                f"declares for shape {self.dims}"
            )
        self.items_left -= count
        return np.frombuffer(bytes(data), dtype=np.uint8).reshape(count, *self.dims[1:])

    def finish(self) -> None:
        """Refuse data after the last item (the header and the file disagree)."""
        try:
            extra = self._stream.read(1)
        except ArchiveError:
            raise
        except _READ_ERRORS as err:
            raise ArchiveError(f"it cannot be read ({err}); the file or its gzip wrapper is corrupt") from err
        if extra:
            total = self.dims[0] * self.item_bytes
            raise ArchiveError(
                f"its data is longer than the {total:,} bytes its header declares for shape {self.dims}"
            )


class MemberStream:
    """A zip member read in bounded pieces, stopped once it outgrows its declared size."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        self.info = info
        self.read_so_far = 0
        try:
            self._member = archive.open(info)
        except ArchiveError:
            raise
        except _READ_ERRORS as err:
            raise ArchiveError(
                f"member {info.filename!r} cannot be read ({err}); the archive is corrupt"
            ) from err

    def read(self, size: int) -> bytes:
        """Up to `size` bytes (fewer only at the end of the member)."""
        if self.read_so_far + size > self.info.file_size:
            size = self.info.file_size - self.read_so_far
        try:
            data = bytes(_read_up_to(self._member, max(0, size)))
        except ArchiveError:
            raise
        except _READ_ERRORS as err:
            raise ArchiveError(
                f"member {self.info.filename!r} cannot be read ({err}); the archive is corrupt"
            ) from err
        self.read_so_far += len(data)
        return data

    def close(self) -> None:
        """Release the member."""
        self._member.close()
