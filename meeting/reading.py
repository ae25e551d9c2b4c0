"""Plain Japanese (やさしい日本語): its catalog, and furigana as <ruby> in the page's text.

The plain catalog (meeting/translations/ja/LC_MESSAGES/plain.po) writes a reading after a word in
braces: 漢字{かんじ}. Strings that Python code hands out (flash messages, Socket.IO answers, form
labels) have the readings taken out. Templates keep them, and `rewrite_html` turns them into <ruby>
in the page's text, and takes them out of attributes, <title>, <option>, <textarea> and the JSON
blocks that scripts read, so a placeholder, an aria-label or a script never shows braces.
"""

import json
import re
from functools import cached_property

from babel import support
from flask import g
from flask_babel import Babel, Domain, get_locale
from flask_babel import _get_current_context as babel_context

KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
KANA = "\u3041-\u309f\u30a0-\u30ffー"
READING = re.compile(rf"([{KANJI}]+)\{{([{KANA}]+)\}}")
PLAIN = "plain"


def without_readings(text: str) -> str:
    """漢字{かんじ} → 漢字."""
    return READING.sub(r"\1", text) if text and "{" in text else text


def as_ruby(text: str) -> str:
    """漢字{かんじ} → <ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby> (text already escaped)."""
    return READING.sub(r"<ruby>\1<rp>(</rp><rt>\2</rt><rp>)</rp></ruby>", text)


def plain_chosen() -> bool:
    get_locale()  # the locale selector records the choice
    return g.get("reading_choice") == PLAIN


class ReadingDomain(Domain):
    """Flask-Babel's domain, reading the plain catalog (falling back to Japanese) when it is chosen."""

    def get_translations(self):
        ctx = babel_context()
        if ctx is None or not plain_chosen():
            return super().get_translations()
        cache = self.get_translations_cache(ctx)
        key = (PLAIN, self.domain[0])
        if key not in cache:
            japanese = super().get_translations()
            plain = support.Translations()
            for dirname in self.translation_directories:
                plain.merge(support.Translations.load(dirname, [get_locale()], PLAIN))
            plain.add_fallback(japanese)
            cache[key] = plain
        return cache[key]

    def gettext(self, string, **variables):
        return without_readings(super().gettext(string, **variables))

    def ngettext(self, singular, plural, num, **variables):
        return without_readings(super().ngettext(singular, plural, num, **variables))

    def pgettext(self, context, string, **variables):
        return without_readings(super().pgettext(context, string, **variables))

    def npgettext(self, context, singular, plural, num, **variables):
        return without_readings(super().npgettext(context, singular, plural, num, **variables))


class ReadingBabel(Babel):
    @cached_property
    def domain_instance(self):
        return ReadingDomain(domain=self.domain)


# Text inside these elements cannot hold markup: readings are taken out.
_NO_MARKUP = {"title", "option", "textarea", "script", "style"}
_TOKEN = re.compile(r"(<!--.*?-->|<[^>]*>)", re.S)
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z0-9]+)")


def _strip_json(value):
    if isinstance(value, str):
        return without_readings(value)
    if isinstance(value, list):
        return [_strip_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _strip_json(v) for k, v in value.items()}
    return value


def _json_text(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return without_readings(text)
    out = json.dumps(_strip_json(data), ensure_ascii=True, separators=(",", ":"))
    return out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


def rewrite_html(html: str) -> str:
    """Readings → <ruby> in text, taken out of attributes and of text that cannot hold markup."""
    out, inside = [], None
    for part in _TOKEN.split(html):
        if not part:
            continue
        if part.startswith("<"):
            name = _TAG_NAME.match(part)
            name = name.group(1).lower() if name else ""
            if part.startswith("</") and name == inside:
                inside = None
            elif not part.startswith("</") and not part.startswith("<!") and name in _NO_MARKUP:
                inside = name
            out.append(part if part.startswith("<!--") else without_readings(part))
        elif inside == "script":
            out.append(_json_text(part) if "\\u" in part or "{" in part else part)
        elif inside:
            out.append(without_readings(part))
        else:
            out.append(as_ruby(part))
    return "".join(out)


def ruby_response(response):
    """after_request: pages read in plain Japanese get their furigana."""
    if response.mimetype == "text/html" and not response.direct_passthrough and plain_chosen():
        response.set_data(rewrite_html(response.get_data(as_text=True)))
    return response

