"""E-mail links follow `make run HOST=… PORT=…` unless PORTAL_BASE_URL is set."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

from tests.portal.test_invitations import INVITE_URL, invite_data, link_from

ROOT = Path(__file__).resolve().parents[2]
needs_make = pytest.mark.skipif(shutil.which("make") is None,
                                reason="GNU make is required to read `make run`")


def base_url_in_settings(environ: dict[str, str]) -> str:
    """settings.PORTAL_BASE_URL as the dev settings (manage.py's default) compute it."""
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_BASE_URL"}
    env.update(environ, DJANGO_SETTINGS_MODULE="portal.settings.dev")
    code = "from django.conf import settings; print(settings.PORTAL_BASE_URL)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def make_run_environment(*args: str, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The variables `make run` sets on its serving command (from a dry run)."""
    # Under `make test` the sub-make would inherit MAKELEVEL and print directory lines.
    env = {k: v for k, v in os.environ.items()
           if k not in {"PORTAL_BASE_URL", "MAKEFLAGS", "MAKELEVEL"}}
    env.update(environ or {})
    out = subprocess.run(["make", "--no-print-directory", "-n", "run", *args], cwd=ROOT,
                         env=env, check=True, capture_output=True, text=True).stdout
    line = out.strip().splitlines()[-1]
    assert "manage.py serve" in line, out
    return dict(word.split("=", 1) for word in shlex.split(line) if "=" in word)


def test_dev_settings_read_the_base_url_from_the_environment():
    assert base_url_in_settings({"PORTAL_BASE_URL": "http://192.0.2.7:8123/"}) == (
        "http://192.0.2.7:8123")
    assert base_url_in_settings({}) == "http://127.0.0.1:8000"


@needs_make
def test_make_run_exports_a_base_url_from_host_and_port():
    assert make_run_environment("PORT=8123") == {"PORTAL_BASE_URL": "http://127.0.0.1:8123"}
    assert make_run_environment("HOST=0.0.0.0", "PORT=9000") == {
        "PORTAL_BASE_URL": "http://0.0.0.0:9000"}


@needs_make
def test_make_run_keeps_a_base_url_that_is_set():
    env = make_run_environment("PORT=8123",
                               environ={"PORTAL_BASE_URL": "https://portal.example.com"})
    assert env == {"PORTAL_BASE_URL": "https://portal.example.com"}
    assert make_run_environment("PORT=8123", "PORTAL_BASE_URL=https://x.example") == {
        "PORTAL_BASE_URL": "https://x.example"}


@needs_make
def test_invitation_link_uses_the_base_url_of_make_run(world, verified_client, settings,
                                                       django_capture_on_commit_callbacks):
    settings.PORTAL_BASE_URL = base_url_in_settings(make_run_environment("PORT=8123"))
    client = verified_client(world["people"]["customer_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(INVITE_URL, invite_data()).status_code == 302
    (message,) = mail.outbox
    link = link_from(message)
    assert link.startswith("http://127.0.0.1:8123/einladung/")
    assert link in message.alternatives[0][0]
