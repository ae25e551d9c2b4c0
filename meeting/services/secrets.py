"""Tokens, short codes, hashing and sealing of values kept outside plain sight."""

import base64
import hashlib
import hmac
import json
import secrets
import unicodedata

from cryptography.fernet import Fernet
from flask import current_app

# Short codes avoid characters people confuse: 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def new_token() -> str:
    """Return a URL-safe token with 128 random bits."""
    return secrets.token_urlsafe(16)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed: str) -> str:
    """Fold what a resident types into the canonical code.

    Full-width letters and digits become ASCII (NFKC), case is ignored, and spaces and
    hyphens anywhere are dropped.
    """
    folded = unicodedata.normalize("NFKC", typed or "").upper()
    return "".join(ch for ch in folded if ch not in " -\u2010\u2011\u2012\u2013\u2014\u30fc\t")


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def code_hash(code: str) -> str:
    """Keyed hash: a short code has too few bits to store with a plain hash."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"code:" + normalize_code(code).encode(), hashlib.sha256).hexdigest()


def session_key_hash(key: str) -> str:
    return hashlib.sha256(b"session:" + key.encode()).hexdigest()


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"kurumaza-data:" + current_app.config["DATA_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(value: dict) -> str:
    """Encrypt a small JSON value with the data key (kept outside the database)."""
    return _fernet().encrypt(json.dumps(value).encode()).decode()


def unseal(sealed: str) -> dict:
    return json.loads(_fernet().decrypt(sealed.encode()))
