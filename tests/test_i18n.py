"""Every string a user sees exists in Japanese (the default) and English."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

PROJECT = Path(__file__).resolve().parent.parent
CATALOGS = PROJECT / "meeting" / "translations"
# Japanese, English and plain Japanese (やさしい日本語).
CATALOG_FILES = ("ja/LC_MESSAGES/messages.po", "en/LC_MESSAGES/messages.po", "ja/LC_MESSAGES/plain.po")


def read(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


# Not walked for strings (babel.cfg reads meeting/ and templates/ only): the rest of the tree is large
# (the venv, node_modules, test servers' data under instance/), and walking it took seconds.
IGNORE_DIRS = ".* ._ node_modules instance tests bench deploy docs migrations static"


def test_catalogs_cover_every_string_in_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "--ignore-dirs", IGNORE_DIRS, "-o", str(pot), "."], cwd=PROJECT, check=True, capture_output=True)
    in_code = {m.id for m in read(pot) if m.id}
    for path in CATALOG_FILES:
        catalog = read(CATALOGS / path)
        assert in_code <= {m.id for m in catalog if m.id}, (path, sorted(in_code - {m.id for m in catalog}))


def test_plain_japanese_has_every_message_and_well_formed_readings():
    from meeting.reading import without_readings

    japanese = {m.id for m in read(CATALOGS / "ja" / "LC_MESSAGES" / "messages.po") if m.id}
    plain = read(CATALOGS / "ja" / "LC_MESSAGES" / "plain.po")
    assert not plain.fuzzy
    assert japanese <= {m.id for m in plain if m.id}, sorted(japanese - {m.id for m in plain})
    for m in plain:
        if not m.id:
            continue
        for string in (m.string if isinstance(m.string, tuple) else (m.string,)):
            assert string, m.id
            # Every brace is a reading after kanji (漢字{かんじ}); none is left to show on a page.
            assert "{" not in without_readings(string).replace("{time}", "").replace("{n}", ""), (m.id, string)
            msgid = m.id[-1] if isinstance(m.id, tuple) else m.id
            if "%(" in msgid:
                names = sorted(part.split(")")[0] for part in msgid.split("%(")[1:])
                assert names == sorted(part.split(")")[0] for part in string.split("%(")[1:]), m.id


def test_japanese_is_complete_and_compiles():
    catalog = read(CATALOGS / "ja" / "LC_MESSAGES" / "messages.po")
    assert not catalog.fuzzy  # a fuzzy catalog is silently skipped by `pybabel compile`
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
    for m in catalog:
        if m.id and "%(" in m.id:
            # Placeholders must survive translation, or the page shows a raw format error.
            names = sorted(part.split(")")[0] for part in m.id.split("%(")[1:])
            assert names == sorted(part.split(")")[0] for part in m.string.split("%(")[1:]), m.id
