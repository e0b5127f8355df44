"""The German and English catalogs are complete, consistent and actually used at runtime.

German is the source language: every msgstr in ``locale/de`` repeats its msgid. English must
translate every msgid; an empty or fuzzy entry fails the suite. After changing translatable
strings run ``make messages``, translate the new entries and commit the ``.po`` and ``.mo``.
"""

from __future__ import annotations

import ast
import gettext as pygettext
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.template import Context, Template
from django.test import override_settings
from django.utils import translation

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
CATALOG = "LC_MESSAGES/django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


def _unquote(text: str, path: Path, lineno: int) -> str:
    text = text.strip()
    if not (len(text) >= 2 and text[0] == text[-1] == '"'):
        raise AssertionError(f"{path}:{lineno}: malformed string {text!r}")
    return ast.literal_eval(text)


def parse_po(path: Path) -> list[Entry]:
    """A small PO parser: comments, flags, msgctxt, msgid(_plural), msgstr(/[n]), continuations.

    Obsolete (``#~``) entries are skipped; the header entry (empty msgid) is returned too.
    """
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None  # the field a continuation line extends
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        keyword, _, rest = line.partition(" ")
        starts_entry = line.startswith("#") or keyword in ("msgctxt", "msgid")
        if starts_entry and entry.msgstr:  # the previous entry is complete
            entries.append(entry)
            entry = Entry()
        if line.startswith("#"):
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            target = None
        elif line.startswith('"'):
            if target is None:
                raise AssertionError(f"{path}:{lineno}: continuation line without a field")
            name, index = target
            value = _unquote(line, path, lineno)
            if name == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, name, getattr(entry, name) + value)
        elif keyword in ("msgctxt", "msgid", "msgid_plural"):
            entry.line = entry.line or lineno
            setattr(entry, keyword, _unquote(rest, path, lineno))
            target = (keyword, 0)
        elif keyword == "msgstr" or re.fullmatch(r"msgstr\[\d+\]", keyword):
            index = int(keyword[7:-1]) if keyword != "msgstr" else 0
            entry.msgstr[index] = _unquote(rest, path, lineno)
            target = ("msgstr", index)
        else:
            raise AssertionError(f"{path}:{lineno}: unexpected line {raw!r}")
    entries.append(entry)
    return [e for e in entries if e.line]


def messages(lang: str) -> list[Entry]:
    return [e for e in parse_po(LOCALE_DIR / lang / CATALOG) if e.msgid]


def header(lang: str) -> Entry:
    return next(e for e in parse_po(LOCALE_DIR / lang / CATALOG) if not e.msgid)


def expected_forms(entry: Entry) -> list[int]:
    return [0, 1] if entry.msgid_plural is not None else [0]


def describe(entry: Entry) -> str:
    return f"line {entry.line}: {entry.msgid!r}"


# --- The parser itself ---------------------------------------------------------------------------


def test_parser_reads_plurals_continuations_and_flags(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#: a.py:1\n#, fuzzy, python-format\nmsgid ""\n"Hallo "\n"%(name)s"\nmsgstr "Hi"\n\n'
        'msgid "Ein \\"Ding\\""\nmsgid_plural "Viele"\nmsgstr[0] "One"\nmsgstr[1] ""\n\n'
        'msgctxt "Monat"\nmsgid "Mai"\nmsgstr "May"\n'
        'msgid "ohne Leerzeile"\nmsgstr ""\n\n'
        '#~ msgid "alt"\n#~ msgstr "old"\n',
        encoding="utf-8",
    )
    head, greeting, plural, month, tight = parse_po(po)
    assert head.msgid == "" and head.msgstr[0] == "Language: en\n"
    assert greeting.msgid == "Hallo %(name)s" and greeting.flags == {"fuzzy", "python-format"}
    assert plural.msgid == 'Ein "Ding"' and plural.msgid_plural == "Viele"
    assert plural.msgstr == {0: "One", 1: ""}
    assert month.key == ("Monat", "Mai", None) and month.msgstr == {0: "May"}
    assert tight.msgid == "ohne Leerzeile" and tight.msgstr == {0: ""}


# --- (a) English is complete ---------------------------------------------------------------------


def test_english_catalog_is_not_empty():
    assert len(messages("en")) > 100


def test_every_english_entry_is_translated():
    untranslated = [
        describe(e)
        for e in messages("en")
        if any(not e.msgstr.get(i, "").strip() for i in expected_forms(e))
    ]
    assert not untranslated, "Untranslated English entries:\n" + "\n".join(untranslated)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_no_fuzzy_entries(lang):
    fuzzy = [describe(e) for e in parse_po(LOCALE_DIR / lang / CATALOG) if "fuzzy" in e.flags]
    assert not fuzzy, f"Fuzzy entries in {lang} (review and drop the flag):\n" + "\n".join(fuzzy)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_catalog_header(lang):
    text = header(lang).msgstr[0]
    assert f"Language: {lang}\n" in text
    assert "charset=UTF-8" in text
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in text


def test_english_keeps_every_placeholder():
    broken = []
    for entry in messages("en"):
        sources = [entry.msgid, entry.msgid_plural or entry.msgid]
        for index in expected_forms(entry):
            wanted = set(PLACEHOLDER.findall(sources[index]))
            if set(PLACEHOLDER.findall(entry.msgstr.get(index, ""))) != wanted:
                broken.append(f"{describe(entry)} msgstr[{index}] should use {sorted(wanted)}")
    assert not broken, "Placeholder mismatch:\n" + "\n".join(broken)


