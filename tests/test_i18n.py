"""English and Ukrainian: the catalogue is complete and current, and pages follow Accept-Language,
the language switcher and the Ukrainian formats for dates and amounts."""

import ast
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from contributions import services

ROOT = Path(__file__).resolve().parent.parent
UK_PO = ROOT / "locale" / "uk" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|%%")
UKRAINIAN_LETTERS = re.compile(r"[ґєіїйщьюя]", re.IGNORECASE)


def read_po(path):
    """Entries of a .po file as dicts: msgid, msgid_plural, msgstr (list), flags. Enough of the format
    for what makemessages writes (no obsolete entries: it runs with --no-obsolete)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = {"msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set()}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
                continue
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (".*")$', line)
            if match:
                keyword, index, value = match.group(1), match.group(2), ast.literal_eval(match.group(3))
                key = ("msgstr", int(index or 0)) if keyword.startswith("msgstr") else keyword
            elif line.startswith('"') and key is not None:
                value = ast.literal_eval(line)
            else:
                continue
            if isinstance(key, tuple):
                entry["msgstr"][key[1]] = entry["msgstr"].get(key[1], "") + value
            elif key in ("msgid", "msgid_plural"):
                entry[key] = (entry[key] or "") + value
        if entry["msgid"]:
            entries.append(entry)
    return entries


def test_every_msgid_has_a_ukrainian_translation():
    entries = read_po(UK_PO)
    assert len(entries) > 300
    untranslated = [e["msgid"] for e in entries if not e["msgstr"] or not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [], f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy (unchecked) translations, e.g. {fuzzy[:5]}"


def test_translations_keep_every_placeholder():
    mismatched = []
    for entry in read_po(UK_PO):
        expected = sorted(PLACEHOLDER.findall(entry["msgid"]))
        for form in entry["msgstr"].values():
            if sorted(PLACEHOLDER.findall(form)) != expected:
                mismatched.append(entry["msgid"])
    assert mismatched == []


def test_translations_are_ukrainian_not_copies():
    copies = [
        e["msgid"]
        for e in read_po(UK_PO)
        if e["msgstr"].get(0) == e["msgid"] and re.search(r"[A-Za-z]{4,}", PLACEHOLDER.sub("", e["msgid"]))
    ]
    assert copies == []


@pytest.mark.translations
def test_the_catalogue_has_every_string_of_the_code(tmp_path):
    """makemessages run on a copy of the sources adds no msgid the committed catalogue lacks."""
    for tool in ("xgettext", "msgmerge", "msguniq"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} missing although msgfmt is installed")
    packages = [path.name for path in ROOT.iterdir() if (path / "__init__.py").exists() and path.name != "tests"]
    sources = ("manage.py", "templates", "locale", *packages)
    for name in sources:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "uk", "--no-obsolete", "--verbosity=0"],
        cwd=tmp_path,
        check=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"},
    )
    committed = {e["msgid"] for e in read_po(UK_PO)}
    current = read_po(tmp_path / "locale" / "uk" / "LC_MESSAGES" / "django.po")
    missing = sorted({e["msgid"] for e in current} - committed)
    assert missing == [], f"run `make messages` and translate: {missing[:10]}"


# --- Pages in Ukrainian ---------------------------------------------------------------------------


@pytest.mark.translations
@pytest.mark.django_db
def test_pages_follow_accept_language(client, steering, coalition):
    services.priority_create(
        acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("1500000.50")
    )
    client.force_login(steering)
    for url, words in (
        (reverse("meetings:list"), ["Засідання", "Майбутні"]),
        (reverse("priorities:list"), ["Пріоритетні закупівлі", "Покриття"]),
    ):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="uk").content.decode()
        assert '<html lang="uk">' in html
        for word in words:
            assert word in html, (url, word)
        english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert '<html lang="en">' in english and words[0] not in english


@pytest.mark.translations
@pytest.mark.django_db
def test_amounts_use_ukrainian_separators(client, steering, coalition):
    services.priority_create(
        acting_user=None, coalition=coalition, title="Servers", estimated_cost_eur=Decimal("1500000.50")
    )
    client.force_login(steering)
    html = client.get(reverse("priorities:list"), HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "1\xa0500\xa0000,50" in html
    assert "1,500,000.50" in client.get(reverse("priorities:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.translations
@pytest.mark.django_db
def test_language_switcher_sets_ukrainian_for_the_session(client, steering):
    client.force_login(steering)
    response = client.post(reverse("set_language"), {"language": "uk", "next": reverse("meetings:list")})
    assert response.status_code == 302
    html = client.get(reverse("meetings:list")).content.decode()
    assert '<html lang="uk">' in html
    assert UKRAINIAN_LETTERS.search(html)


@pytest.mark.translations
@pytest.mark.django_db
def test_model_choices_and_service_messages_are_translated(client, secretariat, coalition):
    client.force_login(secretariat)
    response = client.post(
        reverse("priorities:create"),
        {"coalition": coalition.pk, "title": "X", "estimated_cost_eur": "10", "status": "proposed", "rank": "0"},
        HTTP_ACCEPT_LANGUAGE="uk",
    )
    html = response.content.decode()
    assert "Виправте, будь ласка, помилки нижче." in html
    assert "запропоновано" in html  # the status choice label


GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}


def gettext_calls_in_fstrings(source):
    """Line numbers of gettext calls written inside an f-string's fields: makemessages (xgettext)
    does not look there, so such a string never reaches the catalogue and stays English."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in GETTEXT_NAMES:
                    lines.append(inner.lineno)
    return lines


def test_no_translated_string_hides_inside_an_f_string():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for app in ("coalition", "contributions", "meetings", "reports")
        for path in sorted((ROOT / app).rglob("*.py"))
        for line in gettext_calls_in_fstrings(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "move these gettext calls out of the f-string: " + ", ".join(offenders)


def test_the_f_string_check_would_catch_one():
    assert gettext_calls_in_fstrings("x = f\"<text>{escape(_('target'))}</text>\"") == [1]
    assert gettext_calls_in_fstrings('x = _("target") + f"{y}"') == []
