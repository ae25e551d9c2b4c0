"""Every string a user sees exists in Japanese (the default) and English."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

PROJECT = Path(__file__).resolve().parent.parent
CATALOGS = PROJECT / "meeting" / "translations"


def read(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def test_catalogs_cover_every_string_in_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-o", str(pot), "."], cwd=PROJECT, check=True, capture_output=True)
    in_code = {m.id for m in read(pot) if m.id}
    for lang in ("ja", "en"):
        catalog = read(CATALOGS / lang / "LC_MESSAGES" / "messages.po")
        assert in_code <= {m.id for m in catalog if m.id}, (lang, sorted(in_code - {m.id for m in catalog}))


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
