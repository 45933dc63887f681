"""The raw file store: every accepted upload, byte for byte, addressed by its SHA-256.

An upload is streamed to a temporary file, hashed and size-checked on the way, and fsynced.
Only then may the caller look at it (the purpose-limitation check reads its header) and decide
to keep it: keeping renames it into place atomically, so a crash never leaves a half-written
file under a real name, a refused file never appears under one at all, and the same bytes
uploaded twice are kept once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


@dataclass
class Incoming:
    """A received upload not yet kept: readable at ``path`` until the ``receive`` block ends."""

    path: Path
    sha256: str
    size: int
    store: FileStore
    kept: StoredFile | None = None

    def keep(self) -> StoredFile:
        key = f"raw/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"
        final = self.store.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, final)
        _fsync_dir(final.parent)
        self.kept = StoredFile(key=key, sha256=self.sha256, size=self.size)
        return self.kept


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key

    @contextmanager
    def receive(self, source: BinaryIO, limit: int) -> Iterator[Incoming]:
        """Stream ``source`` to a temporary file, refusing it past ``limit`` bytes; whatever
        the block does not ``keep()`` is deleted when it ends."""
        incoming = self.root / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=incoming)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(limit)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            yield Incoming(path=tmp, sha256=digest.hexdigest(), size=size, store=self)
        finally:
            tmp.unlink(missing_ok=True)

    def health(self) -> str:
        """Whether uploads can be written: the store's directory exists and takes a file."""
        try:
            (self.root / "incoming").mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root / "incoming"):
                pass
        except OSError as exc:
            return f"error: file store not writable ({exc.strerror or type(exc).__name__})"
        return "ok"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
