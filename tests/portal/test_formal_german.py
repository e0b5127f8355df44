"""Every German text a customer sees is formal ("Sie"), including django-allauth's.

allauth's German catalog says "du". ``locale_overrides/de`` holds formal msgstrs for those
msgids by hand; it is the first entry of ``LOCALE_PATHS`` and so wins over allauth's catalog.
When an allauth upgrade brings new informal strings, ``test_no_allauth_string_is_informal``
lists them: translate them in ``locale_overrides/de/LC_MESSAGES/django.po`` and compile it::

    cd locale_overrides/de/LC_MESSAGES && msgfmt -c -o django.mo django.po
"""

from __future__ import annotations

import gettext as pygettext
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import allauth
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from tests.portal.test_translations import Entry, parse_po

BASE_DIR = Path(settings.BASE_DIR)
OVERRIDES = BASE_DIR / "locale_overrides"
OVERRIDE_PO = OVERRIDES / "de" / "LC_MESSAGES" / "django.po"
OVERRIDE_MO = OVERRIDES / "de" / "LC_MESSAGES" / "django.mo"
ALLAUTH_PO = Path(allauth.__file__).resolve().parent / "locale/de/LC_MESSAGES/django.po"

# Informal address: du-pronouns, du-verb forms and the imperatives allauth's catalog uses.
INFORMAL = re.compile(
    r"\b(du|dein\w*|dich|dir|Du|Dein\w*|Dich|Dir|versuche|gib|Gib|klicke|Klicke|bestätige"
    r"|Bestätige|melde|Melde|wende|Wende|hast|Hast|bist|Bist|kannst|Kannst|möchtest|Möchtest"
    r"|willst|Willst|wähle|Wähle|kontaktiere|Kontaktiere|überprüfe|Überprüfe|prüfe|Prüfe"
    r"|klick|lass|Lass|rufe|Rufe|gehe|Gehe|füge|Füge|ändere|Ändere|lege|Lege|verwende"
    r"|Verwende|schau|Schau|erstelle|Erstelle)\b"
)
# %(name)s, %s, %d and {name} placeholders; HTML tags are compared verbatim.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
TAG = re.compile(r"<[^>]+>")


def catalog(path: Path) -> list[Entry]:
    return [e for e in parse_po(path) if e.msgid]


def sources(entry: Entry) -> dict[int, str]:
    """The msgid each msgstr form translates (msgstr[1] translates msgid_plural)."""
    if entry.msgid_plural is None:
        return {0: entry.msgid}
    return {0: entry.msgid, 1: entry.msgid_plural}


