"""Reading untrusted zip, gzip and IDX files in memory, with caps checked before and during reads."""

from __future__ import annotations

import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

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


class ArchiveError(ValueError):
    """An archive or IDX file that is malformed or breaks a safety cap."""


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
def open_zip(source: Path | bytes, max_members: int) -> Iterator[zipfile.ZipFile]:
    """Open a zip held in bytes or on disk, refusing it before parsing when it has too many entries."""
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    with stream:
        count = declared_member_count(stream)
        if count is not None and count > max_members:
            raise ArchiveError(f"it has {count:,} entries, over the limit of {max_members:,}")
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as err:
            raise ArchiveError(f"not a readable zip archive ({err})") from err
        with archive:
            if len(archive.infolist()) > max_members:
                raise ArchiveError(f"it has {len(archive.infolist()):,} entries, over the limit of {max_members:,}")
            yield archive


def checked_members(archive: zipfile.ZipFile, max_total_bytes: int) -> list[zipfile.ZipInfo]:
    """The archive's file entries, after refusing unsafe names, encryption, odd compression and bombs."""
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
                        f"member {info.filename!r} unpacks to more than its declared {info.file_size:,} bytes "
                        "or the archive's size limit"
                    )
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as err:
        raise ArchiveError(f"member {info.filename!r} cannot be read ({err}); the archive is corrupt") from err
    budget.remaining -= size
    return b"".join(chunks)


def _open_maybe_gzip(path: Path) -> BinaryIO:
    """A binary stream over the file, transparently gunzipped when it starts with the gzip magic."""
    with open(path, "rb") as probe:
        is_gzip = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if is_gzip else open(path, "rb")


def _read_up_to(stream: BinaryIO, size: int) -> bytearray:
    """Up to size bytes from stream, read in chunks so a lying header cannot force one huge allocation."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = stream.read(min(_READ_CHUNK * 16, size - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return buffer


def read_idx(path: Path, magic: int, max_count: int, max_side: int, max_bytes: int) -> np.ndarray:
    """A uint8 IDX array (gzipped or not) after checking magic, dimensions and exact data length."""
    try:
        with _open_maybe_gzip(path) as stream:
            header = stream.read(4)
            if len(header) < 4:
                raise ArchiveError("the file is too short to hold an IDX header")
            found = int.from_bytes(header, "big")
            if found != magic:
                raise ArchiveError(f"its magic number is {found}, expected {magic}; not an IDX file of this kind")
            ndim = header[3]
            dims_bytes = stream.read(4 * ndim)
            if len(dims_bytes) < 4 * ndim:
                raise ArchiveError("the header ends before its dimensions")
            dims = tuple(int(v) for v in np.frombuffer(dims_bytes, dtype=">u4"))
            if dims[0] < 1 or dims[0] > max_count:
                raise ArchiveError(f"its header declares {dims[0]:,} items; between 1 and {max_count:,} are accepted")
            if any(side < 1 or side > max_side for side in dims[1:]):
                raise ArchiveError(
                    f"its header declares items of shape {dims[1:]}; sides up to {max_side} are accepted"
                )
            expected = int(np.prod(dims))
            if expected > max_bytes:
                raise ArchiveError(f"its header declares {expected:,} bytes of data, over the limit of {max_bytes:,}")
            data = _read_up_to(stream, expected + 1)  # one extra byte tells trailing data from an exact fit
    except (OSError, EOFError, zlib.error) as err:
        raise ArchiveError(f"it cannot be read ({err}); the file or its gzip wrapper is corrupt") from err
    if len(data) != expected:
        problem = "is longer than" if len(data) > expected else f"holds only {len(data):,} bytes, short of"
        raise ArchiveError(f"its data {problem} the {expected:,} bytes its header declares for shape {dims}")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)
