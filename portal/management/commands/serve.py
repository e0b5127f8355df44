"""``manage.py serve``: the development server with a django-q2 cluster beside it (``make run``).

A small supervisor instead of a shell ``trap 'kill 0'``: that trap signalled its own process
group, itself included, and re-ran on every signal it sent (the shell overflowed its stack:
"Segmentation fault"), and Ctrl-C reached every qcluster process at once, so django-q2's
handler ran again and again inside itself while its sentinel waited for the workers.

Here each child runs in a process group of its own, so Ctrl-C reaches only this process. It
then asks each child to stop exactly once, the way the child expects: runserver (the reloader
and its server process) gets SIGINT like a Ctrl-C, the qcluster main process gets one SIGTERM
and stops its sentinel, workers, monitor and pusher itself. A child that is not gone after
``--stop-timeout`` seconds (or at a second Ctrl-C) is killed with its whole process group. When
one child ends on its own (port in use, broken settings), the other is stopped too and the exit
code says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
POLL_SECONDS = 0.1


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    stop_signal: signal.Signals
    whole_group: bool

    def running(self) -> bool:
        return self.process.poll() is None

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - a reused id owned by somebody else
            return False
        return True

    def ask_to_stop(self) -> None:
        if not self.running():
            return
        if self.whole_group:
            _signal_group(self.process.pid, self.stop_signal)
        else:
            self.process.send_signal(self.stop_signal)

    def kill(self) -> None:
        _signal_group(self.process.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


class Command(BaseCommand):
    help = "Start runserver and a django-q2 cluster; Ctrl-C stops both cleanly."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")
        parser.add_argument("--stop-timeout", type=float, default=10.0)

    def handle(self, *args, host, port, stop_timeout, **options):
        self.stop_requested: int | None = None
        self.kill_now = False
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = [
            self._start("qcluster", [*manage, "qcluster"], signal.SIGTERM, whole_group=False),
            self._start("runserver", [*manage, "runserver", f"{host}:{port}"], signal.SIGINT,
                        whole_group=True),
        ]
        ended = self._wait_for_stop(children)
        for child in children:
            child.ask_to_stop()
        self._wait_until_gone(children, stop_timeout)
        if ended is not None:
            self.stderr.write(_("%(name)s hat sich unerwartet beendet (Code %(code)s).")
                              % {"name": ended.name, "code": ended.process.returncode})
            sys.exit(1)
        self.stdout.write(_("runserver und qcluster sind beendet."))

    def _on_signal(self, signum, frame) -> None:
        self.kill_now = self.stop_requested is not None
        self.stop_requested = signum

    def _start(self, name, command, stop_signal, *, whole_group) -> Child:
        # Our own interpreter and manage.py, fixed arguments: no untrusted input.
        process = subprocess.Popen(command, process_group=0)  # noqa: S603
        return Child(name, process, stop_signal, whole_group)

    def _wait_for_stop(self, children: list[Child]) -> Child | None:
        """Block until a stop signal arrives (None) or a child ends on its own (that child)."""
        while self.stop_requested is None:
            for child in children:
                if not child.running():
                    return child
            time.sleep(POLL_SECONDS)
        self.stdout.write(_("Beende runserver und qcluster …"))
        return None

    def _wait_until_gone(self, children: list[Child], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while any(c.running() or c.group_alive() for c in children):
            if self.kill_now or time.monotonic() >= deadline:
                for child in children:
                    if child.running() or child.group_alive():
                        self.stderr.write(_("%(name)s reagiert nicht, wird beendet.")
                                          % {"name": child.name})
                        child.kill()
                for child in children:
                    child.process.wait()
                return
            time.sleep(POLL_SECONDS)
