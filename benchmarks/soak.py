"""Soak: the distributed shape under steady load with faults, bounded and on loopback only.

Run: ``python benchmarks/soak.py`` (default 5 minutes; ``--seconds`` to change). PostgreSQL
(``.ci/services``), Redis and the exchange (API + 2 workers) are started as separate processes.
For the whole run, 20 simulated agencies upload and revise their quarterly tables and follow
each to its verdict, while readers (the task force, the probes) poll. A third of the way in,
Redis is killed and restarted three seconds later; two thirds of the way in, a worker is killed
with SIGKILL and a new one started.

Beside them, a publisher releases a quarter over and over: three Central Asian states send
2026-Q2 tables (one measure), their coordinators sign off, and the admin requests a new vintage
every so often, revising one state's table (a new revision, signed off again) between
vintages. Public readers (anonymous) read released data through the SDMX REST API all along,
and check every cell they get: never a period that was not released (2026-Q3 is uploaded and
harmonized all the time, never released), never a value on a suppressed cell, never a value
in 1..k-1; at the end every published value they saw is checked against the released cells
in the database.

Printed: requests served, error rate (5xx and broken connections; 429s and /readyz answering
503 while a dependency is down counted apart), p50/p99
latency, and the end-state check: every accepted upload processed exactly once (one verdict in
its history), nothing lost (every accepted id exists and settled), no submission stuck (no
stage still due), the outbox empty, each state's observations equal to its latest
harmonized revision, releases published, and no reader saw an unreleased or unprotected cell.
Exit 1 when the end-state check fails.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import polars as pl
import psycopg
from harness import Exchange, Redis, postgres, wait_for

from exchange.auth.principal import Principal, Role
from exchange.auth.tokens import KeyRing
from standards import load_standard
from standards.example import example_frame

AGENCIES = 20
READERS = 4
PUBLIC_READERS = 2
RELEASED_STATES = ("KAZ", "KGZ", "TJK")
RELEASED_PERIOD = "2026-Q2"
RELEASE_MEASURE = "NATZ"  # one measure: a release of three states is built in seconds
DATA_URL = "/sdmx/data/DF_MIXED_MOVEMENTS_Q"


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    throttled: int = 0
    not_ready: int = 0  # /readyz answering 503: correct while a dependency is down
    accepted: dict[int, tuple[str, bytes]] = field(default_factory=dict)  # id -> (state, file)
    releases_requested: int = 0
    reads: int = 0  # data responses the public readers checked
    cells_read: int = 0
    violations: list[str] = field(default_factory=list)
    # (REF_AREA, series key, TIME_PERIOD) -> published values seen
    seen: dict[tuple[str, ...], set[int]] = field(default_factory=dict)

    def request(self, http: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response | None:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            response = http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            with self.lock:
                self.errors.append(f"{method} {url}: {type(exc).__name__}")
            return None
        with self.lock:
            self.latencies.append(time.perf_counter() - start)
            if url == "/readyz" and response.status_code == 503:
                self.not_ready += 1
            elif response.status_code >= 500:
                self.errors.append(f"{method} {url}: {response.status_code}")
            elif response.status_code == 429:
                self.throttled += 1
        return response


def revision(area: str, n: int, period: str = "2026-Q3", measure: str | None = None) -> bytes:
    frame = example_frame(load_standard(), area, period, citizenships=1, seed=n)
    if measure is not None:
        frame = frame.filter(pl.col("MEASURE") == measure)
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return buffer.getvalue()


def send_and_sign_off(exchange: Exchange, stats: Stats, area: str, n: int,
                      submitter: dict[str, str], coordinator: dict[str, str],
                      stop: threading.Event | None = None) -> bool:
    """A new revision of ``area``'s released quarter, harmonized and signed off."""
    with httpx.Client(base_url=exchange.base, timeout=60) as http:
        created = stats.request(http, "POST", "/api/v1/submissions", headers=submitter,
                                data={"ref_area": area, "period": RELEASED_PERIOD},
                                files={"file": (f"{area}.csv", revision(
                                    area, n, RELEASED_PERIOD, RELEASE_MEASURE), "text/csv")})
        if created is None or created.status_code not in (200, 202):
            return False
        with stats.lock:
            stats.accepted[created.json()["id"]] = (area, b"")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            signed = stats.request(http, "POST",
                                   f"/api/v1/datasets/{area}/{RELEASED_PERIOD}/signoff",
                                   headers=coordinator)
            if signed is not None and signed.status_code == 200:
                return True
            time.sleep(0.5)  # 409 until the revision is harmonized
    return False