def at_runtime(entry: Entry) -> list[str]:
    """What Django shows for ``entry`` in the active language (both plural forms if any)."""
    if entry.msgid_plural is not None:
        if entry.msgctxt is not None:
            return [
                translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                for n in (1, 2)
            ]
        return [translation.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
    if entry.msgctxt is not None:
        return [translation.pgettext(entry.msgctxt, entry.msgid)]
    return [translation.gettext(entry.msgid)]


def is_informal(entry: Entry) -> bool:
    return any(INFORMAL.search(text) for text in entry.msgstr.values())


def visible_text(html: str) -> str:
    return " ".join(TAG.sub(" ", html).split())


# --- Configuration -------------------------------------------------------------------------------


def test_overrides_come_first_in_locale_paths():
    assert [Path(p) for p in settings.LOCALE_PATHS] == [OVERRIDES, BASE_DIR / "locale"]


@pytest.mark.parametrize(
    ("text", "informal"),
    [
        ("Bitte gib dein aktuelles Passwort ein.", True),
        ("Bitte kontaktiere uns.", True),
        ("Lass Dir bitte eine neue Bestätigungs-Mail schicken.", True),
        ("Bitte geben Sie Ihr aktuelles Passwort ein.", False),
        ("Bitte wenden Sie sich an uns, falls Probleme auftreten.", False),
        ("Folgende E-Mail-Adressen sind mit diesem Konto verknüpft:", False),
        ("Ich habe meine Wiederherstellungscodes gespeichert", False),
    ],
)
def test_informal_pattern(text, informal):
    assert bool(INFORMAL.search(text)) is informal


# --- (a) Known allauth strings come out formal ---------------------------------------------------

SAMPLES = {
    "Too many failed login attempts. Try again later.":
        "Zu viele gescheiterte Anmeldeversuche. Bitte versuchen Sie es später erneut.",
    "Forgotten your password? Enter your email address below, and we'll send you an email "
    "allowing you to reset it.":
        "Passwort vergessen? Geben Sie unten Ihre E-Mail-Adresse ein. Wir senden Ihnen dann "
        "eine E-Mail, mit der Sie Ihr Passwort zurücksetzen können.",
    "Please contact us if you have any trouble resetting your password.":
        "Bitte wenden Sie sich an uns, falls beim Zurücksetzen Ihres Passworts Probleme "
        "auftreten.",
    "Please type your current password.": "Bitte geben Sie Ihr aktuelles Passwort ein.",
    "Are you sure you want to sign out?": "Möchten Sie sich wirklich abmelden?",
    "You have signed out.": "Sie haben sich abgemeldet.",
}


@pytest.mark.parametrize("msgid", list(SAMPLES))
def test_allauth_sample_is_formal(msgid):
    with translation.override("de"):
        assert translation.gettext(msgid) == SAMPLES[msgid]


def test_placeholders_survive_formatting():
    msgid = "Already have an account? Then please %(link)ssign in%(end_link)s."
    with translation.override("de"):
        text = translation.gettext(msgid) % {"link": "<a>", "end_link": "</a>"}
    assert text == "Sie haben bereits ein Konto? Dann <a>melden Sie sich bitte an</a>."


def test_overrides_leave_english_alone():
    with translation.override("en"):
        for msgid in SAMPLES:
            assert translation.gettext(msgid) == msgid


# --- (b) No allauth msgid is informal at runtime -------------------------------------------------


def test_no_allauth_string_is_informal():
    """Scan allauth's German catalog; whatever Django shows for its msgids must be formal.

    Every msgid is checked, so a new allauth version with new informal strings fails here.
    """
    entries = catalog(ALLAUTH_PO)
    assert len(entries) > 100, f"{ALLAUTH_PO} looks empty or unreadable"
    informal_upstream = [e for e in entries if is_informal(e)]
    assert informal_upstream, "allauth no longer says 'du' – locale_overrides may be obsolete"
    offenders = []
    with translation.override("de"):
        for entry in entries:
            for text in at_runtime(entry):
                if INFORMAL.search(text):
                    offenders.append(f"{entry.msgid!r}\n    -> {text!r}")
    assert not offenders, (
        f"Informal German at runtime; add formal msgstrs to {OVERRIDE_PO.relative_to(BASE_DIR)} "
        "and compile it:\n" + "\n".join(offenders)
    )


# --- The override catalog itself -----------------------------------------------------------------


def test_override_header():
    header = next(e for e in parse_po(OVERRIDE_PO) if not e.msgid).msgstr[0]
    assert "Language: de\n" in header
    assert "Content-Type: text/plain; charset=UTF-8\n" in header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header


def test_override_entries_are_complete_formal_and_faithful():
    upstream = {e.key: e for e in catalog(ALLAUTH_PO)}
    overrides = catalog(OVERRIDE_PO)
    assert overrides, f"{OVERRIDE_PO} has no entries"
    problems = []
    for entry in overrides:
        where = f"line {entry.line}: {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            problems.append(f"{where} is fuzzy")
        if entry.key not in upstream:
            problems.append(f"{where} is not an allauth msgid (any more) – remove it")
        for index, source in sources(entry).items():
            text = entry.msgstr.get(index, "")
            if not text.strip():
                problems.append(f"{where} msgstr[{index}] is empty")
            if INFORMAL.search(text):
                problems.append(f"{where} msgstr[{index}] is informal: {text!r}")
            if Counter(PLACEHOLDER.findall(text)) != Counter(PLACEHOLDER.findall(source)):
                problems.append(f"{where} msgstr[{index}] changes the placeholders")
            if Counter(TAG.findall(text)) != Counter(TAG.findall(source)):
                problems.append(f"{where} msgstr[{index}] changes the HTML tags")
    assert not problems, "\n".join(problems)


def test_every_informal_allauth_msgid_has_an_override():
    overridden = {e.key for e in catalog(OVERRIDE_PO)}
    missing = [e.msgid for e in catalog(ALLAUTH_PO) if is_informal(e) and e.key not in overridden]
    assert not missing, "Informal allauth strings without override:\n" + "\n".join(missing)


# --- (c) The committed .mo is compiled from the current .po --------------------------------------


def test_compiled_override_matches_po(tmp_path):
    assert OVERRIDE_MO.exists(), f"{OVERRIDE_MO} is missing: compile it with msgfmt"
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext (msgfmt) is not installed")
    fresh_mo = tmp_path / "django.mo"
    result = subprocess.run(
        [msgfmt, "-c", "-o", str(fresh_mo), str(OVERRIDE_PO)], capture_output=True, text=True
    )
    assert result.returncode == 0, f"msgfmt -c rejects {OVERRIDE_PO}:\n{result.stderr}"
    with fresh_mo.open("rb") as handle:
        fresh = pygettext.GNUTranslations(handle)
    with OVERRIDE_MO.open("rb") as handle:
        committed = pygettext.GNUTranslations(handle)
    assert committed._catalog == fresh._catalog, (
        f"{OVERRIDE_MO} is out of date: msgfmt -c -o {OVERRIDE_MO} {OVERRIDE_PO}"
    )


# --- Rendered allauth pages ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        ("account_reset_password", {}, "Geben Sie unten Ihre E-Mail-Adresse ein"),
        ("account_reset_password_done", {}, "prüfen Sie bitte Ihren Spam-Ordner"),
        (
            "account_reset_password_from_key",
            {"uidb36": "x", "key": "y"},
            "Bitte fordern Sie einen neuen Link zum Zurücksetzen an",
        ),
    ],
)
@pytest.mark.parametrize("accept_language", [None, "de", "de-DE,de;q=0.9,en;q=0.5"])
def test_allauth_pages_are_formal(client, name, kwargs, expected, accept_language):
    """German is the default language, so no Accept-Language header means German too."""
    headers = {"accept-language": accept_language} if accept_language else {}
    response = client.get(reverse(name, kwargs=kwargs), headers=headers)
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    assert expected in text
    assert not INFORMAL.search(text), INFORMAL.findall(text)


