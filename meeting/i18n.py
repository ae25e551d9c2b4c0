"""The page language: the visitor's choice, the meeting's fixed language, the browser's, the meeting's.

Three catalogs: Japanese, English and plain Japanese (やさしい日本語). Plain Japanese formats dates and
numbers as Japanese (its Babel locale is "ja") and reads its strings from the "plain" domain of the
ja catalog directory (see meeting/translations/ja/LC_MESSAGES/plain.po and meeting/reading.py).
"""

from urllib.parse import urlsplit

from flask import current_app, g, request

# What the visitor can choose; "plain" is plain Japanese.
CHOICES = ("ja", "en", "plain")
# The switch shows each choice in its own language.
CHOICE_NAMES = {"ja": "日本語", "en": "English", "plain": "やさしい にほんご"}
BROWSER_LANGUAGES = ("ja", "en")
# The visitor's choice lives in a cookie of its own, written only by the response that makes the
# choice: the session cookie is written again by every response, and a response that left before
# the choice (a page, a picture, the service worker's copy of the shell) would otherwise undo it.
COOKIE = "lang"
COOKIE_LIFETIME = 60 * 60 * 24 * 365


def choose(choice: str) -> None:
    """The visitor chose this catalog: this request reads it, and its response keeps it."""
    if choice in CHOICES:
        g.language_chosen = choice


def keep_choice(response):
    """after_request: write the language cookie when this request made a choice."""
    choice = g.get("language_chosen")
    if choice:
        response.set_cookie(COOKIE, choice, max_age=COOKIE_LIFETIME, path="/", httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def use_meeting(meeting) -> None:
    """This request belongs to that meeting: its language is the default, or the rule if it fixes one."""
    g.meeting_language = meeting.language
    g.meeting_language_fixed = bool(getattr(meeting, "language_fixed", False))


def current_choice() -> str:
    """The catalog this request reads: ja, en or plain."""
    if g.get("forced_choice") in CHOICES:
        return g.forced_choice
    chosen = g.get("language_chosen") or request.cookies.get(COOKIE)
    if chosen in CHOICES:
        return chosen
    meeting_language = g.get("meeting_language")
    if meeting_language and g.get("meeting_language_fixed"):
        return meeting_language
    best = request.accept_languages.best_match(BROWSER_LANGUAGES)
    return best or meeting_language or "ja"


def select_locale() -> str:
    """Flask-Babel's locale selector: ?lang= (kept in the language cookie), else current_choice()."""
    choose(request.args.get("lang"))
    choice = current_choice()
    g.reading_choice = choice
    return "ja" if choice == "plain" else choice


def safe_next(target: str | None) -> str | None:
    """A same-origin path to come back to, or None (never an open redirect)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


def here() -> str:
    """This page's path and query, for the language switch to come back to (without ?lang=).

    Error pages give none (the switch goes home): a page for a meeting one is not on must look
    exactly like the page for one that does not exist.
    """
    if g.get("error_page"):
        return ""
    from urllib.parse import urlencode

    query = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + ("?" + urlencode(query) if query else "")
