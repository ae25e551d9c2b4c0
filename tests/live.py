"""A real server process (gevent mode, as `make run` starts it) and real clients for it."""

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests
import socketio

PROJECT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
POSTGRES_ADMIN = os.environ.get("MEETING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("MEETING_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresDatabase:
    """A throw-away database on the machine's PostgreSQL server."""

    def __init__(self):
        import psycopg

        self.name = f"kurumaza_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        self.url = f"{base}/{self.name}"

    def drop(self):
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class LiveServer:
    def __init__(self, tmp_path: Path, *, database_url: str | None = None, redis_url: str | None = None,
                 mode: str = "gevent", extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp_path = tmp_path
        self.env = {**os.environ, "MEETING_INSTANCE_PATH": str(tmp_path), "MEETING_ASYNC_MODE": mode,
                    "MEETING_BASE_URL": self.url, "SECRET_KEY": "live-test-secret-key-0123456789abcdef",
                    "MEETING_DATA_KEY": "live-test-data-key-0123456789abcdef", "MEETING_TALLY_INTERVAL": "0.1",
                    "MEETING_ADMIN_EMAIL": "admin@example.org", "MEETING_ADMIN_PASSWORD": "admin password 123",
                    "PYTHONUNBUFFERED": "1"}
        self.env["DATABASE_URL"] = database_url or f"sqlite:///{tmp_path / 'live.sqlite3'}"
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        else:
            self.env.pop("REDIS_URL", None)
        self.env.update(extra_env or {})
        self.process = None
        self.log = tmp_path / "server.log"
        self.cli("db", "upgrade")

    def cli(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "meeting", *args], cwd=PROJECT, env=self.env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    def demo(self, participants: int, tables: int) -> dict:
        return json.loads(self.cli("demo", "--participants", str(participants), "--tables", str(tables), "--json"))

    def start(self):
        self.process = subprocess.Popen([sys.executable, "-m", "meeting.serve", "--port", str(self.port)],
                                        cwd=PROJECT, env=self.env, stdout=self.log.open("ab"),
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/login", timeout=1)
                return self
            except requests.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError("server exited:\n" + self.log.read_text()[-3000:])
                time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log.read_text()[-3000:])

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def staff_login(server: LiveServer, email: str, password: str) -> requests.Session:
    """Log a staff member in through the login form; return the session holding the cookie."""
    http = requests.Session()
    page = http.get(server.url + "/login", timeout=10)
    token = CSRF.search(page.text).group(1)
    done = http.post(server.url + "/login", data={"email": email, "password": password, "csrf_token": token},
                     timeout=10)
    assert "/login" not in done.url, done.url
    return http


@contextlib.contextmanager
def serving(backend: str, folder: Path, **options):
    """A started server on `backend` ("sqlite", or "postgresql" with Redis as the message queue)."""
    database = PostgresDatabase() if backend == "postgresql" else None
    live = LiveServer(folder, database_url=database.url if database else None,
                      redis_url=REDIS_TEST_URL if database else None, **options)
    try:
        yield live.start()
    finally:
        live.stop()
        if database:
            database.drop()


def join_over_http(join_url: str, nickname: str) -> requests.Session:
    """Follow an invitation link as a phone would and return the session holding the cookie."""
    http = requests.Session()
    welcome = http.get(join_url, timeout=10)
    assert welcome.url.endswith("/welcome"), welcome.url
    token = CSRF.search(welcome.text).group(1)
    table = http.post(welcome.url, data={"nickname": nickname, "csrf_token": token}, timeout=10)
    assert table.url.endswith("/table"), table.url
    return http


class Phone:
    """A real python-socketio client with a participant's cookie, recording what it receives."""

    def __init__(self, server: LiveServer, http: requests.Session, origin: str | None = None,
                 auth: dict | None = None):
        self.received: list[tuple[str, dict]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda name, data: self.received.append((name, data)))
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        headers = {"Cookie": cookie}
        if origin:  # otherwise the WebSocket client sends the server's own origin
            headers["Origin"] = origin
        self.client.connect(server.url, headers=headers, auth=auth,
                            transports=["websocket"], wait_timeout=10)

    def call(self, event: str, payload: dict) -> dict:
        return self.client.call(event, {"op_id": str(uuid.uuid4()), **payload}, timeout=10)

    def named(self, name: str) -> list[dict]:
        return [data for n, data in self.received if n == name]

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def close(self):
        self.client.disconnect()


def close_all(phones) -> None:
    """Disconnect phones in parallel: each WebSocket close waits up to 3 s for the close frame."""
    from concurrent.futures import ThreadPoolExecutor

    phones = list(phones)
    if phones:
        with ThreadPoolExecutor(max_workers=min(len(phones), 32)) as pool:
            list(pool.map(lambda p: p.close(), phones))
