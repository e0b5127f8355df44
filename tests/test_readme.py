"""The README a newcomer reads: its links and paths exist in this repository, its roles table is
the roles that exist, and its sample inventory fits the demo it tells them to seed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from devices.importing import CHANGED, INVALID, NEW, UNCHANGED, plan_import
from devices.spreadsheets import read_sheet
from portal.roles import Role

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
#: Markdown links and images: [text](target) / ![alt](target).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
#: A path in backticks: `dir/file`, `dir/`, `.ci/run` (no URLs, no rate syntax like `30/h/key`).
CODE_PATH = re.compile(r"`(\.?[A-Za-z][\w-]*(?:/[\w.-]*)+)`")
#: Created at run time (`make run`, settings), listed in .gitignore on purpose.
RUNTIME_DIRS = ("var/",)


def relative_links() -> list[str]:
    return [target.split("#", 1)[0] for target in LINK.findall(README)
            if not re.match(r"[a-z]+:|#", target)]


def repository_paths() -> list[str]:
    return [path for path in CODE_PATH.findall(README) if not path.startswith(RUNTIME_DIRS)]


def test_readme_has_relative_links_and_paths_to_check():
    assert "docs/screenshots/dashboard.png" in relative_links()
    assert "docs/periods.md" in repository_paths()


def test_every_relative_link_points_to_a_file_in_the_repository():
    missing = [target for target in relative_links() if not (ROOT / target).is_file()]
    assert missing == []


def test_every_path_the_readme_names_exists():
    missing = [path for path in repository_paths() if not (ROOT / path).exists()]
    assert missing == []


def test_readme_refers_to_nothing_outside_the_repository():
    assert "../" not in README
    for outside in ("DESIGN.md", "DOMAIN.md", "/work/", "seeds/"):
        assert outside not in README, outside


@pytest.mark.skipif(shutil.which("git") is None, reason="git is required to read .gitignore")
def test_no_file_the_readme_names_is_ignored_by_git():
    paths = sorted({*relative_links(), *repository_paths(), "docs/periods.md"})
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT,
                             capture_output=True, text=True)
    assert ignored.returncode == 1, ignored.stdout + ignored.stderr  # 1: none is ignored
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", "docs/periods.md"],
                             cwd=ROOT, capture_output=True, text=True)
    assert tracked.returncode == 0, tracked.stderr


def roles_table() -> list[list[str]]:
    section = README.split("## Who uses it", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [[cell.strip().strip("`") for cell in row.strip("|").split("|")] for row in rows]


def test_roles_table_lists_exactly_the_roles_with_their_labels():
    with translation.override("de"):
        german = [str(label) for label in Role.labels]
    with translation.override("en"):
        english = [str(label) for label in Role.labels]
    table = roles_table()
    assert [row[0] for row in table] == german
    assert [row[1] for row in table] == english
    assert [row[2] for row in table] == list(Role.values)


@pytest.mark.parametrize("name", ["devices.csv", "devices.xlsx"])
def test_the_sample_adds_devices_to_the_demo_customer_and_updates_one(db, name):
    from portal.demo import PEOPLE, demo_seed
    from portal.models import Membership

    demo_seed()
    email = re.search(r"log in as the demo customer admin `([^`]+)`", README).group(1)
    assert (Role.CUSTOMER_ADMIN, email) in [(person[0], person[1]) for person in PEOPLE]
    customer = Membership.objects.get(user__email=email).organisation
    path = ROOT / "docs" / "samples" / name

    result = plan_import(customer, read_sheet(path.read_bytes(), name))

    assert result.counts == {NEW: 40, CHANGED: 1, UNCHANGED: 0, INVALID: 0}, [
        (row.line, row.errors) for row in result.rows if row.errors]
    (changed,) = [row for row in result.rows if row.status == CHANGED]
    assert changed.hostname == "SRV-BACKUP01"
    assert "hostname" not in changed.changes