def publisher(exchange: Exchange, stats: Stats, stop: threading.Event, seconds: float,
              submitters: dict[str, dict[str, str]], coordinators: dict[str, dict[str, str]],
              admin: dict[str, str]) -> None:
    """A new vintage of the released quarter every so often, a revision between vintages."""
    n = 100
    with httpx.Client(base_url=exchange.base, headers=admin, timeout=60) as http:
        while not stop.wait(seconds / 8):
            response = stats.request(http, "POST", "/api/v1/releases",
                                     json={"period": RELEASED_PERIOD})
            if response is not None and response.status_code == 202:
                with stats.lock:
                    stats.releases_requested += 1
            n += 1
            area = RELEASED_STATES[n % len(RELEASED_STATES)]
            send_and_sign_off(exchange, stats, area, n, submitters[area], coordinators[area],
                              stop)


def public_reader(exchange: Exchange, stats: Stats, stop: threading.Event) -> None:
    """Anonymous: released data only, and every cell checked as it arrives."""
    k = 5  # the release measure has no specific needs: the default threshold
    with httpx.Client(base_url=exchange.base, timeout=60) as http:
        while not stop.is_set():
            response = stats.request(http, "GET", DATA_URL,
                                     headers={"Accept": "application/vnd.sdmx.data+csv"})
            time.sleep(0.3)
            if response is None or response.status_code != 200:
                continue  # 404 before the first vintage is published; 5xx counted
            rows = pl.read_csv(io.BytesIO(response.content), infer_schema=False).to_dicts()
            problems = []
            for row in rows:
                period, value, conf = row["TIME_PERIOD"], row["OBS_VALUE"], row["CONF_STATUS"]
                if period != RELEASED_PERIOD:
                    problems.append(f"unreleased period {period}: {row}")
                elif conf != "F" and value not in (None, ""):
                    problems.append(f"value on a suppressed cell: {row}")
                elif conf == "F" and (value in (None, "") or 0 < int(value) < k):
                    problems.append(f"unprotected published value: {row}")
            with stats.lock:
                stats.reads += 1
                stats.cells_read += len(rows)
                stats.violations.extend(problems)
                for row in rows:
                    if row["CONF_STATUS"] == "F" and row["OBS_VALUE"] not in (None, ""):
                        key = tuple(str(row[c]) for c in KEY)
                        stats.seen.setdefault(key, set()).add(int(row["OBS_VALUE"]))


def agency(exchange: Exchange, area: str, token: str, stats: Stats, stop: threading.Event
           ) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    n = 0
    with httpx.Client(base_url=exchange.base, headers=headers, timeout=60) as http:
        while not stop.is_set():
            n += 1
            content = revision(area, n)
            created = stats.request(http, "POST", "/api/v1/submissions",
                                    data={"ref_area": area, "period": "2026-Q3"},
                                    files={"file": (f"{area}.csv", content, "text/csv")})
            if created is None or created.status_code not in (200, 202):
                time.sleep(1)
                continue
            submission_id = created.json()["id"]
            with stats.lock:
                stats.accepted[submission_id] = (area, content)
            while not stop.is_set():  # follow it, as `mmx submit` does
                status = stats.request(http, "GET", f"/api/v1/submissions/{submission_id}")
                if status is not None and status.status_code == 200 and \
                        status.json()["status"] in ("harmonized", "rejected", "failed"):
                    break
                time.sleep(0.5)
            stats.request(http, "GET", f"/api/v1/submissions/{submission_id}/report")
            time.sleep(random.uniform(0.5, 2.0))


def reader(exchange: Exchange, token: str, stats: Stats, stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=exchange.base, headers=headers, timeout=60) as http:
        while not stop.is_set():
            stats.request(http, "GET", "/api/v1/submissions", params={"limit": 50})
            stats.request(http, "GET", "/readyz")
            time.sleep(0.2)


