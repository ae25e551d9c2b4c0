"""A real server process (gevent mode, as `make run` starts it) and real clients for it."""

import collections
import contextlib
import functools
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
import socketio

PROJECT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
POSTGRES_ADMIN = os.environ.get("MEETING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("MEETING_TEST_REDIS", "redis://127.0.0.1:6379/0")
# The keys of every live test server (and of the migrations its database template was built by).
KEYS = {"SECRET_KEY": "live-test-secret-key-0123456789abcdef", "MEETING_DATA_KEY": "live-test-data-key-0123456789abcdef"}


# Under pytest-xdist each worker is a process of its own ("gw0", "gw1", ...); "" otherwise.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
LOWEST_PORT = 10000


def _own_ports() -> list[int]:
    """The ports this process hands out: below the kernel's ephemeral range (which outgoing
    connections draw from, so a client never holds a port a server is about to bind or to bind
    again after a restart), one block per xdist worker (two workers never pick the same one),
    walked from a random point (another test run on the machine rarely walks the same ports)."""
    try:
        ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(WORKER[2:]) if WORKER[2:].isdigit() else 0
    size = (ephemeral - LOWEST_PORT) // max(workers, 1)
    if size < 200 or index >= workers:
        return []
    block = list(range(LOWEST_PORT + index * size, LOWEST_PORT + (index + 1) * size))
    start = random.randrange(size)
    return block[start:] + block[:start]


_PORTS = _own_ports()
_next_port = 0
_port_lock = threading.Lock()


def free_port() -> int:
    """A port no one listens on now, and that no other worker of this test run hands out."""
    global _next_port
    with _port_lock:
        for _ in range(len(_PORTS)):
            port = _PORTS[_next_port % len(_PORTS)]
            _next_port += 1
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue  # taken (by a service of the machine, or still closing)
                return port
    with socket.socket() as s:  # no block of our own: the kernel picks
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_namespace(database_url: str) -> str:
    """Servers on one database share a Socket.IO channel and rate-limit keys on the shared Redis;
    servers on another (another test, another xdist worker) never hear them."""
    return "test-" + hashlib.sha1(database_url.encode()).hexdigest()[:12]


def _postgres_url(name: str) -> str:
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def _upgrade(database_url: str) -> None:
    """`python -m meeting db upgrade` on that database, in a folder of its own."""
    folder = Path(tempfile.mkdtemp(prefix="kurumaza-live-template-"))
    env = {**os.environ, "MEETING_INSTANCE_PATH": str(folder), "DATABASE_URL": database_url, **KEYS}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-m", "meeting", "db", "upgrade"], cwd=PROJECT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


# Migrated once per test process, copied for each server (the upgrade, a process of its own, takes
# seconds each time): a SQLite file, and a PostgreSQL template database.
_template_lock = threading.Lock()
_templates: dict[str, object] = {}
# Databases made from the template: a server on one of them has nothing to migrate.
_migrated_urls: set[str] = set()


def _migrated_sqlite() -> Path:
    with _template_lock:
        if "sqlite" not in _templates:
            path = Path(tempfile.mkdtemp(prefix="kurumaza-live-template-")) / "template.sqlite3"
            _upgrade(f"sqlite:///{path}")
            with contextlib.closing(sqlite3.connect(path)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the one file copied
            _templates["sqlite"] = path
        return _templates["sqlite"]


def _migrated_postgres_template() -> str:
    with _template_lock:
        if "postgresql" not in _templates:
            import atexit

            import psycopg

            name = f"kurumaza_template_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            atexit.register(_drop_database, name)
            _upgrade(_postgres_url(name))
            _templates["postgresql"] = name
        return _templates["postgresql"]


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PostgresDatabase:
    """A throw-away database on the machine's PostgreSQL server, migrated (a copy of the template)."""

    def __init__(self):
        import psycopg

        template = _migrated_postgres_template()
        self.name = f"kurumaza_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{template}"')
        self.url = _postgres_url(self.name)
        _migrated_urls.add(self.url)

    def drop(self):
        _drop_database(self.name)


class LiveServer:
    def __init__(self, tmp_path: Path, *, database_url: str | None = None, redis_url: str | None = None,
                 mode: str = "gevent", extra_env: dict | None = None, name: str = "server", migrate: bool = True):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp_path = tmp_path
        self.env = {**os.environ, "MEETING_INSTANCE_PATH": str(tmp_path), "MEETING_ASYNC_MODE": mode,
                    "MEETING_BASE_URL": self.url, **KEYS, "MEETING_TALLY_INTERVAL": "0.1",
                    "MEETING_ADMIN_EMAIL": "admin@example.org", "MEETING_ADMIN_PASSWORD": "admin password 123",
                    "PYTHONUNBUFFERED": "1"}
        self.env["DATABASE_URL"] = database_url or f"sqlite:///{tmp_path / 'live.sqlite3'}"
        if redis_url:
            self.env["REDIS_URL"] = redis_url
            self.env["MEETING_REDIS_NAMESPACE"] = redis_namespace(self.env["DATABASE_URL"])
        else:
            self.env.pop("REDIS_URL", None)
        self.env.update(extra_env or {})
        self.process = None
        self.log = tmp_path / f"{name}.log"
        # migrate=False: a second process on a database that is already migrated.
        if migrate and not database_url:  # the migrated file of this test process, copied
            shutil.copyfile(_migrated_sqlite(), tmp_path / "live.sqlite3")
        elif migrate and database_url not in _migrated_urls:
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
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/login", timeout=5)
                return self
            except (requests.ConnectionError, requests.Timeout):
                if self.process.poll() is not None:
                    raise RuntimeError("server exited:\n" + self.log.read_text()[-3000:])
                time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log.read_text()[-3000:])

    def wait_for_log(self, text: str, timeout: float = 20.0) -> bool:
        """Wait until the server's log holds `text` (lines written after a response has gone out)."""
        deadline = time.monotonic() + timeout
        while text not in self.log.read_text():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def kill(self):
        """Kill -9 the server process: no shutdown, no flush, connections cut."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def restart(self):
        """Start again on the same port and database (after kill() or stop())."""
        return self.start()


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

    def wait_for(self, predicate, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def close(self):
        # websocket-client's close() then waits up to 3 s for the server's closing frame, which the
        # engine.io client's reading thread has already taken (the handshake is over by then).
        ws = getattr(self.client.eio, "ws", None)
        if ws is not None and not getattr(ws, "quick_close", False):
            ws.close, ws.quick_close = functools.partial(ws.close, timeout=0.2), True
        self.client.disconnect()


def close_all(phones) -> None:
    """Disconnect phones in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    phones = list(phones)
    if phones:
        with ThreadPoolExecutor(max_workers=min(len(phones), 32)) as pool:
            list(pool.map(lambda p: p.close(), phones))


# --------------------------------------------------------------------------- services a test may stop


def _wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up")


class RedisServer:
    """A redis-server of our own on a free port (never the machine's on 6379): stoppable."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=(self.folder / f"redis-{self.port}.log").open("ab"),
            stderr=subprocess.STDOUT)

        def up():
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
            return False

        _wait_until(up, 10, "redis-server")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen one cannot act on SIGTERM
            self.process.terminate()
            self.process.wait(10)

    def freeze(self):
        """SIGSTOP: connections stay open, nothing answers (a hung or unreachable Redis)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)


