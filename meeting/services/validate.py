"""One way to check what a client sent: ids, bounded integers and texts.

Every service and every edge (Socket.IO handlers, forms) uses these, so a boolean is never an
id, an integer never overflows the database's 64 bits, and no text with control characters,
lone surrogates, bidirectional overrides or only invisible characters is ever stored.
"""

import re
import unicodedata

from meeting.services.errors import ServiceError

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# Characters that reorder or hide text: embeddings, overrides and isolates (Trojan Source).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")
OP_ID = re.compile(r"[A-Za-z0-9-]{8,64}")


def is_int(value, lo: int = INT64_MIN, hi: int = INT64_MAX) -> bool:
    """True for an int (never a bool) within [lo, hi]."""
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def is_id(value) -> bool:
    """True for a database id: a positive int within 64 bits, never a bool."""
    return is_int(value, 1, INT64_MAX)


def id_or_none(value) -> int | None:
    """The id, or None when `value` cannot be one (so a lookup finds nothing, safely)."""
    return value if is_id(value) else None


def require_id(value, code: str = "not_found") -> int:
    if not is_id(value):
        raise ServiceError(code)
    return value


def bounded_int(value, lo: int, hi: int, code: str, **params) -> int:
    """An int in [lo, hi]; a string of ASCII or full-width digits is accepted (form fields).

    Other digits ("²", "٣") and anything longer than 19 digits are refused, never converted.
    """
    if isinstance(value, str):
        text = value.strip().translate(FULLWIDTH_DIGITS)
        if not re.fullmatch(r"[+-]?[0-9]{1,19}", text):
            raise ServiceError(code, **params)
        value = int(text)
    if not is_int(value, lo, hi):
        raise ServiceError(code, **params)
    return value


def is_op_id(value) -> bool:
    return isinstance(value, str) and OP_ID.fullmatch(value) is not None


def encodable(text: str) -> bool:
    """False for a string with lone surrogates (which no database or encoder accepts)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _visible(ch: str) -> bool:
    return not (ch.isspace() or unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp", "Mn", "Me"))


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` (already NFC and stripped) cannot be stored, or None."""
    for ch in text:
        if ch in BIDI_CONTROLS:
            return "text_invalid"
        if unicodedata.category(ch) == "Cc" and not (multiline and ch in "\n\t"):
            return "text_invalid"
    return None


def clean_text(raw, max_length: int, empty_code: str, *, too_long_code: str | None = None,
               multiline: bool = False, **params) -> str:
    """Return `raw` NFC-normalized and trimmed, or refuse it with a code the user understands.

    Refused: anything but a string (`empty_code`), lone surrogates, control characters (newlines
    and tabs only when `multiline`), bidirectional overrides ("text_invalid"), text with nothing
    visible, e.g. only zero-width spaces (`empty_code`), and text longer than `max_length`
    (`too_long_code`, else `empty_code`, with `max`).
    """
    if not isinstance(raw, str):
        raise ServiceError(empty_code, **params)
    if not encodable(raw):
        raise ServiceError("text_invalid")
    if multiline:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", raw).strip()
    if not any(_visible(ch) for ch in text):
        raise ServiceError(empty_code, **params)
    problem = text_problem(text, multiline=multiline)
    if problem:
        raise ServiceError(problem)
    if len(text) > max_length:
        raise ServiceError(too_long_code or empty_code, **{**params, "max": max_length})
    return text


def payload_problem(value, depth: int = 0) -> str | None:
    """Why a decoded client payload cannot be handled at all, or None.

    Any string with lone surrogates or NUL, any integer outside 64 bits, a non-finite number or
    nesting deeper than 20 makes the whole payload a bad request, for every event (also those
    added later), before a service sees it.
    """
    if depth > 20:
        return "bad_request"
    if isinstance(value, str):
        return None if encodable(value) and "\x00" not in value else "text_invalid"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else "bad_request"
    if isinstance(value, float):
        return None if value == value and abs(value) != float("inf") else "bad_request"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = payload_problem(key, depth + 1) or payload_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = payload_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return "bad_request"
