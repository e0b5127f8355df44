"""Load benchmark: the production settings under gunicorn (2 workers) on PostgreSQL + Redis,
50 concurrent connections for 60 s over logged-in, MFA-verified portal pages and admin
changelists, then the same load on a bare Django view (one 20-row query, one template) served
by the same gunicorn and settings: anonymous (the primary baseline) and with the verified
customer sessions (the second baseline: the same middleware cost as the real pages).
Reported: requests/s, p50/p95/p99 latency, 5xx and non-2xx, and the ratios real/bare for both
baselines; never a timed assertion.

Environment: BENCH_LOAD_SECONDS (60), BENCH_LOAD_WARMUP_SECONDS (5), BENCH_LOAD_CONNECTIONS
(50), BENCH_LOAD_THREADS (wrk threads, 1), BENCH_LOAD_DEVICES (300),
BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/portal_bench, dropped and created
again on every run), BENCH_REDIS_URL (redis://127.0.0.1:6379/7, flushed on every run).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.perf.load_client import PortalClient, expect_page, login_verified, totp_code
from tests.perf.load_plan import (
    ADMIN_PATHS,
    BARE_PATH,
    BARE_VERIFIED,
    PORTAL_PATHS,
    bare_verified_plan,
    mixed_plan,
    page_markers,
    write_plan,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LUA_SCRIPT = Path(__file__).with_name("load.lua")
WORKERS = 2
CUSTOMER_SESSIONS = 4
SINGLE_REPEAT = 5
GOAL_RATIO, GOAL_P99_SECONDS = 0.5, 1.0
#: The loads, in the order they run and are reported.
BARE, BARE_WITH_SESSION, REAL = "bare view", "bare view (verified)", "real mix"


def _setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class LoadResult:
    values: dict[str, int]

    @property
    def requests(self) -> int:
        return self.values["requests"]

    @property
    def per_second(self) -> float:
        return self.requests / (self.values["duration_us"] / 1e6)

    def latency_ms(self, name: str) -> float:
        return self.values[f"latency_{name}_us"] / 1e3

    def statuses(self) -> dict[int, int]:
        return {int(key.removeprefix("status_")): count for key, count in self.values.items()
                if key.startswith("status_")}

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses().items() if status >= 500)

    @property
    def not_ok(self) -> int:
        return sum(count for status, count in self.statuses().items()
                   if not 200 <= status < 300)

    @property
    def socket_errors(self) -> int:
        return sum(self.values[f"error_{name}"] for name in ("connect", "read", "write",
                                                             "timeout"))


def _environment(port: int) -> dict[str, str]:
    """The production settings (with the benchmark's URLconf), configured from the environment
    like any deployment: plain HTTP on loopback, the TLS proxy's header sent by the client."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.perf.load_settings",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": _setting("BENCH_DATABASE_URL",
                                 "postgres://postgres@127.0.0.1:5432/portal_bench"),
        "REDIS_URL": _setting("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"),
        "CACHE_KEY_PREFIX": "bench",
        "STATIC_ROOT": str(BASE_DIR / "var" / "bench" / "static"),
        "MEDIA_ROOT": str(BASE_DIR / "var" / "bench" / "media"),
        # Booking confirmations of the seed go nowhere: there is no SMTP server on this host.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PORTAL_BASE_URL": f"https://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def _seed(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.perf.load_seed"], cwd=BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"seeding the benchmark database failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


