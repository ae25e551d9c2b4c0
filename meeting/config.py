"""Configuration read from the environment, with safe defaults."""

import os
import secrets
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent

ASYNC_MODES = ("gevent", "eventlet", "threading")
WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "password"}


class ConfigError(RuntimeError):
    """The configuration is unsafe or invalid; the app must not start."""


def _instance_secret(instance: Path, name: str, nbytes: int = 32) -> str:
    """Read a generated secret from the instance folder, creating it once."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if not path.exists():
        value = secrets.token_urlsafe(nbytes)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
    return path.read_text().strip()


def build_config(overrides: dict | None = None) -> dict:
    """Return the app configuration from the environment and overrides."""
    env = os.environ
    overrides = dict(overrides or {})
    instance = Path(overrides.get("INSTANCE_PATH") or env.get("MEETING_INSTANCE_PATH") or PROJECT_DIR / "instance")
    production = (overrides.get("MEETING_ENV") or env.get("MEETING_ENV", "development")) == "production"

    cfg: dict = {
        "INSTANCE_PATH": str(instance),
        "MEETING_ENV": "production" if production else "development",
        "MEETING_ASYNC_MODE": env.get("MEETING_ASYNC_MODE", "gevent"),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL") or f"sqlite:///{instance / 'kurumaza.sqlite3'}",
        "REDIS_URL": env.get("REDIS_URL") or None,
        # Several deployments on one Redis: each its own Socket.IO channel and rate-limit keys.
        "REDIS_NAMESPACE": env.get("MEETING_REDIS_NAMESPACE", ""),
        # Printed links follow the port the server runs on unless the public address is given.
        "BASE_URL": (env.get("MEETING_BASE_URL") or f"http://127.0.0.1:{env.get('MEETING_PORT') or '5000'}").rstrip("/"),
        "ALLOWED_ORIGINS": [o.strip() for o in env.get("MEETING_ALLOWED_ORIGINS", "").split(",") if o.strip()],
        # Reverse proxies in front that set X-Forwarded-For / -Proto (nginx: 1). 0 trusts no such
        # header: served directly, anyone could write one and pick the address rate limits count.
        "PROXY_HOPS": env.get("MEETING_PROXY_HOPS", "0"),
        "BABEL_DEFAULT_LOCALE": "ja",
        # Pages and JSON compressed on the fly (static files are compressed once: meeting/assets.py).
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIN_SIZE": 500,
        "COMPRESS_REGISTER": False,  # registered by create_app, for pages only
        "BABEL_TRANSLATION_DIRECTORIES": str(PACKAGE_DIR / "translations"),
        "LANGUAGES": ["ja", "en"],
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 14,
        "TALLY_INTERVAL": float(env.get("MEETING_TALLY_INTERVAL", "0.25")),
        # SQLite group commit (meeting/durability.py); `python -m meeting.serve` turns it on in gevent mode.
        "GROUP_COMMIT": env.get("MEETING_GROUP_COMMIT", "0") == "1",
        # The opinion map is recomputed at most once per this many seconds per meeting and process.
        "MAP_INTERVAL": float(env.get("MEETING_MAP_INTERVAL", "5")),
        "POLL_CLOCK_INTERVAL": float(env.get("MEETING_POLL_CLOCK_INTERVAL", "1.0")),
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL") or "memory://",
        "RATELIMIT_KEY_PREFIX": env.get("MEETING_REDIS_NAMESPACE", ""),
        "RATELIMIT_HEADERS_ENABLED": True,
        # While Redis is away, limits count in this process's memory instead of failing the request.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Seconds after which LEXIMIN stops refining a panel draw (the minimum stays guaranteed).
        "PANEL_TIME_LIMIT": float(env.get("MEETING_PANEL_TIME_LIMIT", "120")),
        "CODE_RATE_LIMIT": env.get("MEETING_CODE_RATE_LIMIT", "30 per minute;300 per hour"),
        # An open meeting's page and join form, per browser (a whole venue shares one address).
        "OPEN_BROWSER_RATE_LIMIT": env.get("MEETING_OPEN_BROWSER_RATE_LIMIT", "10 per minute;60 per hour"),
        # ... and per address only a ceiling far above a full hall joining at once.
        "OPEN_ADDRESS_RATE_LIMIT": env.get("MEETING_OPEN_ADDRESS_RATE_LIMIT", "600 per minute"),
        # A request body larger than this is refused before it is read (413, with the app's page);
        # the largest is a roster file (meeting.imports.tabular.MAX_BYTES) plus the form around it.
        "MAX_CONTENT_LENGTH": int(float(env.get("MEETING_MAX_UPLOAD_MB", "50")) * 1024 * 1024) + 64 * 1024,
        # The largest Socket.IO frame (bytes): a poll with 30 long choices fits many times over.
        "SOCKET_MAX_FRAME": int(env.get("MEETING_SOCKET_MAX_FRAME", "100000")),
        # Staff sessions end after this long without a request, and this long after the login.
        "STAFF_IDLE_TIMEOUT": int(env.get("MEETING_STAFF_IDLE_MINUTES", "120")) * 60,
        "STAFF_ABSOLUTE_TIMEOUT": int(env.get("MEETING_STAFF_ABSOLUTE_HOURS", "12")) * 3600,
        # Wrong passwords per account before each further try must wait (1 s, 2 s, 4 s ... 15 min).
        "LOGIN_FREE_FAILURES": int(env.get("MEETING_LOGIN_FREE_FAILURES", "5")),
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "DATA_KEY": env.get("MEETING_DATA_KEY", ""),
    }
    cfg.update(overrides)

    try:
        cfg["PROXY_HOPS"] = int(cfg["PROXY_HOPS"])
    except (TypeError, ValueError):
        cfg["PROXY_HOPS"] = -1
    if not 0 <= cfg["PROXY_HOPS"] <= 5:
        raise ConfigError("MEETING_PROXY_HOPS must be the number of proxies in front (0 to 5)")
    if cfg["MEETING_ASYNC_MODE"] not in ASYNC_MODES:
        raise ConfigError(f"MEETING_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}")
    for key, filename in (("SECRET_KEY", "secret_key"), ("DATA_KEY", "data_key")):
        if not cfg[key]:
            if production:
                raise ConfigError(f"{key} must be set in production (at least 32 random characters)")
            cfg[key] = _instance_secret(instance, filename)
        elif production and (len(cfg[key]) < 32 or cfg[key].lower() in WEAK_SECRETS):
            raise ConfigError(f"{key} is too weak for production: use at least 32 random characters")
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://") or uri.startswith("postgres://"):
        cfg["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.split("://", 1)[1]
    if uri.startswith("sqlite"):
        cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    else:
        # A restarted server's dead connections are replaced at checkout (pre-ping); a server that
        # is unreachable fails within seconds (connect_timeout, pool_timeout), so the client gets
        # a "retry" answer and resends instead of waiting (meeting/realtime/errors.py).
        cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "pool_timeout": 10,
                                                     "connect_args": {"connect_timeout": 5}})
    return cfg


def child_environment(cfg) -> dict[str, str]:
    """The environment for a `python -m meeting ...` child process run with this app's
    database, keys and addresses (panel draws, report builds); threading mode, no FLASK_APP."""
    env = dict(os.environ)
    env.update({"DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": cfg["SECRET_KEY"],
                "MEETING_DATA_KEY": cfg["DATA_KEY"], "MEETING_INSTANCE_PATH": cfg["INSTANCE_PATH"],
                "MEETING_BASE_URL": cfg["BASE_URL"], "MEETING_ASYNC_MODE": "threading",
                "MEETING_ENV": cfg.get("MEETING_ENV", "development")})
    env.pop("FLASK_APP", None)
    return env