# --- `make messages` writes ./locale and leaves locale_overrides alone ---------------------------

COPY_IGNORE = shutil.ignore_patterns(
    ".venv", "var", "tests", ".git", "__pycache__", "*.pyc", ".*cache", ".benchmarks"
)


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("xgettext", "msgmerge", "msguniq", "msgattrib")),
    reason="GNU gettext is not installed",
)
def test_makemessages_leaves_overrides_alone(tmp_path, monkeypatch):
    """makemessages' default dir is LOCALE_PATHS[0] (locale_overrides), but walking the project
    it meets ./locale and files every source file there, as `make messages` expects."""
    tree = tmp_path / "src"
    shutil.copytree(BASE_DIR, tree, ignore=COPY_IGNORE)
    overrides_before = {
        p.relative_to(tree): p.read_bytes()
        for p in (tree / "locale_overrides").rglob("*")
        if p.is_file()
    }
    for lang in ("de", "en"):
        (tree / "locale" / lang / "LC_MESSAGES" / "django.po").unlink()
    monkeypatch.chdir(tree)
    with override_settings(LOCALE_PATHS=[tree / "locale_overrides", tree / "locale"]):
        call_command(
            "makemessages", locale=["de", "en"], ignore_patterns=[".venv", "var", "tests"],
            no_obsolete=True, verbosity=0,
        )
    overrides_after = {
        p.relative_to(tree): p.read_bytes()
        for p in (tree / "locale_overrides").rglob("*")
        if p.is_file()
    }
    assert overrides_after == overrides_before
    for lang in ("de", "en"):
        assert catalog(tree / "locale" / lang / "LC_MESSAGES" / "django.po")