class PostgresServer:
    """A PostgreSQL cluster of our own (initdb + pg_ctl in a temporary folder, a free port).

    Never the machine's cluster on 5432. As root, the cluster runs as the postgres user.
    """

    def __init__(self):
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="kurumaza-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self._as = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(self._bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8", "--locale", "C")
        self.admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/kurumaza"

    @staticmethod
    def _bin(name: str) -> str:
        found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
        if not found:
            raise RuntimeError(f"{name} not found: install postgresql")
        return str(found)

    def _run(self, *args: str):
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    def start(self):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self._run(self._bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        return self

    def create_database(self):
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE kurumaza")
        return self

    def stop(self, mode: str = "fast"):
        self._run(self._bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self):
        with contextlib.suppress(AssertionError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


# --------------------------------------------------------------------------- a phone that rides out failures


class View:
    """What a phone shows: ideas with tallies, polls with results, built from snapshot + broadcasts."""

    def __init__(self):
        self.ideas: dict[int, dict] = {}
        self.polls: dict[int, dict] = {}

    def load(self, snap: dict):
        ideas = snap["ideas"] if "ideas" in snap else [i for t in snap["tables"] for i in t["ideas"]]  # staff
        self.ideas = {i["id"]: {"text": i["text"], "tally": i["tally"]} for i in ideas}
        self.polls = {p["id"]: {"state": p["state"], "results": p["results"]} for p in snap.get("polls", [])}

    def apply(self, name: str, message: dict):
        if name == "idea_posted":
            idea = message["idea"]
            self.ideas[idea["id"]] = {"text": idea["text"], "tally": idea["tally"]}
        elif name == "idea_hidden":
            self.ideas.pop(message["idea_id"], None)
        elif name == "tallies":
            for key, tally in message["tallies"].items():
                if int(key) in self.ideas:
                    self.ideas[int(key)]["tally"] = tally
        elif name in ("poll_opened", "poll_closed"):
            poll = message["poll"]
            self.polls[poll["id"]] = {"state": poll["state"], "results": message.get("results")}
        elif name == "poll_results" and message["poll_id"] in self.polls:
            self.polls[message["poll_id"]]["results"] = message["results"]

    def state(self) -> dict:
        return {"ideas": self.ideas, "polls": self.polls}


class ReliablePhone:
    """A python-socketio phone that behaves as static/js/realtime.js does.

    It reconnects by itself, asks for a snapshot on every (re)connect, on a gap in `seq` and on a
    `resync` notice, buffers broadcasts while the snapshot is on its way, and keeps every
    operation until it has an answer: resent with the same op_id after a reconnect, after 8 s
    without an ack, and after a {"error": "retry"} ack. `mine` records what the server
    acknowledged to this phone (votes and ballots), the client's own record to check the
    database against.
    """

    ACK_WAIT = 8.0

    def __init__(self, url: str, http: requests.Session, auth: dict | None = None):
        self.url = url
        self.lock = threading.RLock()
        self.view = View()
        self.last: dict | None = None
        self.buffer: list | None = None
        self.generation = 0  # connections so far
        self.snapshots = 0
        self.stats = {"retry_acks": 0, "resent": 0, "ack_timeouts": 0, "reconnects": 0, "resync_notices": 0}
        self.mine: dict = {"votes": {}, "ballots": {}}
        self.received: collections.deque = collections.deque(maxlen=5000)  # the latest broadcasts
        self.closed = False
        self.reconnecting = False
        self.headers = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in http.cookies)}
        self.auth = auth
        # Reconnecting is ours, not python-socketio's: its reconnect waits only 1 s for the
        # namespace handshake, which a server just restarted under hundreds of phones exceeds,
        # while a browser waits for it.
        self.client = socketio.Client(reconnection=False)
        self.client.on("connect", self._connected)
        self.client.on("disconnect", lambda *_: self._lost())
        self.client.on("resync", lambda *_: self._notice())
        self.client.on("*", self._broadcast)
        self._connect(deadline=time.monotonic() + 90)  # the first connect too may meet a restarting (or stopped) server

    def _connect(self, deadline: float | None = None):
        delay = 0.3
        while not self.closed:
            try:
                self.client.connect(self.url, headers=self.headers, auth=self.auth, transports=["websocket"],
                                    wait_timeout=10)
                return
            except socketio.exceptions.ConnectionError:
                if deadline and time.monotonic() > deadline:
                    raise
            time.sleep(delay * random.uniform(0.5, 1.5))  # spread, as socket.io-client does
            delay = min(delay * 2, 2.0)

    def _lost(self):
        with self.lock:
            if self.closed or self.reconnecting:
                return
            self.reconnecting = True

        def again():
            try:
                self._connect()
            finally:
                self.reconnecting = False

        threading.Thread(target=again, daemon=True).start()

    # ---- connection and snapshots

    def _connected(self):
        with self.lock:
            self.generation += 1
            if self.generation > 1:
                self.stats["reconnects"] += 1
            if self.buffer is not None:  # as realtime.js: an earlier connection's events are dropped
                self.buffer = []
        self._resync()

    def _notice(self):
        self.stats["resync_notices"] += 1
        self._resync()

    def _resync(self):
        with self.lock:
            if self.buffer is not None:
                return
            self.buffer = []
        threading.Thread(target=self._fetch_snapshot, daemon=True).start()

    def _fetch_snapshot(self):
        while not self.closed:
            try:
                ack = self.client.call("snapshot", {"op_id": str(uuid.uuid4())}, timeout=10)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                ack = None
            if ack and ack.get("ok"):
                with self.lock:
                    snap = ack["snapshot"]
                    self.last = dict(snap["streams"])
                    self.view.load(snap)
                    self.snapshots += 1
                    buffered, self.buffer = self.buffer or [], None
                    for name, message in buffered:
                        self._receive(name, message)
                return
            time.sleep(0.5 if ack else 1.0)  # a "retry" answer, or no connection yet
        with self.lock:
            self.buffer = None

    def _broadcast(self, name, message=None):
        with self.lock:
            self.received.append((name, message))
            self._receive(name, message)

    def _receive(self, name, message):
        if not isinstance(message, dict) or not isinstance(message.get("seq"), int):
            return
        if self.buffer is not None or self.last is None:
            if self.buffer is not None:
                self.buffer.append((name, message))
            return
        last = self.last.get(message["stream"], 0)
        if message["seq"] <= last:
            return
        if message["prev"] != last:  # a gap: something was missed
            self._resync()
            self.buffer.append((name, message))
            return
        self.last[message["stream"]] = message["seq"]
        if name == "seating_changed":
            self._resync()
            return
        self.view.apply(name, message)

    # ---- operations

    def call(self, event: str, payload: dict, timeout: float = 90.0) -> dict:
        """Send until answered (not "retry"); return the answer. Raises TimeoutError past `timeout`."""
        payload = {**payload, "op_id": str(uuid.uuid4())}
        answer: dict = {}
        answered = threading.Event()

        def on_ack(ack=None):
            if isinstance(ack, dict) and ack.get("error") == "retry":
                self.stats["retry_acks"] += 1
                retry_now.set()
                return
            answer.setdefault("ack", ack)
            answered.set()

        deadline = time.monotonic() + timeout
        sent_in = None
        sent_at = 0.0
        retry_now = threading.Event()
        while not answered.is_set():
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError(f"{event} got no answer in {timeout} s")
            connected = self.client.connected and self.generation
            due = sent_in != self.generation or now - sent_at > self.ACK_WAIT or retry_now.is_set()
            if connected and due:
                if sent_in is not None:
                    self.stats["resent"] += 1
                    if sent_in == self.generation and not retry_now.is_set():
                        self.stats["ack_timeouts"] += 1  # connected, yet no answer within ACK_WAIT
                if retry_now.is_set():
                    retry_now.clear()
                    time.sleep(0.2 + random.random() * 0.3)  # as realtime.js: wait a moment, resend
                sent_in, sent_at = self.generation, time.monotonic()
                with contextlib.suppress(socketio.exceptions.BadNamespaceError):
                    self.client.emit(event, payload, callback=on_ack)
            answered.wait(0.05)
        ack = answer["ack"]
        if ack.get("ok"):
            if event == "vote":
                self.mine["votes"][ack["idea_id"]] = ack["value"]
            elif event == "cast_ballot":
                self.mine["ballots"][ack["poll_id"]] = payload["ballot"]
        return ack

    def fresh_snapshot(self) -> dict:
        return self.call("snapshot", {})["snapshot"]

    def settled(self) -> bool:
        with self.lock:
            return self.buffer is None and self.last is not None

    def close(self):
        self.closed = True
        self.client.disconnect()


