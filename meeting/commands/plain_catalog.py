"""Fill the plain-Japanese catalog (meeting/translations/ja/LC_MESSAGES/plain.po).

    python -m meeting.commands.plain_catalog      # needs pykakasi (requirements-dev.txt)

Entries already in plain.po are kept as written (review and rewrite them there: short sentences,
everyday words). A msgid that is new in the Japanese catalog gets the Japanese text with readings
after its harder words, 漢字{かんじ} (first-grade kanji get none), for a person to review; msgids no
longer in the Japanese catalog are dropped. Not needed for the build: `make translations` compiles
the committed plain.po.
"""

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
JA = CATALOGS / "ja" / "LC_MESSAGES" / "messages.po"
PLAIN = CATALOGS / "ja" / "LC_MESSAGES" / "plain.po"

# The 80 kanji of the first school year: no reading needed.
EASY = set("一右雨円王音下火花貝学気九休玉金空月犬見五口校左三山子四糸字耳七車手十出女小上森人水正生青夕石赤"
           "千川先早草足村大男竹中虫町天田土二日入年白八百文木本名目立力林六")
KANJI_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]+")


def _hira(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def with_readings(text: str, kakasi) -> str:
    """日本語の文 → 日本語{にほんご}の文{ぶん} (only words with a kanji outside EASY)."""
    if "{" in text:  # already has readings
        return text
    out = []
    for token in kakasi.convert(text):
        orig, hira = token["orig"], token["hira"]
        if all(set(run) <= EASY for run in KANJI_RUN.findall(orig)):
            out.append(orig)
            continue
        # Align: kanji runs take what lies between the kana around them in the reading.
        parts = re.split(f"({KANJI_RUN.pattern})", orig)
        pattern = "".join("(.+?)" if KANJI_RUN.fullmatch(p) else re.escape(_hira(p)) for p in parts if p)
        match = re.fullmatch(pattern, hira)
        if not match:
            out.append(orig)
            continue
        readings = iter(match.groups())
        for p in parts:
            if p and KANJI_RUN.fullmatch(p):
                reading = next(readings)
                out.append(p if set(p) <= EASY else f"{p}{{{reading}}}")
            else:
                out.append(p)
    result = "".join(out)
    return result if re.sub(r"\{[^{}]*\}", "", result) == text else text


def main() -> int:
    import pykakasi

    kakasi = pykakasi.kakasi()
    with JA.open("rb") as fh:
        ja = read_po(fh, locale="ja")
    old = {}
    if PLAIN.exists():
        with PLAIN.open("rb") as fh:
            old = {m.id: m.string for m in read_po(fh, locale="ja") if m.id}
    plain = Catalog(locale="ja", project="Kurumaza", domain="plain", fuzzy=False)
    added = 0
    for m in ja:
        if not m.id:
            continue
        string = old.get(m.id)
        if not string or (isinstance(string, tuple) and not all(string)):
            source = m.string if isinstance(m.id, str) else tuple(m.string)
            string = with_readings(source, kakasi) if isinstance(source, str) \
                else tuple(with_readings(s, kakasi) for s in source)
            added += 1
        plain.add(m.id, string, auto_comments=m.auto_comments, context=m.context)
    with PLAIN.open("wb") as fh:
        write_po(fh, plain, width=0, omit_header=False, sort_output=False, no_location=True)
    print(f"{PLAIN}: {len(plain)} messages, {added} new (review them)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
