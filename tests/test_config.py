"""Configuration from the environment, with safe defaults."""

import pytest

from meeting.config import ConfigError, build_config


def test_development_generates_secrets_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("MEETING_DATA_KEY", raising=False)
    first = build_config({"INSTANCE_PATH": str(tmp_path)})
    second = build_config({"INSTANCE_PATH": str(tmp_path)})
    assert len(first["SECRET_KEY"]) >= 32 and first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["DATA_KEY"] != first["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kurumaza.sqlite3'}"
    assert first["MEETING_ASYNC_MODE"] == "gevent"


def test_production_refuses_missing_or_weak_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("MEETING_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        build_config({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("SECRET_KEY", "changeme")
    with pytest.raises(ConfigError, match="too weak"):
        build_config({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("MEETING_DATA_KEY", "y" * 40)
    cfg = build_config({"INSTANCE_PATH": str(tmp_path)})
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


def test_async_mode_and_database_url(tmp_path, monkeypatch):
    monkeypatch.setenv("MEETING_ASYNC_MODE", "tornado")
    with pytest.raises(ConfigError):
        build_config({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("MEETING_ASYNC_MODE", "eventlet")
    monkeypatch.setenv("DATABASE_URL", "postgresql://kz@db/kz")
    cfg = build_config({"INSTANCE_PATH": str(tmp_path)})
    assert cfg["MEETING_ASYNC_MODE"] == "eventlet"
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://kz@db/kz"


def test_redis_namespace_names_the_channel_and_the_rate_limit_keys(tmp_path, monkeypatch):
    from meeting.realtime.queue import queue_channel

    monkeypatch.delenv("MEETING_REDIS_NAMESPACE", raising=False)
    cfg = build_config({"INSTANCE_PATH": str(tmp_path)})
    assert queue_channel(cfg) == "flask-socketio" and cfg["RATELIMIT_KEY_PREFIX"] == ""  # as before
    monkeypatch.setenv("MEETING_REDIS_NAMESPACE", "setagaya")
    cfg = build_config({"INSTANCE_PATH": str(tmp_path)})
    assert queue_channel(cfg) == "setagaya:flask-socketio" and cfg["RATELIMIT_KEY_PREFIX"] == "setagaya"


def test_proxy_hops_default_to_trusting_no_forwarded_header(tmp_path, monkeypatch):
    monkeypatch.delenv("MEETING_PROXY_HOPS", raising=False)
    assert build_config({"INSTANCE_PATH": str(tmp_path)})["PROXY_HOPS"] == 0
    monkeypatch.setenv("MEETING_PROXY_HOPS", "1")
    assert build_config({"INSTANCE_PATH": str(tmp_path)})["PROXY_HOPS"] == 1
    for bad in ("yes", "-1", "9"):
        monkeypatch.setenv("MEETING_PROXY_HOPS", bad)
        with pytest.raises(ConfigError, match="MEETING_PROXY_HOPS"):
            build_config({"INSTANCE_PATH": str(tmp_path)})
