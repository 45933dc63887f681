"""The raw file store: every accepted upload, byte for byte, addressed by its SHA-256.

Files are streamed to a temporary name, hashed and size-checked on the way, fsynced and then
renamed into place, so a crash never leaves a half-written file under a real name, and the
same bytes uploaded twice are kept once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"upload exceeds {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size: int
    head: bytes  # the first bytes, for format sniffing without reopening the file


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key

    def put(self, source: BinaryIO, limit: int) -> StoredFile:
        """Store a stream, refusing it past ``limit`` bytes before anything is kept."""
        incoming = self.root / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=incoming)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(limit)
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            key = f"raw/{sha[:2]}/{sha[2:4]}/{sha}"
            final = self.path(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
            return StoredFile(key=key, sha256=sha, size=size, head=head)
        finally:
            tmp.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
