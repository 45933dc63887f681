"""Rate limits with ``429 Too Many Requests`` and ``Retry-After``, on the maintained ``limits``
library: moving windows kept in memory on the embedded default, in Redis when several API
processes share the load (``MMX_RATE_LIMIT_STORAGE=redis://...``).

A limit store that cannot be reached does not take the API down with it: the request is let
through and the failure logged (availability over throttling; the limits are a brake, not an
access control)."""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse, storage, strategies

from exchange.core.problems import Problem

log = logging.getLogger("mmx.ratelimit")


class RateLimiter:
    def __init__(self, storage_uri: str) -> None:
        self.storage = storage.storage_from_string(storage_uri)
        self.strategy = strategies.MovingWindowRateLimiter(self.storage)

    def hit(self, rate: str, *key: str) -> None:
        """Count one request against ``rate`` (e.g. ``"600/minute"``) for ``key``; 429 past
        it."""
        item = parse(rate)
        try:
            allowed = self.strategy.hit(item, *key)
        except Exception as exc:  # the store is away: let the request through
            log.warning("rate limit store unavailable: %s", exc)
            return
        if not allowed:
            raise self._too_many(item, key)

    def count(self, rate: str, *key: str) -> None:
        """Count one event (a failed login, say) against ``rate`` without refusing this one."""
        try:
            self.strategy.hit(parse(rate), *key)
        except Exception as exc:
            log.warning("rate limit store unavailable: %s", exc)

    def check(self, rate: str, *key: str) -> None:
        """429 if ``key`` has used up ``rate`` already, without counting this request."""
        item = parse(rate)
        try:
            allowed = self.strategy.test(item, *key)
        except Exception as exc:
            log.warning("rate limit store unavailable: %s", exc)
            return
        if not allowed:
            raise self._too_many(item, key)

    def _too_many(self, item: RateLimitItem, key: tuple[str, ...]) -> Problem:
        try:
            reset = self.strategy.get_window_stats(item, *key).reset_time
        except Exception:
            reset = time.time() + item.get_expiry()
        retry_after = max(1, math.ceil(reset - time.time()))
        return Problem(429, "too-many-requests", "Too many requests",
                       f"The limit is {item.amount} per {item.multiples} {item.GRANULARITY.name}; "
                       f"try again in {retry_after} s.", headers={"Retry-After": str(retry_after)})
