"""``make run`` stopped with Ctrl-C stops runserver and qcluster cleanly, quickly and quietly.

The serving command is taken from ``make -n run`` (the demo and migrate steps are left out; a
temporary SQLite database is migrated instead) and started in a session of its own, like a
terminal. Ctrl-C is a SIGINT to that foreground process group; afterwards no process of the
session may be left and the output shows no crash.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from portal.management.commands import serve

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN_SECONDS = 8
CRASH_SIGNS = ("Segmentation fault", "Traceback", "Exception ignored")

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None,
    reason="GNU make is required to read the command of `make run`",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(port: int) -> str:
    """The last line `make -n run` prints: the command that serves."""
    out = subprocess.run(["make", "--no-print-directory", "-n", "run", f"PORT={port}"],
                         cwd=ROOT, check=True,
                         capture_output=True, text=True, env=dev_env(None)).stdout
    line = out.strip().splitlines()[-1]
    assert "manage.py serve" in line, out
    return line


def dev_env(sqlite_path: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "PORTAL_BASE_URL", "MAKEFLAGS", "MAKELEVEL"}}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings.dev"
    if sqlite_path is not None:
        env["SQLITE_PATH"] = str(sqlite_path)
    return env


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "portal.sqlite3"
    for command in (["migrate", "--noinput", "-v0"], ["createcachetable"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, check=True,
                       env=dev_env(path), capture_output=True)
    return path


def session_processes(sid: int) -> list[int]:
    """Processes of session ``sid`` that are not zombies."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def start(command: str, sqlite_path: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(["sh", "-c", command], cwd=ROOT, env=dev_env(sqlite_path),
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_for_http(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the server did not answer within 60 s:\n" + log.read_text())


def wait_until_gone(process: subprocess.Popen, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.poll()
        left = session_processes(process.pid)
        if not left:
            return []
        time.sleep(0.1)
    return session_processes(process.pid)


def kill_session(sid: int) -> None:
    for pid in session_processes(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_ctrl_c_stops_runserver_and_qcluster(sqlite_path, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    process = start(serve_command(port), sqlite_path, log)
    try:
        wait_for_http(port, process, log)
        # runserver's reloader and server, qcluster with sentinel, workers, monitor, pusher
        assert len(session_processes(process.pid)) >= 6, log.read_text()
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        left = wait_until_gone(process, STOP_WITHIN_SECONDS)
        took = time.monotonic() - started
    finally:
        kill_session(process.pid)
    output = log.read_text()
    assert left == [], f"still running after {STOP_WITHIN_SECONDS} s: {left}\n{output}"
    assert took < STOP_WITHIN_SECONDS
    for sign in CRASH_SIGNS:
        assert sign not in output, output
    assert "runserver und qcluster sind beendet." in output


def test_a_child_ending_on_its_own_stops_the_other(sqlite_path, tmp_path):
    """runserver cannot bind (port taken): qcluster is stopped too and serve fails."""
    log = tmp_path / "serve.log"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start(serve_command(port), sqlite_path, log)
        try:
            process.wait(timeout=60)
            left = wait_until_gone(process, STOP_WITHIN_SECONDS)
        finally:
            kill_session(process.pid)
    output = log.read_text()
    assert process.returncode == 1, output
    assert left == [], output
    assert "runserver hat sich unerwartet beendet" in output


def supervisor() -> serve.Command:
    command = serve.Command(stdout=io.StringIO(), stderr=io.StringIO())
    command.stop_requested, command.kill_now = None, False
    return command


def test_a_child_that_does_not_stop_is_killed_with_its_group_after_the_timeout():
    command = supervisor()
    child = command._start("stubborn", ["sh", "-c", "sleep 60 & sleep 60"], signal.SIGTERM,
                           whole_group=False)
    started = time.monotonic()
    command._wait_until_gone([child], timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 5
    assert child.process.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 2  # the orphaned `sleep` is reaped by init, not by us
    while child.group_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not child.group_alive()
    assert "stubborn reagiert nicht, wird beendet." in command.stderr._out.getvalue()


def test_a_second_ctrl_c_kills_at_once():
    command = supervisor()
    child = command._start("slow", ["sleep", "60"], signal.SIGTERM, whole_group=False)
    command._on_signal(signal.SIGINT, None)
    assert not command.kill_now
    command._on_signal(signal.SIGINT, None)
    started = time.monotonic()
    command._wait_until_gone([child], timeout=60)
    assert time.monotonic() - started < 5
    assert child.process.returncode == -signal.SIGKILL


def test_serve_children_run_in_their_own_process_group():
    """Ctrl-C must reach only the supervisor, which then stops each child exactly once."""
    child = serve.Command()._start("sleeper", [sys.executable, "-c", "import time; time.sleep(30)"],
                                   signal.SIGTERM, whole_group=False)
    try:
        assert os.getpgid(child.process.pid) == child.process.pid != os.getpgid(0)
        child.ask_to_stop()
        assert child.process.wait(timeout=5) == -signal.SIGTERM
    finally:
        child.kill()
    assert shlex.split(serve_command(8123))[-4:] == ["--host", "127.0.0.1", "--port", "8123"]
