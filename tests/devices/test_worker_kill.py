"""A real django-q2 cluster is killed (SIGKILL) inside the apply's writing transaction, after
the devices were written and before the commit; then the portal "restarts": the recovery sweep
and a new cluster. The import completes, or (no attempt left) fails visibly, and its stored
file is gone after the keep period. On SQLite (own database file) and on PostgreSQL (the test
database). The processes run tests/devices/crash_runner.py with tests/devices/crash_settings.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROWS = 500
STALE_SECONDS = 2
RUNNER = [sys.executable, "-m", "tests.devices.crash_runner"]
ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


class Portal:
    """The separate processes of one scenario: commands, and clusters that can be killed."""

    def __init__(self, tmp_path: Path, database: dict[str, str], max_attempts: int):
        self.tmp = tmp_path
        self.media = tmp_path / "media"
        self.media.mkdir()
        self.env = {name: value for name, value in os.environ.items()
                    if name not in {"DATABASE_URL", "REDIS_URL", "SQLITE_PATH"}}
        self.env.update(database, DJANGO_SETTINGS_MODULE="tests.devices.crash_settings",
                        CRASH_MEDIA_ROOT=str(self.media), DEVICE_IMPORT_INLINE_BYTES="0",
                        PORTAL_JOB_STALE_SECONDS=str(STALE_SECONDS),
                        PORTAL_JOB_MAX_ATTEMPTS=str(max_attempts),
                        Q_CLUSTER_NAME=f"crash-{uuid.uuid4().hex[:10]}")
        self.clusters: list[subprocess.Popen] = []

    def manage(self, *args: str) -> None:
        self._finished([sys.executable, "manage.py", *args])

    def run(self, *args: str) -> dict:
        return json.loads(self._finished([*RUNNER, *args]).strip().splitlines()[-1])

    def _finished(self, command: list[str]) -> str:
        done = subprocess.run(command, cwd=settings.BASE_DIR, env=self.env, text=True,
                              capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr[-4000:]
        return done.stdout

    def cluster(self, *args: str) -> subprocess.Popen:
        log = (self.tmp / f"qcluster-{len(self.clusters)}.log").open("w")
        process = subprocess.Popen([*RUNNER, "qcluster", *args], cwd=settings.BASE_DIR,
                                   env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # its own process group
        self.clusters.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the cluster and every process it forked (their group is the cluster's)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def log(self) -> str:
        return "".join(path.read_text() for path in sorted(self.tmp.glob("qcluster-*.log")))

    def wait_for(self, condition, what: str, seconds: float = 30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what}; cluster log:\n{self.log()[-4000:]}")


def crash_and_restart(portal: Portal, max_attempts: int) -> None:
    import_id = portal.run("prepare", str(ROWS))["import_id"]
    marker = portal.tmp / "paused.json"
    try:
        crashing = portal.cluster("--pause-in-write", str(marker))
        paused = portal.wait_for(lambda: marker.exists() and json.loads(marker.read_text()),
                                 "the worker inside the writing transaction")
        assert paused["written"] == ROWS, "the devices were written, not yet committed"
        portal.kill(crashing)

        report = portal.run("report", str(import_id))
        assert (report["status"], report["devices"]) == ("applying", 0), "nothing committed"
        assert report["claimed_by"].endswith(f":{paused['pid']}")
        stored_file = portal.media / report["storage_path"]
        assert stored_file.exists()

        time.sleep(STALE_SECONDS + 0.5)  # the dead worker's claim is stale now
        recovered = portal.run("recover")
        if max_attempts > 1:
            assert recovered == {"resent": 1, "failed": 0}
            portal.cluster()
            report = portal.wait_for(
                lambda: (r := portal.run("report", str(import_id)))["status"] == "done" and r,
                "the restarted import to complete")
            assert report["devices"] == ROWS and report["attempts"] == 2
            assert report["counts"]["new"] == ROWS
            assert {"device_import.resent", "device_import.applied"} <= set(report["actions"])
            assert not stored_file.exists(), "deleted right after the apply"
        else:
            assert recovered == {"resent": 0, "failed": 1}
            report = portal.run("report", str(import_id))
            assert (report["status"], report["devices"]) == ("failed", 0)
            assert "Die Übernahme der Geräte wurde unterbrochen" in report["error"]
            assert report["actions"][-1] == "device_import.failed"
            assert stored_file.exists(), "kept until the keep period ends"
        hours = settings.DEVICE_IMPORT_KEEP_HOURS + 1
        assert portal.run("cleanup", str(hours)) == {"cleaned": 0 if max_attempts > 1 else 1}
        assert not stored_file.exists()
        assert portal.run("report", str(import_id))["storage_path"] == ""
    finally:
        for process in portal.clusters:
            portal.kill(process)


@pytest.mark.parametrize("max_attempts", [3, 1], ids=["completes", "fails-visibly"])
def test_worker_killed_mid_apply_on_sqlite(tmp_path, max_attempts):
    portal = Portal(tmp_path, {"SQLITE_PATH": str(tmp_path / "portal.sqlite3")}, max_attempts)
    portal.manage("migrate", "--noinput", "-v0")
    portal.manage("createcachetable")
    crash_and_restart(portal, max_attempts)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the PostgreSQL variant needs DATABASE_URL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("max_attempts", [3, 1], ids=["completes", "fails-visibly"])
def test_worker_killed_mid_apply_on_postgresql(tmp_path, max_attempts):
    db = connection.settings_dict  # the test database pytest-django created
    url = (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or 'localhost'}:"
           f"{db['PORT'] or 5432}/{db['NAME']}")
    database = {"DATABASE_URL": url}
    if settings.REDIS_URL:
        database["REDIS_URL"] = settings.REDIS_URL  # the broker is Redis then
    crash_and_restart(Portal(tmp_path, database, max_attempts), max_attempts)