def faults(exchange: Exchange, redis: Redis, seconds: float, stop: threading.Event,
           log: list[str]) -> None:
    if stop.wait(seconds / 3):
        return
    redis.stop()
    log.append(f"{time.strftime('%X')} Redis killed")
    time.sleep(3)
    redis.start()
    log.append(f"{time.strftime('%X')} Redis restarted")
    if stop.wait(seconds / 3):
        return
    victim = exchange.workers.pop(0)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    exchange.workers.append(exchange.start_worker())
    log.append(f"{time.strftime('%X')} worker {victim.pid} killed (SIGKILL), replaced")


KEY = ("REF_AREA", "COUNTERPART_AREA", "POP_GROUP", "SPEC_NEED", "MEASURE", "CITIZENSHIP",
       "SEX", "AGE", "TIME_PERIOD")


def released_values(dsn: str) -> dict[tuple[str, ...], set[int]]:
    """Every value a published release holds, by key: what a public reader may have seen."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT c.area, c.counterpart_area, c.pop_group, c.spec_need, c.measure, "
            "c.citizenship, c.sex, c.age, c.period, c.value FROM release_cell c "
            "JOIN release r ON r.id = c.release_id "
            "WHERE r.status = 'published' AND c.conf_status = 'F'").fetchall()
    out: dict[tuple[str, ...], set[int]] = {}
    for row in rows:
        out.setdefault(tuple(row[:-1]), set()).add(int(row[-1]))
    return out


def end_state(dsn: str, stats: Stats) -> list[str]:
    problems = list(stats.violations[:20])
    released = released_values(dsn)
    for key, values in stats.seen.items():
        if not values <= released.get(key, set()):
            problems.append(f"a reader saw {sorted(values)} for {key}, never released so")
    with psycopg.connect(dsn) as conn:
        published = conn.execute("SELECT count(*) FROM release WHERE status = 'published'"
                                 ).fetchone()[0]  # type: ignore[index]
    if not published:
        problems.append("no release was published")
    if not stats.cells_read:
        problems.append("the public readers never read a released cell")
    with psycopg.connect(dsn) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT id, status, next_stage, ref_area, revision, period FROM submission"
        ).fetchall()}
        verdicts = dict(conn.execute(
            "SELECT submission_id, count(*) FROM status_change WHERE status IN "
            "('harmonized', 'rejected', 'failed') GROUP BY submission_id").fetchall())
        pending = conn.execute("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL"
                               ).fetchone()[0]  # type: ignore[index]
        observed = dict(conn.execute(
            "SELECT ref_area, count(*) FROM observation GROUP BY ref_area").fetchall())
        current = dict(conn.execute(
            "SELECT ref_area, harmonized_revision FROM dataset WHERE period = '2026-Q3'"
        ).fetchall())
    for submission_id in stats.accepted:
        if submission_id not in rows:
            problems.append(f"submission {submission_id} accepted but not in the database")
    for submission_id, (status, next_stage, _area, _rev, _period) in rows.items():
        if next_stage is not None:
            problems.append(f"submission {submission_id} stuck: {status}, {next_stage} due")
        if status == "failed":
            problems.append(f"submission {submission_id} failed")
        if verdicts.get(submission_id, 0) != 1:
            problems.append(f"submission {submission_id} has {verdicts.get(submission_id, 0)} "
                            "verdicts")
    if pending:
        problems.append(f"{pending} outbox rows never sent")
    by_revision = {(area, rev): sid for sid, (_s, _n, area, rev, period) in rows.items()
                   if period == "2026-Q3"}
    for area, rev in current.items():
        sid = by_revision.get((area, rev))
        if sid in stats.accepted and stats.accepted[sid][1]:
            expected = pl.read_csv(stats.accepted[sid][1], infer_schema=False).height
            if observed.get(area, 0) < expected:
                problems.append(f"{area}: {observed.get(area, 0)} observations, revision {rev} "
                                f"has {expected} rows")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    args = parser.parse_args()
    standard = load_standard()
    areas = sorted(standard.region_members("ECOWAS") | standard.region_members("CENTRAL_ASIA")
                   | standard.region_members("BALI_PROCESS"))[:AGENCIES]
    pg = postgres()
    redis = Redis()
    stats, stop, log = Stats(), threading.Event(), []
    with tempfile.TemporaryDirectory() as tmp:
        exchange = Exchange(Path(tmp), pg, redis.url, workers=2, stuck_after_seconds="20",
                            sweep_interval_seconds="2", visibility_timeout_seconds="60")
        try:
            ring = KeyRing.from_settings(exchange.settings)
            tokens = {area: exchange.token(area) for area in areas}
            from exchange.accounts.service import create_client
            from exchange.core.db import session_scope

            with session_scope(exchange.settings.resolved_database_url) as session:
                analyst, _ = create_client(session, role=Role.ANALYST, ref_area=None,
                                           name="task force")
                admin, _ = create_client(session, role=Role.ADMIN, ref_area=None, name="admin")
                coordinator_ids = {
                    s: create_client(session, role=Role.COORDINATOR, ref_area=s,
                                     name=f"coordinator {s}")[0].id for s in RELEASED_STATES}
            reader_token = ring.issue(Principal(analyst.id, Role.ANALYST))

            def bearer(token: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {token}"}

            submitters = {s: bearer(tokens.get(s) or exchange.token(s)) for s in RELEASED_STATES}
            coordinators = {s: bearer(ring.issue(Principal(coordinator_ids[s], Role.COORDINATOR,
                                                           s))) for s in RELEASED_STATES}
            admin_headers = bearer(ring.issue(Principal(admin.id, Role.ADMIN)))
            for n, s in enumerate(RELEASED_STATES):  # the first vintage's tables
                if not send_and_sign_off(exchange, stats, s, n, submitters[s], coordinators[s]):
                    raise RuntimeError(f"{s} {RELEASED_PERIOD} could not be signed off")
            threads = [threading.Thread(target=agency, args=(exchange, a, tokens[a], stats,
                                                             stop)) for a in areas]
            threads += [threading.Thread(target=reader, args=(exchange, reader_token, stats,
                                                              stop)) for _ in range(READERS)]
            threads += [threading.Thread(target=public_reader, args=(exchange, stats, stop))
                        for _ in range(PUBLIC_READERS)]
            threads.append(threading.Thread(target=publisher, args=(
                exchange, stats, stop, args.seconds, submitters, coordinators, admin_headers)))
            threads.append(threading.Thread(target=faults, args=(exchange, redis, args.seconds,
                                                                 stop, log)))
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            stop.wait(args.seconds)
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
            elapsed = time.perf_counter() - started
            # Let what was accepted settle: the sweeper's period plus processing.
            wait_for(lambda: not _in_flight(exchange.dsn), 180, "accepted uploads to settle")
            problems = end_state(exchange.dsn, stats)
        finally:
            exchange.stop()
            redis.stop()
    served = len(stats.latencies)
    latencies = sorted(stats.latencies)
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0
    print(f"soak: {elapsed:.0f} s, {AGENCIES} agencies + {READERS} readers, PostgreSQL + Redis "
          f"+ 2 workers, {os.cpu_count()} cores")
    for line in log:
        print(f"  fault: {line}")
    print(f"  requests served: {served:,} ({served / elapsed:.0f}/s); errors: "
          f"{len(stats.errors)} ({len(stats.errors) / max(served, 1):.2%}); 429: "
          f"{stats.throttled}; /readyz not ready (during faults): {stats.not_ready}")
    print(f"  latency p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    print(f"  uploads accepted: {len(stats.accepted)}; releases requested: "
          f"{stats.releases_requested}; public reads checked: {stats.reads} "
          f"({stats.cells_read:,} cells, {len(stats.violations)} violations)")
    for error in stats.errors[:10]:
        print(f"    error: {error}")
    if problems:
        print(f"  END STATE: {len(problems)} problem(s)")
        for problem in problems[:20]:
            print(f"    {problem}")
        return 1
    print("  END STATE: every accepted upload processed exactly once; nothing lost; nothing "
          "stuck; outbox empty; releases published; no reader saw an unreleased or "
          "unprotected cell")
    return 0


def _in_flight(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        return bool(conn.execute(
            "SELECT (SELECT count(*) FROM submission WHERE next_stage IS NOT NULL) + "
            "(SELECT count(*) FROM release WHERE next_stage IS NOT NULL)").fetchone()[0])  # type: ignore[index]


if __name__ == "__main__":
    sys.exit(main())
