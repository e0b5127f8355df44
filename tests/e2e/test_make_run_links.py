"""The links in e-mails point at the portal `make run` serves: started with ``make run
PORT=…`` (the command `make -n run` prints), a customer admin invites a colleague in Chromium,
and the link in the e-mail the portal wrote opens the invitation on that same port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from email import message_from_bytes

import pytest
from django_otp.oath import TOTP

from tests.factories import PASSWORD
from tests.portal.test_make_run_stop import (
    ROOT,
    dev_env,
    free_port,
    kill_session,
    serve_command,
    sqlite_path,  # noqa: F401 - the fixture: a migrated SQLite database for the dev settings
    wait_for_http,
    wait_until_gone,
)

pytestmark = pytest.mark.e2e

SETUP = """
from portal.roles import Role
from tests.factories import OrganisationFactory, make_person
admin = make_person(Role.CUSTOMER_ADMIN, OrganisationFactory(name="Kanzlei Weber & Partner"))
print(admin.email, admin.totpdevice_set.get().key)
"""


def mails(folder) -> list:
    found = []
    for path in sorted(folder.iterdir()):
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if raw.strip():
                found.append(message_from_bytes(raw))
    return found


def test_invitation_link_follows_the_port_of_make_run(sqlite_path, tmp_path, page):  # noqa: F811
    port = free_port()
    command = serve_command(port)
    assert f'PORTAL_BASE_URL="http://127.0.0.1:{port}"' in command
    env = {**dev_env(sqlite_path),
           "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
           "EMAIL_FILE_PATH": str(tmp_path / "mail")}
    setup = subprocess.run([sys.executable, "manage.py", "shell", "-c", SETUP], cwd=ROOT,
                           env=env, check=True, capture_output=True, text=True)
    email, key = setup.stdout.split()[-2:]
    log = tmp_path / "serve.log"
    server = subprocess.Popen(["sh", "-c", command], cwd=ROOT, env=env, stdout=log.open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(port, server, log)
        page.goto(f"{base}/konto/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]:not(.button--small)")
        page.wait_for_url(re.compile(r"/konto/2fa/pruefen/"))
        page.fill("input[name=token]", f"{TOTP(bytes.fromhex(key)).token():06d}")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.click("nav >> text=Team")
        page.click("text=Person einladen")
        page.fill("input[name=first_name]", "Eva")
        page.fill("input[name=last_name]", "Neumann")
        page.fill("input[name=email]", "eva.neumann@kanzlei-weber.example")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/team/")

        [invitation] = [m for m in mails(tmp_path / "mail")
                        if m["To"] == "eva.neumann@kanzlei-weber.example"]
        body = next(part.get_payload(decode=True).decode(part.get_content_charset())
                    for part in invitation.walk() if part.get_content_type() == "text/plain")
        link = re.search(r"http\S+/einladung/\S+/", body).group(0)
        assert link.startswith(f"{base}/einladung/"), link
        page.context.clear_cookies()
        page.goto(link)
        assert page.url == link and page.locator("input[name=password1]").count() == 1
    finally:
        os.killpg(server.pid, signal.SIGINT)
        left = wait_until_gone(server, 10)
        kill_session(server.pid)
    assert left == [], log.read_text()
