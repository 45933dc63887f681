"""The response cache of released data: answers keyed by what they were made of.

A released vintage never changes, so an answer is a function of its release ids, the query,
the format and the language: that tuple (hashed) is the key, and an entry never needs
invalidating (a new release makes new keys). In-process LRU on the embedded default; Redis
when several API processes share the load (``MMX_CACHE_URL=redis://…``). Only public answers
are kept; unprotected (harmonized) and per-caller answers never are.

With Redis, each process also keeps the answers it served last in memory in front of it
(entries never change, so the two cannot disagree): a hot answer then costs no round trip.

Entries are kept gzip-compressed (SDMX-ML compresses about twentyfold): the bytes most callers
take as they are (``Accept-Encoding: gzip``), and more answers fit.

A cache that cannot be reached does not fail the request: the answer is built from the
database and the failure logged.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import redis

import standards

log = logging.getLogger("mmx.sdmx.cache")
# Answers larger than this are streamed every time rather than kept.
MAX_ENTRY_BYTES = 8 * 1024 * 1024
TTL_SECONDS = 7 * 24 * 3600
# What each process keeps in memory in front of Redis.
NEAR_BYTES = 32 * 1024 * 1024


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """What shapes an answer besides its data and its query: the code that writes it and the
    standard's files (structures, labels). Part of every SDMX ETag and cache key, so that a
    new version never serves what an older one wrote (Redis keeps entries a week, clients
    keep ETags)."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for root in (Path(standards.__file__).parent, here):
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".yaml") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class ResponseCache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, body: bytes) -> None: ...


class MemoryCache:
    """LRU by total bytes, for one process."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > min(MAX_ENTRY_BYTES, self.max_bytes):
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._entries[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)


class RedisCache:
    """Entries shared by every API process, expiring after a week unused."""

    PREFIX = "mmx:sdmx:"

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def get(self, key: str) -> bytes | None:
        try:
            # One round trip: read it and push its expiry back.
            return self.client.getex(self.PREFIX + key, ex=TTL_SECONDS)  # type: ignore[return-value]
        except redis.RedisError as exc:
            log.warning("response cache unavailable: %s", exc)
            return None

    def put(self, key: str, body: bytes) -> None:
        if len(body) > MAX_ENTRY_BYTES:
            return
        try:
            self.client.set(self.PREFIX + key, body, ex=TTL_SECONDS)
        except redis.RedisError as exc:
            log.warning("response cache unavailable: %s", exc)


class TieredCache:
    """This process's LRU in front of a shared cache."""

    def __init__(self, near: MemoryCache, far: ResponseCache) -> None:
        self.near = near
        self.far = far

    def get(self, key: str) -> bytes | None:
        body = self.near.get(key)
        if body is None and (body := self.far.get(key)) is not None:
            self.near.put(key, body)
        return body

    def put(self, key: str, body: bytes) -> None:
        self.near.put(key, body)
        self.far.put(key, body)


def cache_for(url: str | None) -> ResponseCache:
    """Redis (behind this process's LRU) for ``redis://`` URLs, the in-process LRU otherwise."""
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return TieredCache(MemoryCache(NEAR_BYTES), RedisCache(url))
    return MemoryCache()