@contextmanager
def _gunicorn(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """gunicorn in its own process group, stopped (TERM, then KILL) whatever happens."""
    command = [sys.executable, "-m", "gunicorn", "portal.wsgi:application",
               "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "--timeout", "60",
               "--graceful-timeout", "5", "--error-logfile", str(log), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, base_url, log)
        yield base_url
    finally:
        _stop(process)


def _wait_healthy(process: subprocess.Popen, base_url: str, log: Path) -> None:
    client = PortalClient(base_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{_log_tail(log)}")
        try:
            if client.get("/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer /healthz with 200 in 60 s:\n{_log_tail(log)}")


def _wait_drained(base_url: str) -> None:
    """gunicorn's sync workers still serve what wrk sent before it stopped (the listen
    backlog); the next measurement starts once a health check has made it through."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if PortalClient(base_url).get("/healthz").status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not drain its backlog within 120 s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def _sessions(base_url: str, logins: dict) -> tuple[list[PortalClient], PortalClient]:
    """Real logins: password form, then the second factor. Each person's first session uses
    the authenticator code; the customer admin's further sessions (other devices of the same
    person) use backup codes, because a TOTP code is accepted only once per 30 s step."""
    customer, provider = logins["customer_admin"], logins["provider_admin"]
    codes = [totp_code(customer["totp_secret"]), *customer["backup_codes"]]
    customers = []
    for code in codes[:CUSTOMER_SESSIONS]:
        client = PortalClient(base_url)
        login_verified(client, email=customer["email"], password=customer["password"],
                       code=code)
        customers.append(client)
    admin = PortalClient(base_url)
    login_verified(admin, email=provider["email"], password=provider["password"],
                   code=totp_code(provider["totp_secret"]))
    return customers, admin


def _check_pages(customers: list[PortalClient], admin: PortalClient,
                 markers: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """Every session gets 200 with the real content on every page of its mix (no redirect to
    login or MFA); then the median of a few single requests per page, in ms (warms up too)."""
    single = {}
    anonymous = PortalClient(admin.base_url)
    pages = [(path, customers) for path in PORTAL_PATHS] + [(path, [admin])
                                                            for path in ADMIN_PATHS]
    for path, clients in [*pages, (BARE_PATH, [anonymous])]:
        for client in clients:
            expect_page(client, path, *markers[path])
        single[path] = _median_ms(clients[0], path)
    single[BARE_VERIFIED] = _median_ms(customers[0], BARE_PATH)
    return single


def _median_ms(client: PortalClient, path: str) -> float:
    return statistics.median(expect_page(client, path).seconds
                             for _ in range(SINGLE_REPEAT)) * 1e3


def _wrk(base_url: str, plan_file: Path, seconds: int) -> LoadResult:
    command = ["wrk", "--threads", _setting("BENCH_LOAD_THREADS", "1"),
               "--connections", _setting("BENCH_LOAD_CONNECTIONS", "50"),
               "--duration", f"{seconds}s", "--timeout", "10s", "--script", str(LUA_SCRIPT),
               base_url, "--", str(plan_file)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    values = {}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            _tag, key, value = line.split()
            values[key] = int(value)
    return LoadResult(values)


def _print_report(seed: dict, single: dict[str, float], results: dict[str, LoadResult],
                  seconds: int) -> None:
    print(f"load: gunicorn {WORKERS} workers, production settings, PostgreSQL + Redis; wrk "
          f"{_setting('BENCH_LOAD_THREADS', '1')} thread(s), "
          f"{_setting('BENCH_LOAD_CONNECTIONS', '50')} connections, {seconds} s per load")
    print(f"  {seed['customer']}: {seed['devices']} devices; {CUSTOMER_SESSIONS} verified "
          f"customer-admin sessions, 1 provider-admin session; load average at the start "
          f"{seed['load_average']:.2f} on {os.cpu_count()} CPUs (other work skews the figures)")
    print(f"  real mix, per rotation: {CUSTOMER_SESSIONS} customer sessions x "
          f"{', '.join(PORTAL_PATHS)} + the provider admin on {len(ADMIN_PATHS)} changelists; "
          f"bare view: anonymous {BARE_PATH}; bare view (verified): {BARE_PATH} with the "
          f"{CUSTOMER_SESSIONS} customer sessions")
    print(f"  {'page (single requests, median)':32} {'queries':>7} {'time':>11}")
    for path, milliseconds in single.items():
        print(f"  {path:32} {seed['queries'][path]:>7} {milliseconds:8.1f} ms")
    print(f"  {'load':32} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'5xx':>5} {'non-2xx':>7} {'sock.err':>8}")
    for label, result in results.items():
        print(f"  {label:32} {result.per_second:7.1f} {result.latency_ms('p50'):8.1f} "
              f"{result.latency_ms('p95'):8.1f} {result.latency_ms('p99'):8.1f} "
              f"{result.latency_ms('max'):8.1f} {result.server_errors:5} {result.not_ok:7} "
              f"{result.socket_errors:8}")
    real, bare, verified = results[REAL], results[BARE], results[BARE_WITH_SESSION]
    ratio = real.per_second / bare.per_second
    print(f"  ratio real/bare {ratio:5.2f}x requests/s "
          f"(goal >= {GOAL_RATIO:.2f}: {'met' if ratio >= GOAL_RATIO else 'MISSED'}); "
          f"p99 < {GOAL_P99_SECONDS:.0f} s: "
          f"{'met' if real.latency_ms('p99') < GOAL_P99_SECONDS * 1e3 else 'MISSED'}; "
          f"5xx: {sum(result.server_errors for result in results.values())}")
    print(f"  ratio real/bare (verified) {real.per_second / verified.per_second:5.2f}x "
          f"requests/s (the same middleware cost on both sides; "
          f"bare (verified)/bare {verified.per_second / bare.per_second:4.2f}x)")
    statuses = ", ".join(f"{status}: {count}" for status, count in
                         sorted(real.statuses().items()))
    print(f"  real mix status codes: {statuses}")


def main() -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("bench_load needs wrk (make bench installs it: apt-get install wrk)")
    load_average = os.getloadavg()[0]
    seconds = int(_setting("BENCH_LOAD_SECONDS", "60"))
    warmup = int(_setting("BENCH_LOAD_WARMUP_SECONDS", "5"))
    port = _free_port()
    env = _environment(port)
    _recreate_database(env["DATABASE_URL"])
    _flush_redis(env["REDIS_URL"])
    seed = {**_seed(env), "load_average": load_average}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        work = Path(scratch)
        with _gunicorn(env, port, work / "gunicorn.log") as base_url:
            customers, admin = _sessions(base_url, seed["logins"])
            single = _check_pages(customers, admin, page_markers(seed["customer"]))
            cookies = [client.cookie_header() for client in customers]
            plans = {BARE: write_plan(work / "bare.plan", [(BARE_PATH, "")]),
                     BARE_WITH_SESSION: write_plan(work / "bare_verified.plan",
                                                   bare_verified_plan(cookies)),
                     REAL: write_plan(work / "real.plan",
                                      mixed_plan(cookies, admin.cookie_header()))}
            results = {}
            for label, plan_file in plans.items():
                if warmup:
                    _wrk(base_url, plan_file, warmup)
                    _wait_drained(base_url)
                results[label] = _wrk(base_url, plan_file, seconds)
                _wait_drained(base_url)
            errors = _log_tail(work / "gunicorn.log")
    _print_report(seed, single, results, seconds)
    if errors.strip():
        print(f"  gunicorn error log (tail):\n{errors}")


if __name__ == "__main__":
    main()