def view_of(snapshot: dict) -> dict:
    view = View()
    view.load(snapshot)
    return view.state()


def converged(phones, timeout: float = 30.0) -> list:
    """Wait until every phone's view equals a fresh snapshot of its own; return those that do not."""
    deadline = time.monotonic() + timeout
    pending = list(phones)
    while pending and time.monotonic() < deadline:
        still = []
        for phone in pending:
            if not phone.settled():
                still.append(phone)
                continue
            fresh = view_of(phone.fresh_snapshot())
            with phone.lock:
                same = phone.buffer is None and phone.view.state() == fresh
            if not same:
                still.append(phone)
        pending = still
        if pending:
            time.sleep(0.3)
    return pending


def stored_choices(database_url: str) -> tuple[dict, dict]:
    """Votes {(participant, idea): value} and ballots {(participant, poll): data}, read from the database."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            votes = {(p, i): v for p, i, v in conn.execute(sa.text("SELECT participant_id, idea_id, value FROM votes"))}
            ballots = {(p, q): json.loads(d) if isinstance(d, str) else d for p, q, d in
                       conn.execute(sa.text("SELECT participant_id, poll_id, data FROM ballots"))}
    finally:
        engine.dispose()
    return votes, ballots


class VotingFloor:
    """Phones voting at their tables (agree/disagree/pass on ideas) and in a plenary poll, at once.

    Phone i talks to servers[i % len(servers)]. Each phone sends one operation at a time and
    waits for its answer (a resident taps, then sees "accepted"), resending as realtime.js does.
    """

    OPTIONS = ["公園", "図書館", "バス", "広場"]

    def __init__(self, servers: list, participants: int, tables: int, ideas_per_table: int = 2, seed: int = 1,
                 patience: float = 90.0):
        from concurrent.futures import ThreadPoolExecutor

        self.servers = servers
        self.random = random.Random(seed)
        # How long a phone waits for an answer before giving up (a browser never does: an
        # operation given up on may still land, and the check cannot know which way it went).
        self.patience = patience
        demo = servers[0].demo(participants=participants, tables=tables)
        self.meeting_id = demo["meeting_id"]
        facilitator = demo["facilitator"]
        self.staff_http = staff_login(servers[0], facilitator["email"], facilitator["password"])
        self.staff = ReliablePhone(servers[0].url, self.staff_http, auth={"meeting_id": self.meeting_id})
        created = self.staff.call("create_poll", {"kind": "single", "question": "どこに予算を使いますか",
                                                  "options": self.OPTIONS, "visibility": "live"})
        assert created["ok"], created
        self.poll_id = created["poll"]["id"]
        assert self.staff.call("open_poll", {"poll_id": self.poll_id})["ok"]
        people = demo["participants"]
        with ThreadPoolExecutor(max_workers=16) as pool:
            self.sessions = sessions = list(pool.map(lambda p: join_over_http(p["join_url"], f"p{p['number']}"),
                                                     people))
            self.phones = list(pool.map(lambda i: ReliablePhone(servers[i % len(servers)].url, sessions[i]),
                                        range(len(sessions))))
            snaps = list(pool.map(lambda ph: ph.fresh_snapshot(), self.phones))
        self.pid = {id(ph): s["me"]["id"] for ph, s in zip(self.phones, snaps)}
        self.table_of = {id(ph): s["table"]["id"] for ph, s in zip(self.phones, snaps)}
        self.ideas: dict[int, list[int]] = {}
        for phone, snap in zip(self.phones, snaps):
            table = snap["table"]["id"]
            while len(self.ideas.setdefault(table, [])) < ideas_per_table:
                ack = phone.call("post_idea", {"text": f"案 {table}-{len(self.ideas[table]) + 1}"})
                assert ack["ok"], ack
                self.ideas[table].append(ack["idea"]["id"])
        self.acks = 0
        self.refused: list[dict] = []
        self._count = threading.Lock()

    def one_operation(self, phone) -> dict:
        rnd = self.random
        if rnd.random() < 0.5:
            ack = phone.call("vote", {"idea_id": rnd.choice(self.ideas[self.table_of[id(phone)]]),
                                      "value": rnd.choice(["agree", "disagree", "pass"])}, timeout=self.patience)
        else:
            ack = phone.call("cast_ballot", {"poll_id": self.poll_id,
                                             "ballot": {"option": f"o{rnd.randrange(len(self.OPTIONS)) + 1}"}},
                             timeout=self.patience)
        with self._count:
            if ack.get("ok"):
                self.acks += 1
            else:
                self.refused.append(ack)
        return ack

    def vote(self, operations: int | None = None, stop: threading.Event | None = None, pause: tuple = (0.0, 0.05)):
        """Start every phone voting `operations` times (or until `stop` is set); return (threads, errors)."""
        errors: list = []

        def run(phone):
            done = 0
            try:
                while (operations is None or done < operations) and not (stop and stop.is_set()):
                    self.one_operation(phone)
                    done += 1
                    time.sleep(random.uniform(*pause))
            except Exception as err:  # noqa: BLE001 - reported by the caller
                errors.append(repr(err))

        threads = [threading.Thread(target=run, args=(phone,), daemon=True) for phone in self.phones]
        for thread in threads:
            thread.start()
        return threads, errors

    def expected_counts(self) -> tuple[dict, dict]:
        """Tallies and poll counts from what the phones were told was accepted."""
        tallies: dict = {i: {"agree": 0, "disagree": 0, "pass": 0} for ids in self.ideas.values() for i in ids}
        options = {f"o{k + 1}": 0 for k in range(len(self.OPTIONS))}
        for phone in self.phones:
            for idea_id, value in phone.mine["votes"].items():
                tallies[idea_id][value] += 1
            if self.poll_id in phone.mine["ballots"]:
                options[phone.mine["ballots"][self.poll_id]["option"]] += 1
        return tallies, options

    def check(self, database_url: str) -> list[str]:
        """Compare the database and every view with what the phones were told; return the problems."""
        problems = []
        votes, ballots = stored_choices(database_url)
        for phone in self.phones:
            pid = self.pid[id(phone)]
            stored_votes = {i: v for (p, i), v in votes.items() if p == pid}
            stored_ballots = {q: d for (p, q), d in ballots.items() if p == pid}
            if stored_votes != phone.mine["votes"]:
                problems.append(f"participant {pid}: votes {stored_votes} stored, {phone.mine['votes']} acknowledged")
            if stored_ballots != phone.mine["ballots"]:
                problems.append(f"participant {pid}: ballots {stored_ballots} stored, {phone.mine['ballots']} acknowledged")
        tallies, options = self.expected_counts()
        staff = self.staff.fresh_snapshot()
        shown = {i["id"]: i["tally"] for t in staff["tables"] for i in t["ideas"]}
        tallies = {i: tallies.get(i, {"agree": 0, "disagree": 0, "pass": 0}) for i in shown | tallies}
        if shown != tallies:
            problems.append(f"tallies {shown} != acknowledged votes {tallies}")
        results = next(p for p in staff["polls"] if p["id"] == self.poll_id)["results"]
        counted = {row["id"]: row["value"] for row in results["rows"]}
        if counted != options or results["ballots"] != sum(options.values()):
            problems.append(f"poll results {counted} ({results['ballots']} ballots) != acknowledged {options}")
        stale = converged(self.phones)
        if stale:
            mine, fresh = stale[0].view.state(), view_of(stale[0].fresh_snapshot())
            diff = {part: {k: (mine[part].get(k), fresh[part].get(k)) for k in mine[part].keys() | fresh[part].keys()
                           if mine[part].get(k) != fresh[part].get(k)} for part in fresh}
            problems.append(f"{len(stale)} phones' views differ from a fresh snapshot, e.g. (view, fresh): {diff}")
        return problems

    def close(self):
        close_all(self.phones + [self.staff])


class Cable:
    """A phone's network: a TCP proxy in front of a server that can be unplugged and plugged in.

    Unplugged, the phone's connections are closed and new ones refused (as when a phone loses its
    network, the phone notices at once); the server's side of each connection stays open and
    silent, so the server notices only by its own ping timeout, as with a phone that vanished.
    """

    def __init__(self, target_port: int):
        self.port = free_port()
        self.target = target_port
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.listener = None
        self.plug()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plug(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                phone, _ = listener.accept()
            except OSError:
                return  # unplugged
            server = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.pairs.append((phone, server))
            threading.Thread(target=self._pump, args=(phone, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, phone), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def unplug(self):
        self.listener.close()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for phone, _server in pairs:
            with contextlib.suppress(OSError):
                phone.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv(); close() alone would not
                phone.close()
        self.silent = [server for _, server in pairs]

    def close(self):
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for sock in [s for pair in pairs for s in pair] + getattr(self, "silent", []):
            with contextlib.suppress(OSError):
                sock.close()