def test_english_is_actually_english():
    """German umlauts or ß in an English msgstr usually mean a string was copied, not translated."""
    suspicious = [
        describe(e)
        for e in messages("en")
        if any(re.search("[äöüÄÖÜß]", text) for text in e.msgstr.values())
    ]
    assert not suspicious, "English msgstr containing German characters:\n" + "\n".join(suspicious)


# --- (b) German mirrors English ------------------------------------------------------------------


def test_german_and_english_have_the_same_msgids():
    german = {e.key for e in messages("de")}
    english = {e.key for e in messages("en")}
    assert german == english, (
        f"only in de: {sorted(map(str, german - english))}\n"
        f"only in en: {sorted(map(str, english - german))}"
    )


def test_german_catalog_is_the_identity():
    wrong = []
    for entry in messages("de"):
        wanted = {0: entry.msgid}
        if entry.msgid_plural is not None:
            wanted[1] = entry.msgid_plural
        if entry.msgstr != wanted:
            wrong.append(describe(entry))
    assert not wrong, "German msgstr must repeat the msgid:\n" + "\n".join(wrong)


# --- The committed .mo files match the .po files -------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "de"])
def test_compiled_catalog_matches_po(lang):
    mo = LOCALE_DIR / lang / "LC_MESSAGES" / "django.mo"
    assert mo.exists(), f"{mo} is missing: run `manage.py compilemessages`"
    with mo.open("rb") as handle:
        compiled = pygettext.GNUTranslations(handle)
    stale = []
    for entry in messages(lang):
        if entry.msgid_plural is not None:
            got = [compiled.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
            want = [entry.msgstr[0], entry.msgstr[1]]
        elif entry.msgctxt is not None:
            got, want = compiled.pgettext(entry.msgctxt, entry.msgid), entry.msgstr[0]
        else:
            got, want = compiled.gettext(entry.msgid), entry.msgstr[0]
        if got != want:
            stale.append(describe(entry))
    assert not stale, f"{mo} is out of date, run `make messages`:\n" + "\n".join(stale)


# --- (c) Runtime behaviour -----------------------------------------------------------------------


SAMPLES = {
    "Übersicht": "Overview",
    "USt-IdNr.": "VAT ID",
    "Deutsch": "German",
    "Sprache wechseln": "Change language",
    "Kunde": "Customer",
    "Datenschutzbeauftragter": "Data protection officer",
}


@pytest.mark.parametrize("lang", ["en", "de"])
def test_gettext(lang):
    expected = SAMPLES if lang == "en" else {source: source for source in SAMPLES}
    with translation.override(lang):
        assert {source: translation.gettext(source) for source in SAMPLES} == expected


@pytest.mark.parametrize(
    ("lang", "one", "two"),
    [
        ("en", "1 authenticator app", "2 authenticator apps"),
        ("de", "1 Authenticator-App", "2 Authenticator-Apps"),
    ],
)
def test_ngettext(lang, one, two):
    with translation.override(lang):
        singular, plural = "%(counter)s Authenticator-App", "%(counter)s Authenticator-Apps"
        rendered = [translation.ngettext(singular, plural, n) % {"counter": n} for n in (1, 2)]
    assert rendered == [one, two]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "Overview|Welcome, Claudia"), ("de", "Übersicht|Willkommen, Claudia")],
)
def test_templates_render_translated(lang, expected):
    template = Template(
        '{% load i18n %}{% translate "Übersicht" %}|'
        "{% blocktranslate with name=first_name %}Willkommen, {{ name }}{% endblocktranslate %}"
    )
    with translation.override(lang):
        assert template.render(Context({"first_name": "Claudia"})) == expected


def test_lazy_choice_labels_follow_the_active_language():
    from portal.roles import OrganisationKind, Role

    with translation.override("en"):
        assert str(Role.DPO.label) == "Data protection officer"
        assert str(OrganisationKind.PROVIDER.label) == "Provider"
    with translation.override("de"):
        assert str(Role.DPO.label) == "Datenschutzbeauftragter"


# --- The catalogs cover the current source -------------------------------------------------------

COPY_IGNORE = shutil.ignore_patterns(
    ".venv", "var", "tests", "locale", ".git", "__pycache__", "*.pyc", ".*cache", ".benchmarks"
)


@pytest.mark.skipif(
    not (shutil.which("xgettext") and shutil.which("msgmerge") and shutil.which("msguniq")),
    reason="GNU gettext is not installed",
)
def test_catalogs_contain_every_string_in_the_source(tmp_path, monkeypatch):
    """Extract into a scratch copy (never touching ./locale) and compare the msgids."""
    tree = tmp_path / "src"
    shutil.copytree(settings.BASE_DIR, tree, ignore=COPY_IGNORE)
    monkeypatch.chdir(tree)
    with override_settings(LOCALE_PATHS=[tree / "locale"]):
        call_command(
            "makemessages", locale=["en"], ignore_patterns=[".venv", "var", "tests"],
            no_obsolete=True, verbosity=0,
        )
    extracted = {e.key for e in parse_po(tree / "locale" / "en" / CATALOG) if e.msgid}
    committed = {e.key for e in messages("en")}
    assert extracted == committed, (
        "locale/*/django.po is out of date, run `make messages` and translate:\n"
        f"missing: {sorted(map(str, extracted - committed))}\n"
        f"stale: {sorted(map(str, committed - extracted))}"
    )
