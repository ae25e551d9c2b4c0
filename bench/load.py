"""Load benchmark: thousands of real Socket.IO phones against Kurumaza and a bare python-socketio server.

    python bench/load.py                       # every profile (breakout, plenary, ramp), ours and bare
    python bench/load.py --profile breakout --participants 2000 --tables 100 --rate 200 --seconds 30
    python bench/load.py --profile ramp --quick
    python bench/load.py --target http://127.0.0.1:8000 --database-url postgresql+psycopg://...  # a running stack

Phones are lean asyncio Engine.IO 4 / Socket.IO 5 WebSocket clients (aiohttp; `SioClient`
below, checked against python-socketio's own client in tests/test_load.py), spread over
`--processes` client processes, each owning whole tables. Against Kurumaza they join through the
real invitation flow (the `demo` command's links: link → /welcome → nickname form → session
cookie) and connect with that cookie; against the bare server (bench/bare_server.py, same
shapes, in memory) they only say who they are. Then the first phone of each table posts ideas,
and phones vote at `--rate` votes/s in all (open loop: a phone is picked every 1/rate s among
those not waiting for an answer, as a resident taps and waits), while `--idea-rate` ideas/s are
posted.

Measured, for ours and bare side by side (and as a ratio):
- vote ack latency (sent → ack), p50/p95/p99/max;
- tally fan-out (vote sent → every phone at the table has received the first `tallies`
  broadcast that contains the idea and follows the vote's ack on the voter's connection);
- idea ack and fan-out (post_idea sent → ack; → every phone at the table has `idea_posted`), of
  the ideas posted while phones vote (not the seed ideas, posted at every table at once before);
- votes/s acknowledged, messages/s delivered; per stream, applied in order as the browser does:
  reordered broadcasts (one arrived before the one it follows: possible with several workers,
  held until that one comes), lost ones (still held at the end: what they follow never came)
  and duplicated ones (a `seq` received twice);
- at the end every phone's view (ideas and tallies from its snapshot + broadcasts) compared with
  a fresh snapshot, and the snapshot's `my_vote` with the last vote the phone had acknowledged;
- server CPU (from /proc of the server pid) during voting, memory per connection (RSS delta /
  connections), connecting time and server CPU per connection;
- the longest event-loop pause and garbage-collection pause (meeting/loopstats.py, enabled in
  the server by MEETING_LOOP_STATS only for the bench).

Profiles: breakout (2,000 phones in 100 tables of 20 at 200 votes/s), plenary (1,000 phones
in one meeting, each casts a ballot in a plenary poll within 10 s; measured: when every phone
has the final result after the last ballot), ramp (rates doubled until vote-ack p99 > 250 ms:
the knee). Output: a table on the terminal, JSON in bench/results/, a PNG of p99 against load
(bench/results/load-ramp.png). The machine is shared: `uptime` is recorded with every run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VALUES = ("agree", "disagree", "pass")


# --------------------------------------------------------------------------- the lean client


class ConnectRefused(Exception):
    pass


class SioClient:
    """A minimal Socket.IO 5 client over an Engine.IO 4 WebSocket (no polling, no binary, no
    namespaces other than "/", no reconnection): what a benchmark phone needs, at a fraction of
    python-socketio's cost per connection."""

    def __init__(self, on_event=None):
        self.on_event = on_event or (lambda name, data, at: None)
        self.ws = None
        self.sid = None
        self._acks: dict[int, asyncio.Future] = {}
        self._next_ack = 0
        self._reader = None
        self.connected = False
        self.received = 0

    async def connect(self, http: aiohttp.ClientSession, url: str, headers: dict | None = None, auth=None,
                      timeout: float = 30.0):
        ws_url = url.replace("http", "ws", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await http.ws_connect(ws_url, headers=headers or {}, autoping=False, max_msg_size=0,
                                        timeout=aiohttp.ClientWSTimeout(ws_close=2), compress=0)
        opened = await asyncio.wait_for(self.ws.receive(), timeout)
        if opened.type != aiohttp.WSMsgType.TEXT or not opened.data.startswith("0"):
            raise ConnectRefused(f"no Engine.IO open packet: {opened!r}")
        await self.ws.send_str("40" + (json.dumps(auth, separators=(",", ":")) if auth is not None else ""))
        while True:
            msg = await asyncio.wait_for(self.ws.receive(), timeout)
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise ConnectRefused(f"closed while connecting: {msg!r}")
            if msg.data == "2":
                await self.ws.send_str("3")
            elif msg.data.startswith("40"):
                self.sid = json.loads(msg.data[2:] or "{}").get("sid")
                break
            elif msg.data.startswith("44"):
                raise ConnectRefused(msg.data[2:])
            else:  # an event before the connect answer: keep it
                self._packet(msg.data)
        self.connected = True
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self):
        try:
            async for msg in self.ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    data = msg.data
                    if data == "2":
                        await self.ws.send_str("3")
                    else:
                        self._packet(data)
                elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        finally:
            self.connected = False
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(ConnectionError("disconnected"))
            self._acks.clear()

    def _packet(self, data: str):
        now = time.monotonic()
        if data.startswith("42"):  # EVENT (default namespace, no ack id from the server)
            self.received += 1
            body = data[2:]
            start = body.index("[")
            args = json.loads(body[start:])
            self.on_event(args[0], args[1] if len(args) > 1 else None, now)
        elif data.startswith("43"):  # ACK
            body = data[2:]
            start = body.index("[")
            future = self._acks.pop(int(body[:start]), None)
            if future is not None and not future.done():
                args = json.loads(body[start:])
                future.set_result(args[0] if args else None)
        elif data.startswith("41"):  # DISCONNECT from the server
            self.connected = False
        # "6" noop, "1" close, anything else: ignored

    async def call(self, event: str, data, timeout: float = 60.0):
        ack_id = self._next_ack
        self._next_ack += 1
        future = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self.ws.send_str(f"42{ack_id}" + json.dumps([event, data], separators=(",", ":"), ensure_ascii=False))
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._acks.pop(ack_id, None)

    async def close(self):
        if self.ws is not None and not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.send_str("41")
                await self.ws.close()
        if self._reader:
            self._reader.cancel()


# --------------------------------------------------------------------------- a phone


class Phone:
    """A participant: its connection, what it shows (view), and what it saw arrive when."""

    def __init__(self, index: int, table_key, join: str | None = None, pid: int | None = None):
        self.index = index
        self.table_key = table_key  # the table's position (ours: from the demo's seating)
        self.join = join
        self.pid = pid
        self.client = SioClient(self._on_event)
        self.cookie = None
        self.last: dict[str, int] | None = None  # stream -> last seq applied (None until the snapshot)
        self.early: list = []
        self.ideas: dict[int, dict] = {}  # id -> tally
        self.poll: dict | None = None
        self.floor: dict[str, int] = {}  # stream -> the snapshot's position
        self.seen: dict[str, set[int]] = {}  # stream -> seqs applied since the snapshot
        self.held: dict[str, dict[int, tuple]] = {}  # stream -> {prev: early broadcast} (see _apply)
        self.reordered = 0
        self.duplicated = 0
        self.messages = 0
        self.table_id = None
        self.table_stream = None
        self.tally_seen: list[tuple[int, float, frozenset]] = []  # (seq, at, idea ids) on the table stream
        self.seq_at: dict[int, float] = {}  # seq on the table stream -> arrival
        self.idea_at: dict[int, float] = {}
        self.poll_seen: list[tuple[float, dict]] = []
        self.my_votes: dict[int, str] = {}
        self.my_ballot = None
        self.busy = False

    def _on_event(self, name, message, at):
        self.messages += 1
        if not isinstance(message, dict) or not isinstance(message.get("seq"), int):
            return
        if self.last is None:
            self.early.append((name, message, at))
            return
        self._apply(name, message, at)

    def _apply(self, name, message, at):
        """Apply a stream's broadcasts in seq order, as the browser does (static/js/realtime.js).

        With several workers a stream's broadcasts reach a phone from each worker and one can
        overtake another: one whose `prev` is not the last applied is held until the one before it
        comes (counted as reordered), then both apply, at the later arrival. A seq received twice
        is a duplicate; one still held at the end stands for a broadcast that never came (lost)."""
        stream, seq, prev = message["stream"], message["seq"], message["prev"]
        seen = self.seen.setdefault(stream, set())
        if seq in seen or seq <= self.floor.get(stream, 0):
            self.duplicated += 1
            return
        held = self.held.setdefault(stream, {})
        if prev > self.last.get(stream, 0):
            if prev in held:
                self.duplicated += 1
                return
            held[prev] = (name, message, at)
            self.reordered += 1
            return
        while True:
            seen.add(seq)
            self.last[stream] = seq
            self._show(name, message, at)
            if seq not in held:
                return
            name, message, later = held.pop(seq)
            at, seq = max(at, later), message["seq"]

    def _show(self, name, message, at):
        stream, seq = message["stream"], message["seq"]
        if stream == self.table_stream:
            self.seq_at[seq] = at
        if name == "idea_posted":
            idea = message["idea"]
            self.ideas[idea["id"]] = dict(idea["tally"])
            self.idea_at[idea["id"]] = at
        elif name == "tallies":
            ids = frozenset(int(k) for k in message["tallies"])
            for key, tally in message["tallies"].items():
                if int(key) in self.ideas:
                    self.ideas[int(key)] = dict(tally)
            if stream == self.table_stream:
                self.tally_seen.append((seq, at, ids))
        elif name == "poll_results":
            self.poll = message["results"]
            self.poll_seen.append((at, message["results"]))
        elif name in ("poll_opened", "poll_closed"):
            self.poll = message.get("results")

    def gaps(self) -> int:
        """Broadcasts never received: those still held for want of the one before them."""
        return sum(len(held) for held in self.held.values())

    def load(self, snap: dict):
        self.table_id = snap["table"]["id"] if snap.get("table") else None
        self.table_stream = f"table:{self.table_id}"
        self.pid = snap["me"]["id"]
        self.ideas = {i["id"]: dict(i["tally"]) for i in snap["ideas"]}
        self.poll = next((p["results"] for p in snap.get("polls", []) if p.get("state") == "open"), None)
        self.last = dict(snap["streams"])
        self.floor = dict(snap["streams"])
        self.held = {}
        early, self.early = self.early, []
        for name, message, at in early:
            if message["seq"] > self.last.get(message["stream"], 0):
                self._apply(name, message, at)


def _op(payload: dict) -> dict:
    return {"op_id": str(uuid.uuid4()), **payload}


# --------------------------------------------------------------------------- one client process


async def _join(http: aiohttp.ClientSession, phone: Phone, base: str):
    """The invitation flow of a phone: link → /welcome → nickname → the signed-in session cookie."""
    cookies: dict[str, str] = {}

    def keep(resp):
        for name, morsel in resp.cookies.items():
            cookies[name] = morsel.value

    def header():
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}

    async with http.get(phone.join, allow_redirects=False) as resp:
        keep(resp)
        assert resp.status in (302, 303), (resp.status, await resp.text())
    async with http.get(base + "/welcome", headers=header(), allow_redirects=False) as resp:
        keep(resp)
        page = await resp.text()
    token = CSRF.search(page).group(1)
    async with http.post(base + "/welcome", data={"nickname": f"p{phone.index}", "csrf_token": token},
                         headers=header(), allow_redirects=False) as resp:
        keep(resp)
        assert resp.status in (302, 303) and resp.headers["Location"].endswith("/table"), resp.status
    phone.cookie = header()["Cookie"]


async def _connect(http, phone: Phone, base: str, bare: bool):
    if bare:
        await phone.client.connect(http, base, auth={"pid": phone.pid, "table": phone.table_key})
    else:
        await phone.client.connect(http, base, headers={"Cookie": phone.cookie, "Origin": base})
    ack = await phone.client.call("snapshot", _op({}))
    assert ack and ack.get("ok"), ack
    phone.load(ack["snapshot"])


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Worker:
    """The phones of some tables, in one process, driven by commands from the main process."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.base = spec["url"]
        self.bare = spec["bare"]
        self.phones = [Phone(i, t, j, p) for i, t, j, p in spec["phones"]]
        self.tables: dict[int, list[Phone]] = {}
        self.rng = random.Random(spec["seed"])
        self.votes: list[dict] = []
        self.ideas_posted: list[dict] = []
        self.errors: list[str] = []
        self.ballots: list[dict] = []

    async def setup(self) -> dict:
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        self.http = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        gate = asyncio.Semaphore(self.spec.get("concurrency", 40))
        result = {}
        if not self.bare:
            async def join(phone):
                async with gate:
                    await _join(self.http, phone, self.base)
            t0 = time.monotonic()
            await asyncio.gather(*(join(p) for p in self.phones))
            result["join_s"] = time.monotonic() - t0
        return result

    async def connect(self) -> dict:
        gate = asyncio.Semaphore(self.spec.get("concurrency", 40))

        async def one(phone):
            async with gate:
                await _connect(self.http, phone, self.base, self.bare)

        t0 = time.monotonic()
        await asyncio.gather(*(one(p) for p in self.phones))
        for phone in self.phones:
            self.tables.setdefault(phone.table_id, []).append(phone)
        return {"connect_s": time.monotonic() - t0, "connected": sum(p.client.connected for p in self.phones)}

    async def post_idea(self, phone: Phone, text: str, step: int | None = None):
        """step: the measured step it is posted in (None: the seed ideas, posted 100 at once
        before voting starts, which are not part of any step's figures)."""
        sent = time.monotonic()
        ack = await phone.client.call("post_idea", _op({"text": text}))
        if not ack.get("ok"):
            self.errors.append(f"post_idea: {ack}")
            return
        idea = ack["idea"]
        phone.ideas.setdefault(idea["id"], dict(idea["tally"]))
        self.ideas_posted.append({"table": phone.table_id, "idea": idea["id"], "sent": sent, "step": step,
                                  "ack": time.monotonic()})

    async def seed_ideas(self, per_table: int) -> dict:
        async def table(phones):
            for k in range(per_table):
                await self.post_idea(phones[0], f"idea {phones[0].table_id}-{k + 1}")
        await asyncio.gather(*(table(ps) for ps in self.tables.values()))
        await self._settle(lambda: all(set(self._table_ideas(t)) <= set(p.ideas) for t, ps in self.tables.items()
                                       for p in ps), 30)
        return {}

    def _table_ideas(self, table_id) -> list[int]:
        return [i["idea"] for i in self.ideas_posted if i["table"] == table_id]

    async def _settle(self, check, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not check():
            await asyncio.sleep(0.05)

    async def vote_once(self, phone: Phone, step: int):
        phone.busy = True
        try:
            idea = self.rng.choice(self._table_ideas(phone.table_id))
            value = self.rng.choice(VALUES)
            sent = time.monotonic()
            before = phone.last.get(phone.table_stream, 0)
            payload = _op({"idea_id": idea, "value": value})
            try:
                ack = await phone.client.call("vote", payload)
            except Exception as err:  # noqa: BLE001 - counted as unanswered
                self.votes.append({"step": step, "sent": sent, "ack": None, "error": repr(err)})
                return
            at = time.monotonic()
            if not ack.get("ok"):
                self.votes.append({"step": step, "sent": sent, "ack": None, "error": str(ack)})
                return
            phone.my_votes[idea] = value
            self.votes.append({"step": step, "sent": sent, "ack": at, "phone": phone.index, "table": phone.table_id,
                               "idea": idea, "before": before, "after": phone.last.get(phone.table_stream, 0),
                               "op": payload["op_id"]})
        finally:
            phone.busy = False

    async def drive(self, rate: float, idea_rate: float, seconds: float, start_at: float, step: int) -> dict:
        """Vote at `rate` votes/s (this process's share) for `seconds`, from `start_at` (monotonic)."""
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        end = start_at + seconds
        tasks = set()
        skipped = 0
        posted = 0
        next_vote = start_at
        next_idea = start_at + (1 / idea_rate if idea_rate else seconds + 1)
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if now >= next_idea and idea_rate:
                phone = self.rng.choice(self.phones)
                posted += 1
                task = asyncio.create_task(self.post_idea(phone, f"more {phone.table_id}-{posted}", step))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                next_idea += 1 / idea_rate
            while next_vote <= now:
                next_vote += 1 / rate
                for _ in range(8):  # a phone that is not waiting for an answer
                    phone = self.phones[self.rng.randrange(len(self.phones))]
                    if not phone.busy and phone.client.connected:
                        break
                else:
                    skipped += 1
                    continue
                task = asyncio.create_task(self.vote_once(phone, step))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.sleep(max(0.0, min(next_vote, next_idea, end) - time.monotonic()))
        if tasks:
            await asyncio.wait(tasks, timeout=60)
        return {"skipped": skipped}

    async def ballots_within(self, seconds: float, start_at: float, options: list[str]) -> dict:
        """Every phone casts one ballot at a random moment of `seconds` from `start_at`."""
        async def cast(phone):
            await asyncio.sleep(max(0.0, start_at + self.rng.random() * seconds - time.monotonic()))
            option = self.rng.choice(options)
            sent = time.monotonic()
            try:
                ack = await phone.client.call("cast_ballot", _op({"poll_id": self.spec["poll_id"],
                                                                  "ballot": {"option": option}}))
            except Exception as err:  # noqa: BLE001
                self.ballots.append({"sent": sent, "ack": None, "error": repr(err)})
                return
            if ack.get("ok"):
                phone.my_ballot = option
                self.ballots.append({"sent": sent, "ack": time.monotonic(), "option": option})
            else:
                self.ballots.append({"sent": sent, "ack": None, "error": str(ack)})
        await asyncio.gather(*(cast(p) for p in self.phones))
        return {}

    def measure(self, step: int | None = None, notes: dict | None = None) -> dict:
        """Latencies of this process's votes and ideas (of one ramp step, or all). `notes`: the
        server's, by op_id, where it names the last number stamped on the table's stream when
        the vote committed (meeting/loopstats.py)."""
        votes = [v for v in self.votes if step is None or v["step"] == step]
        acked = [v for v in votes if v["ack"] is not None]
        ack_ms = [(v["ack"] - v["sent"]) * 1000 for v in acked]
        # Which tally first counts a vote, the phones cannot see: only that it is after the vote was
        # sent, and that the first one of its idea after the ack (or, if none came after, the last
        # before it) does, since the idea is marked for the next flush right after the commit and
        # the ack follows the commit. So each vote gives a lower bound (fan_low_ms: the first tally
        # of its idea after the send) and an upper bound, equal where no tally of the idea arrived
        # between the send and the ack (a server whose broadcasts wait for the fsync that its acks
        # wait for too sends none in between). Where the server noted the stream's number at the
        # commit (ours, one process), the first tally of the idea above it is the one: fan_ms is
        # exact there (`exact` counts them), else the upper bound.
        notes = notes or {}
        fan_ms, fan_low_ms = [], []
        exact = 0
        undelivered = 0
        by_phone = {p.index: p for p in self.phones}

        def everyone(table, seq):
            arrivals = [p.seq_at.get(seq) for p in self.tables[table]]
            return None if None in arrivals else max(arrivals)

        for v in acked:
            voter = by_phone[v["phone"]]
            of_idea = [seq for seq, _at, ids in voter.tally_seen if seq > v["before"] and v["idea"] in ids]
            if not of_idea:
                undelivered += 1
                continue
            noted = notes.get(v["op"])
            if noted is not None:
                high = next((seq for seq in of_idea if seq > noted), None)
                exact += high is not None
            if noted is None or high is None:
                high = next((seq for seq in of_idea if seq > v["after"]), None) or of_idea[-1]
            low_at, high_at = everyone(v["table"], of_idea[0]), everyone(v["table"], high)
            if low_at is None or high_at is None:
                undelivered += 1
                continue
            fan_low_ms.append((low_at - v["sent"]) * 1000)
            fan_ms.append((high_at - v["sent"]) * 1000)
        idea_ms = []
        def measured(i) -> bool:  # posted while phones voted (in this step)
            return i["step"] is not None and (step is None or i["step"] == step)

        idea_ack_ms = [(i["ack"] - i["sent"]) * 1000 for i in self.ideas_posted if measured(i)]
        for i in self.ideas_posted:
            arrivals = [p.idea_at.get(i["idea"]) for p in self.tables.get(i["table"], [])]
            if None in arrivals:
                if step is None:
                    undelivered += 1
            elif measured(i):
                idea_ms.append((max(arrivals) - i["sent"]) * 1000)
        return {"ack_ms": ack_ms, "fanout_ms": fan_ms, "fanout_low_ms": fan_low_ms, "fanout_exact": exact,
                "idea_ms": idea_ms, "idea_ack_ms": idea_ack_ms, "votes": len(votes),
                "unanswered": len(votes) - len(acked), "undelivered": undelivered,
                "errors": [v.get("error") for v in votes if v["ack"] is None][:3] + self.errors[:3]}

    async def verify(self) -> dict:
        """Every phone's view against a fresh snapshot, and its acknowledged votes against my_vote."""
        problems = []
        gate = asyncio.Semaphore(20)

        async def one(phone):
            async with gate:
                ack = await phone.client.call("snapshot", _op({}))
            snap = ack["snapshot"]
            fresh = {i["id"]: i["tally"] for i in snap["ideas"]}
            if fresh != phone.ideas:
                diff = {k: (phone.ideas.get(k), fresh.get(k)) for k in fresh.keys() | phone.ideas.keys()
                        if phone.ideas.get(k) != fresh.get(k)}
                problems.append(f"phone {phone.index}: view differs from a fresh snapshot (view, fresh): {diff}")
            stored = {i["id"]: i["my_vote"] for i in snap["ideas"] if i.get("my_vote")}
            if stored != phone.my_votes:
                problems.append(f"phone {phone.index}: my_vote {stored} != acknowledged {phone.my_votes}")
            if phone.my_ballot is not None:
                poll = next((p for p in snap.get("polls", []) if p["id"] == self.spec.get("poll_id")), None)
                mine = poll and poll.get("my_ballot")
                mine = mine.get("option") if isinstance(mine, dict) else mine
                if mine != phone.my_ballot:
                    problems.append(f"phone {phone.index}: ballot {mine} != acknowledged {phone.my_ballot}")
                fresh_poll = poll and poll.get("results")
                if fresh_poll and phone.poll and _counts(fresh_poll) != _counts(phone.poll):
                    problems.append(f"phone {phone.index}: poll view {_counts(phone.poll)} != {_counts(fresh_poll)}")

        await asyncio.gather(*(one(p) for p in self.phones if p.client.connected))
        lost = sum(p.gaps() for p in self.phones)
        dup = sum(p.duplicated for p in self.phones)
        disconnected = sum(not p.client.connected for p in self.phones)
        return {"problems": problems[:20], "problem_count": len(problems), "lost": lost, "duplicated": dup,
                "reordered": sum(p.reordered for p in self.phones),
                "disconnected": disconnected, "messages": sum(p.messages for p in self.phones)}

    def plenary_finish(self, last_ballot: float, final: dict) -> dict:
        """When each phone first showed the final counts (and kept them), after the last ballot."""
        worst = 0.0
        missing = 0
        for phone in self.phones:
            at = None
            for when, results in phone.poll_seen:
                if _counts(results) == final:
                    at = at if at is not None else when
                else:
                    at = None
            if at is None:
                missing += 1
            else:
                worst = max(worst, at - last_ballot)
        return {"final_after_last_s": worst, "missing_final": missing}

    async def close(self):
        await asyncio.gather(*(p.client.close() for p in self.phones), return_exceptions=True)
        await self.http.close()


def _counts(results: dict | None) -> dict:
    return {r["id"]: r["value"] for r in (results or {}).get("rows", [])}


def _worker_main(spec: dict, conn):
    """A client process: run the main process's commands on its Worker until "close"."""
    async def run():
        worker = Worker(spec)
        while True:
            command, args = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
            try:
                if command == "close":
                    await worker.close()
                    conn.send({})
                    return
                if command == "measure":
                    result = worker.measure(*args)
                elif command == "plenary_finish":
                    result = worker.plenary_finish(*args)
                elif command == "ballots":
                    result = {"ballots": worker.ballots}
                elif command == "mine":  # what each phone was told was accepted: {pid: {idea: value}}
                    result = {p.pid: p.my_votes for p in worker.phones}
                else:
                    result = await getattr(worker, command)(*args)
                conn.send(result)
            except Exception as err:  # noqa: BLE001 - reported to the main process
                import traceback
                conn.send({"error": repr(err), "traceback": traceback.format_exc()})
    asyncio.run(run())


class Clients:
    """The client processes, each with whole tables; commands go to all of them at once."""

    def __init__(self, url: str, phones: list[tuple], processes: int, bare: bool, poll_id=None, seed: int = 1):
        tables = sorted({p[1] for p in phones})
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for k in range(processes):
            mine = {t for n, t in enumerate(tables) if n % processes == k}
            spec = {"url": url, "bare": bare, "phones": [p for p in phones if p[1] in mine], "seed": seed + k,
                    "poll_id": poll_id}
            if not spec["phones"]:
                continue
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(spec, there), daemon=True)
            proc.start()
            self.pipes.append(here)
            self.procs.append(proc)
        self.share = [None] * len(self.pipes)

    def all(self, command: str, *args, per=None) -> list:
        for n, pipe in enumerate(self.pipes):
            pipe.send((command, per(n) if per else args))
        results = [pipe.recv() for pipe in self.pipes]
        for r in results:
            if isinstance(r, dict) and "error" in r:
                raise RuntimeError(r["traceback"])
        return results

    def close(self):
        with contextlib.suppress(Exception):
            self.all("close")
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()


# --------------------------------------------------------------------------- servers


def free_port() -> int:  # tests/test_load.py replaces it with tests/live.py's (ports per xdist worker)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_waited_s(pid: int) -> float:
    """Seconds the process's main thread (the event loop) was ready to run but waited for a CPU
    (/proc/<pid>/schedstat: the machine's other processes, the load generator's included, had them)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def server_notes(path: Path | None) -> dict:
    """What the server noted for the benchmark (meeting/loopstats.py `note`), merged."""
    notes: dict = {}
    if path and path.exists():
        for line in path.read_text().splitlines():
            notes.update(json.loads(line).get("notes", {}))
    return notes


def loop_stats(path: Path, since: float, until: float) -> dict:
    worst = gc_worst = gc_ms = 0.0
    rows = []
    if path and path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if since <= row["t"] <= until + 0.6:
                rows.append(row)
                worst = max(worst, row["max_pause_ms"])
                gc_worst = max(gc_worst, row["max_gc_ms"])
                gc_ms += row["gc_ms"]
    found = {"max_pause_ms": worst, "max_gc_ms": gc_worst, "gc_ms": round(gc_ms, 1)}
    runs: dict = {}  # --runs: the greenlets that held the loop longest, by where they yielded
    for row in rows:
        for where, (n, total, most) in row.get("runs", {}).items():
            seen = runs.setdefault(where, [0, 0.0, 0.0])
            seen[0], seen[1], seen[2] = seen[0] + n, seen[1] + total, max(seen[2], most)
    if runs:
        found["runs"] = [{"where": w, "count": n, "total_ms": round(t, 1), "max_ms": m}
                         for w, (n, t, m) in sorted(runs.items(), key=lambda kv: -kv[1][1])[:15]]
    # Group commit (Kurumaza on SQLite): commits and fsyncs in the window, from the running totals.
    counted = [r for r in rows if "fsyncs" in r]
    if len(counted) >= 2:
        commits = counted[-1]["commits"] - counted[0]["commits"]
        fsyncs = counted[-1]["fsyncs"] - counted[0]["fsyncs"]
        found.update(commits=commits, fsyncs=fsyncs, commits_per_fsync=round(commits / fsyncs, 2) if fsyncs else None)
        found["max_fsync_ms"] = max((r.get("max_fsync_ms", 0) for r in counted), default=None)
    return found


class Server:
    """A server under test: Kurumaza (`make run`'s gevent process on SQLite) or the bare one."""

    def __init__(self, kind: str, folder: Path, interval: float, target: str | None = None,
                 database_url: str | None = None, server_pid: int | None = None):
        self.kind = kind
        self.folder = folder
        self.interval = interval
        self.stats_file = folder / f"loop-{kind}.jsonl"
        self.process = None
        self.pid = server_pid
        self.external = target is not None
        if target:
            self.url = target.rstrip("/")
            self.env = {**os.environ, "DATABASE_URL": database_url or os.environ.get("DATABASE_URL", "")}
            return
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "MEETING_LOOP_STATS": str(self.stats_file), "PYTHONUNBUFFERED": "1"}
        self.topology = None
        if kind == "cluster":  # `make cluster`'s topology, on ports of its own, in the run's folder
            self.topology = cluster_topology(folder, self.port)
            self.env = {**self.topology.app_env(), "MEETING_TALLY_INTERVAL": str(interval),
                        "MEETING_LOOP_STATS": str(self.stats_file)}
            return
        if kind == "ours":
            self.env.update({"MEETING_INSTANCE_PATH": str(folder), "MEETING_ASYNC_MODE": "gevent",
                             "MEETING_BASE_URL": self.url, "SECRET_KEY": "bench-secret-key-0123456789abcdef0123",
                             "MEETING_DATA_KEY": "bench-data-key-0123456789abcdef01234",
                             "MEETING_TALLY_INTERVAL": str(interval), "DATABASE_URL": database_url
                             or f"sqlite:///{folder / 'bench.sqlite3'}",
                             "MEETING_ADMIN_EMAIL": "admin@example.org", "MEETING_ADMIN_PASSWORD": "admin password 123"})
            self.env.pop("REDIS_URL", None)
            self.cli("db", "upgrade")

    def cli(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "meeting", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=600)
        if result.returncode:
            raise RuntimeError(result.stderr[-3000:])
        return result.stdout

    def start(self):
        if self.external:
            return self
        if self.topology:
            os.environ.update({k: v for k, v in self.env.items() if k.startswith("MEETING_")})
            self.topology.start()
            self.pids = [int((self.topology.DIR / f"worker-{i + 1}.pid").read_text()) for i in range(self.topology.WORKERS)]
            return self
        command = ([sys.executable, "-m", "meeting.serve", "--port", str(self.port)] if self.kind == "ours" else
                   [sys.executable, str(ROOT / "bench" / "bare_server.py"), "--port", str(self.port),
                    "--interval", str(self.interval)])
        log = (self.folder / f"{self.kind}.log").open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                time.sleep(0.3)
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError((self.folder / f"{self.kind}.log").read_text()[-3000:])

    def cpu(self) -> float:  # a cluster: its workers together
        if self.topology:
            return sum(proc_cpu_s(pid) for pid in self.pids)
        return proc_cpu_s(self.pid) if self.pid else 0.0

    def waited(self) -> float:  # a cluster: the longest wait of its workers' loops
        if self.topology:
            return max((proc_waited_s(pid) for pid in self.pids), default=0.0)
        return proc_waited_s(self.pid) if self.pid else 0.0

    def rss_kb(self) -> int:
        if self.topology:
            return sum(proc_rss_kb(pid) for pid in self.pids)
        return proc_rss_kb(self.pid) if self.pid else 0

    def stop(self):
        if self.topology:
            self.topology.stop()
            return
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def cluster_topology(folder: Path, port: int, workers: int = 2):
    """deploy/cluster.py configured for this run: two workers, PostgreSQL, Redis and nginx on free
    ports, everything in the run's folder."""
    import importlib.util

    folder.chmod(0o755)  # mkdtemp's 0700 would keep PostgreSQL (run as postgres under root) out
    ports = {"CLUSTER_PORT": port, "CLUSTER_PG_PORT": free_port(), "CLUSTER_REDIS_PORT": free_port()}
    while True:  # the workers take consecutive ports
        first = free_port()
        if all(free_port_is(first + i) for i in range(1, workers)):
            break
    os.environ.update({k: str(v) for k, v in ports.items()}, CLUSTER_WORKER_PORT=str(first),
                      CLUSTER_WORKERS=str(workers), CLUSTER_DIR=str(folder / "cluster"))
    spec = importlib.util.spec_from_file_location("cluster_topology", ROOT / "deploy" / "cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.DIR.mkdir(parents=True, exist_ok=True)
    return module


def free_port_is(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def uptime() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def load_now() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# --------------------------------------------------------------------------- a run against one server


def summarize(values: list[float]) -> dict:
    return {"p50": _pct(values, 0.50), "p95": _pct(values, 0.95), "p99": _pct(values, 0.99),
            "max": max(values) if values else None, "n": len(values)}


def merge(parts: list[dict]) -> dict:
    out = {"ack_ms": [], "fanout_ms": [], "fanout_low_ms": [], "idea_ms": [], "idea_ack_ms": [], "votes": 0,
           "unanswered": 0, "undelivered": 0, "fanout_exact": 0, "errors": []}
    for p in parts:
        for k in ("ack_ms", "fanout_ms", "fanout_low_ms", "idea_ms", "idea_ack_ms", "errors"):
            out[k] += p[k]
        for k in ("votes", "unanswered", "undelivered", "fanout_exact"):
            out[k] += p[k]
    return out


def prepare(server: Server, participants: int, tables: int, plenary: bool) -> tuple[list[tuple], dict]:
    """The phones (index, table key, join link, pid) and, for a plenary, an open poll."""
    extra = {}
    if server.kind == "bare":
        return [(i, i % tables, None, i + 1) for i in range(participants)], {"poll_id": 1,
                                                                               "options": ["o1", "o2", "o3", "o4"]}
    demo = json.loads(server.cli("demo", "--participants", str(participants), "--tables", str(tables), "--json"))
    people = demo["participants"]
    names = sorted({p.get("table") for p in people}, key=str)
    phones = [(i, names.index(p.get("table")), p["join_url"], None) for i, p in enumerate(people)]
    extra["meeting_id"] = demo["meeting_id"]
    if plenary:
        extra.update(open_plenary_poll(server, demo))
    return phones, extra


def open_plenary_poll(server: Server, demo: dict) -> dict:
    """A facilitator (python-socketio's own client) creates and opens a plenary poll."""
    import socketio

    sys.path.insert(0, str(ROOT))
    from tests.live import staff_login

    http = staff_login(server, demo["facilitator"]["email"], demo["facilitator"]["password"])
    staff = socketio.Client(reconnection=False)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    staff.connect(server.url, headers={"Cookie": cookie}, auth={"meeting_id": demo["meeting_id"]},
                  transports=["websocket"], wait_timeout=10)
    try:
        created = staff.call("create_poll", _op({"kind": "single", "question": "Which first?",
                                                 "options": ["park", "library", "bus", "square"],
                                                 "visibility": "live"}), timeout=30)
        assert created["ok"], created
        poll_id = created["poll"]["id"]
        opened = staff.call("open_poll", _op({"poll_id": poll_id}), timeout=30)
        assert opened["ok"], opened
        return {"poll_id": poll_id, "options": [o["id"] for o in created["poll"]["options"]]}
    finally:
        staff.disconnect()


def run_against(kind: str, args, folder: Path) -> dict:
    plenary = args.profile == "plenary"
    server = Server(kind, folder, args.interval, target=args.target if kind == "ours" else None,
                    database_url=args.database_url, server_pid=args.server_pid if kind == "ours" else None)
    server.start()
    clients = None
    out: dict = {"kind": kind, "load_before": load_now()}
    try:
        phones, extra = prepare(server, args.participants, args.tables, plenary)
        rss0, cpu0 = server.rss_kb(), server.cpu()
        clients = Clients(server.url, phones, args.processes, bare=(kind == "bare"), poll_id=extra.get("poll_id"))
        joined = clients.all("setup")
        cpu1 = server.cpu()
        t0 = time.monotonic()
        with spying(server, args, "connect"):
            connected = clients.all("connect")
        connect_wall = time.monotonic() - t0
        cpu2 = server.cpu()
        rss1 = server.rss_kb()
        n = sum(c["connected"] for c in connected)
        out.update({
            "participants": args.participants, "tables": args.tables, "connected": n,
            "join_s": max((j.get("join_s", 0) for j in joined), default=0), "join_cpu_ms_per_phone":
                (cpu1 - cpu0) * 1000 / max(n, 1),
            "connect_s": connect_wall, "connect_cpu_ms_per_phone": (cpu2 - cpu1) * 1000 / max(n, 1),
            "rss_kb_per_connection": (rss1 - rss0) / max(n, 1), "rss_mb": rss1 / 1024,
        })
        if plenary:
            out.update(run_plenary(server, clients, args, extra))
        else:
            clients.all("seed_ideas", args.ideas)
            rates = args.rates if args.profile in ("ramp", "cluster") else [args.rate]
            out["steps"] = []
            for step, rate in enumerate(rates):
                result = run_step(server, clients, args, rate, step)
                out["steps"].append(result)
                print(f"  {kind:>4} {rate:>6.0f} votes/s: ack p99 {fmt(result['ack']['p99'])} ms, fan-out p99 "
                      f"{fmt(result['fanout']['p99'])} ms (exact for {result['fanout_exact']} of {result['fanout']['n']}; "
                      f"lower bound {fmt(result['fanout_low']['p99'])}), "
                      f"cpu {result['cpu_pct']:.0f}%, pause "
                      f"{result['loop']['max_pause_ms']:.0f} ms, longest fsync {result['loop'].get('max_fsync_ms') or 0:.0f} "
                      f"ms, waited for a CPU {result['waited_for_cpu_pct']:.1f}% "
                      f"(load {result['load']:.1f})", flush=True)
                for run in result["loop"].get("runs", []):
                    print(f"      held the loop {run['count']:>5}x, {run['total_ms']:>8.0f} ms in all, longest "
                          f"{run['max_ms']:>5.0f} ms: {run['where']}", flush=True)
                if args.profile in ("ramp", "cluster") and (result["ack"]["p99"] or 0) > args.knee_ms:
                    break
            time.sleep(args.interval * 2 + 0.5)
        verified = clients.all("verify")
        if getattr(args, "keep", None) is not None:  # a test reads the database against what phones were told
            args.keep.update({"mine": {int(k): v for r in clients.all("mine") for k, v in r.items()},
                              "database_url": server.env.get("DATABASE_URL")})
        out["verify"] = {k: sum(v.get(k, 0) for v in verified) for k in ("problem_count", "lost", "duplicated", "reordered",
                                                                 "disconnected", "messages")}
        out["verify"]["problems"] = [p for v in verified for p in v["problems"]][:10]
    finally:
        if clients:
            clients.close()
        server.stop()
    return out


@contextlib.contextmanager
def spying(server: Server, args, phase: str):
    """With --spy, py-spy samples the server during this phase (collapsed stacks in bench/results/):
    only the thread holding the GIL, so the samples are where Python spends CPU, not where it waits."""
    if not args.spy or not server.pid or server.kind not in args.spy:
        yield
        return
    out = RESULTS / f"spy-{server.kind}-{phase}{'-' + args.label if args.label else ''}.txt"
    spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.pid),
                            "--format", "raw", "-r", "200", "-o", str(out), "--nonblocking", "--gil"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(2)
        spy.wait(30)


def run_step(server: Server, clients: Clients, args, rate: float, step: int) -> dict:
    per_process = [rate / len(clients.pipes)] * len(clients.pipes)
    ideas_per = [args.idea_rate / len(clients.pipes)] * len(clients.pipes)
    start_at = time.monotonic() + 0.5
    cpu0, waited0 = server.cpu(), server.waited()
    load0 = load_now()
    with spying(server, args, f"vote-{rate:g}"):
        driven = clients.all("drive", per=lambda n: (per_process[n], ideas_per[n], args.seconds, start_at, step))
    took = time.monotonic() - start_at
    cpu, waited = server.cpu() - cpu0, server.waited() - waited0
    # The last tallies reach the phones: wait for them (bounded), so that what is still missing then is lost.
    deadline = time.monotonic() + args.interval + 15
    while True:
        notes = server_notes(server.stats_file if not server.external else None)
        merged = merge(clients.all("measure", step, notes))
        if merged["undelivered"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    acked = len(merged["ack_ms"])
    return {"rate": rate, "seconds": took, "votes_sent": merged["votes"], "votes_per_s": acked / args.seconds,
            "skipped": sum(d["skipped"] for d in driven), "unanswered": merged["unanswered"],
            "undelivered": merged["undelivered"], "errors": merged["errors"][:5],
            "ack": summarize(merged["ack_ms"]), "fanout": summarize(merged["fanout_ms"]),
            "fanout_low": summarize(merged["fanout_low_ms"]), "fanout_exact": merged["fanout_exact"],
            "idea": summarize(merged["idea_ms"]), "idea_ack": summarize(merged["idea_ack_ms"]),
            "cpu_pct": cpu / took * 100, "waited_for_cpu_pct": waited / took * 100, "load": max(load0, load_now()),
            "loop": loop_stats(server.stats_file if not server.external else None, start_at, start_at + took)}


def run_plenary(server: Server, clients: Clients, args, extra: dict) -> dict:
    start_at = time.monotonic() + 0.5
    cpu0 = server.cpu()
    load0 = load_now()
    clients.all("ballots_within", args.seconds, start_at, extra["options"])
    ballots = [b for r in clients.all("ballots") for b in r["ballots"]]
    cpu = server.cpu() - cpu0
    acked = [b for b in ballots if b["ack"] is not None]
    last = max(b["sent"] for b in acked)
    final = {o: 0 for o in extra["options"]}
    for b in acked:
        final[b["option"]] += 1
    time.sleep(max(1.5, args.interval * 4))
    finished = clients.all("plenary_finish", last, final)
    ack_ms = [(b["ack"] - b["sent"]) * 1000 for b in acked]
    return {"ballots": len(ballots), "unanswered": len(ballots) - len(acked), "ack": summarize(ack_ms),
            "final_after_last_ms": max(f["final_after_last_s"] for f in finished) * 1000,
            "missing_final": sum(f["missing_final"] for f in finished),
            "cpu_pct": cpu / (time.monotonic() - start_at) * 100, "load": max(load0, load_now()),
            "loop": loop_stats(server.stats_file if not server.external else None, start_at, time.monotonic())}


# --------------------------------------------------------------------------- output


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def ratio(a, b) -> str:
    if a is None or b in (None, 0):
        return "—"
    return f"{a / b:.1f}"


def table(ours: dict, bare: dict, profile: str) -> str:
    rows = [("connecting (s)", ours["connect_s"], bare["connect_s"]),
            ("server CPU per connection (ms)", ours["connect_cpu_ms_per_phone"], bare["connect_cpu_ms_per_phone"]),
            ("memory per connection (KB)", ours["rss_kb_per_connection"], bare["rss_kb_per_connection"])]
    if profile == "plenary":
        rows += [("ballot ack p50 (ms)", ours["ack"]["p50"], bare["ack"]["p50"]),
                 ("ballot ack p99 (ms)", ours["ack"]["p99"], bare["ack"]["p99"]),
                 ("final result on every phone after the last ballot (ms)", ours["final_after_last_ms"],
                  bare["final_after_last_ms"]),
                 ("server CPU (%)", ours["cpu_pct"], bare["cpu_pct"]),
                 ("longest loop pause (ms)", ours["loop"]["max_pause_ms"], bare["loop"]["max_pause_ms"])]
    else:
        o, b = ours["steps"][-1] if profile != "ramp" else None, None
        if profile != "ramp":
            o, b = ours["steps"][0], bare["steps"][0]
            rows += [("votes/s acknowledged", o["votes_per_s"], b["votes_per_s"]),
                     ("server CPU (%)", o["cpu_pct"], b["cpu_pct"]),
                     ("its event loop waited for a CPU (%)", o.get("waited_for_cpu_pct"), b.get("waited_for_cpu_pct")),
                     ("vote ack p50 (ms)", o["ack"]["p50"], b["ack"]["p50"]),
                     ("vote ack p95 (ms)", o["ack"]["p95"], b["ack"]["p95"]),
                     ("vote ack p99 (ms)", o["ack"]["p99"], b["ack"]["p99"]),
                     ("vote ack max (ms)", o["ack"]["max"], b["ack"]["max"]),
                     ("tally on every phone at the table p50 (ms)", o["fanout"]["p50"], b["fanout"]["p50"]),
                     ("tally on every phone at the table p99 (ms)", o["fanout"]["p99"], b["fanout"]["p99"]),
                     ("tally on every phone at the table max (ms)", o["fanout"]["max"], b["fanout"]["max"]),
                     ("the same p99, from the first tally after the send (lower bound)",
                      o.get("fanout_low", {}).get("p99"), b.get("fanout_low", {}).get("p99")),
                     ("idea ack p99 (ms)", o["idea_ack"]["p99"], b["idea_ack"]["p99"]),
                     ("idea on every phone at the table p50 (ms)", o["idea"]["p50"], b["idea"]["p50"]),
                     ("idea on every phone at the table p99 (ms)", o["idea"]["p99"], b["idea"]["p99"]),
                     ("longest loop pause (ms)", o["loop"]["max_pause_ms"], b["loop"]["max_pause_ms"]),
                     ("longest GC pause (ms)", o["loop"]["max_gc_ms"], b["loop"]["max_gc_ms"]),
                     ("longest fsync (group commit, ms)", o["loop"].get("max_fsync_ms"), None),
                     ("commits per fsync (group commit)", o["loop"].get("commits_per_fsync"), None)]
        else:
            rows += [("knee (votes/s, ack p99 > 250 ms)", knee(ours), knee(bare))]
    rows += [("messages delivered", ours["verify"]["messages"], bare["verify"]["messages"]),
             ("lost / duplicated broadcasts", ours["verify"]["lost"] + ours["verify"]["duplicated"],
              bare["verify"]["lost"] + bare["verify"]["duplicated"]),
             ("reordered broadcasts (held by the browser)", ours["verify"].get("reordered", 0),
              bare["verify"].get("reordered", 0)),
             ("views differing from a fresh snapshot", ours["verify"]["problem_count"],
              bare["verify"]["problem_count"])]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'':<{width}}  {'Kurumaza':>10}  {'bare':>10}  {'ratio':>6}"]
    for name, a, b in rows:
        lines.append(f"{name:<{width}}  {fmt(a):>10}  {fmt(b):>10}  {ratio(a, b):>6}")
    return "\n".join(lines)


def knee(result: dict) -> float | None:
    for step in result["steps"]:
        if (step["ack"]["p99"] or 0) > 250:
            return step["rate"]
    return None


def cluster_table(result: dict) -> str:
    """Throughput at the same p99: the highest rate each kept ack p99 under the knee."""
    def best(kind):
        ok = [s["rate"] for s in result[kind]["steps"] if (s["ack"]["p99"] or 0) <= 250]
        return max(ok) if ok else None
    one, two = best("ours"), best("cluster")
    lines = ["| votes/s | one worker ack p99 / fan-out p99 ms | cluster ack p99 / fan-out p99 ms |", "|---|---|---|"]
    for a, b in zip(result["ours"]["steps"], result["cluster"]["steps"]):
        lines.append(f"| {a['rate']:.0f} | {fmt(a['ack']['p99'])} / {fmt(a['fanout']['p99'])} | "
                     f"{fmt(b['ack']['p99'])} / {fmt(b['fanout']['p99'])} |")
    lines.append(f"highest rate with ack p99 <= 250 ms: one worker {one}, cluster {two} "
                 f"(ratio {ratio(two, one)})")
    return "\n".join(lines)


def plot(results: dict, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for kind, style in (("ours", "o-"), ("bare", "s--")):
        steps = results[kind]["steps"]
        ax.plot([s["votes_per_s"] for s in steps], [s["ack"]["p99"] for s in steps], style,
                label=f"{'Kurumaza' if kind == 'ours' else 'bare python-socketio'}: vote ack p99")
        ax.plot([s["votes_per_s"] for s in steps], [s["fanout"]["p99"] for s in steps], style, alpha=0.4,
                label=f"{'Kurumaza' if kind == 'ours' else 'bare'}: tally fan-out p99")
    ax.axhline(250, color="grey", lw=0.8, ls=":")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("votes/s acknowledged")
    ax.set_ylabel("latency p99 (ms)")
    ax.set_title(f"{results['participants']} phones in {results['tables']} tables, one gevent worker\n"
                 f"{results['machine']}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


PROFILES = {
    "breakout": {"participants": 2000, "tables": 100, "rate": 200.0, "seconds": 30.0},
    "plenary": {"participants": 1000, "tables": 50, "seconds": 10.0},
    "ramp": {"participants": 2000, "tables": 100, "seconds": 10.0},
    # The breakout load ramped against one worker (SQLite) and against `make cluster`'s topology
    # (two workers, PostgreSQL, Redis, nginx): phones split over both by their routing cookie.
    "cluster": {"participants": 2000, "tables": 100, "seconds": 10.0},
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", choices=[*PROFILES, "all"], default="all")
    ap.add_argument("--participants", type=int)
    ap.add_argument("--tables", type=int)
    ap.add_argument("--rate", type=float, help="votes/s in all (breakout)")
    ap.add_argument("--rates", type=float, nargs="+", default=[25, 50, 100, 200, 400, 800, 1600],
                    help="the ramp's steps (votes/s)")
    ap.add_argument("--knee-ms", type=float, default=250.0)
    ap.add_argument("--seconds", type=float, help="voting time (per ramp step)")
    ap.add_argument("--idea-rate", type=float, default=2.0, help="ideas/s posted in all while voting")
    ap.add_argument("--ideas", type=int, default=3, help="ideas per table before voting starts")
    ap.add_argument("--interval", type=float, default=0.25, help="tally coalescing interval (s)")
    ap.add_argument("--processes", type=int, default=2, help="client processes")
    ap.add_argument("--only", choices=["ours", "bare"], help="one server only")
    ap.add_argument("--quick", action="store_true", help="a tenth of the phones, shorter")
    ap.add_argument("--target", help="a running Kurumaza (URL) instead of starting one; needs --database-url")
    ap.add_argument("--database-url", help="the target's database (the demo meeting is created there)")
    ap.add_argument("--server-pid", type=int, help="the target's server pid for CPU and memory (same machine)")
    ap.add_argument("--spy", nargs="*", default=[], choices=["ours", "bare"],
                    help="sample these servers with py-spy while connecting and voting")
    ap.add_argument("--runs", type=float, metavar="MS",
                    help="trace the servers' greenlet switches: list the code that held the loop MS or longer "
                         "(meeting/loopstats.py; costs a few per cent of CPU)")
    ap.add_argument("--label", default="", help="added to the result file's name")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    profiles = list(PROFILES) if args.profile == "all" else [args.profile]
    if args.runs:
        os.environ["MEETING_LOOP_RUNS"] = str(args.runs)  # the servers' environment starts from ours
    overrides = {k: getattr(args, k) for k in ("participants", "tables", "rate", "seconds")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    everything = {}
    for profile in profiles:
        settings = {**PROFILES[profile], **{k: v for k, v in overrides.items() if v is not None}}
        if args.quick:
            settings["participants"] = max(20, settings["participants"] // 10)
            settings["tables"] = max(1, settings["tables"] // 10)
            settings["seconds"] = min(settings["seconds"], 8.0)
        run = argparse.Namespace(**{**vars(args), **settings, "profile": profile})
        run.rate = settings.get("rate", 200.0)
        folder = Path(tempfile.mkdtemp(prefix=f"kurumaza-load-{profile}-"))
        print(f"{profile}: {run.participants} phones in {run.tables} tables, {run.processes} client processes "
              f"(load {uptime()})", flush=True)
        result = {"profile": profile, "participants": run.participants, "tables": run.tables,
                  "machine": machine(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "settings": {k: v for k, v in vars(run).items() if k not in ("json",)}}
        for kind in (("ours", "cluster") if profile == "cluster" else ("ours", "bare")):
            if args.only and kind != args.only:
                continue
            result[kind] = run_against(kind, run, folder)
        result["load_after"] = load_now()
        name = f"load-{profile}{'-' + args.label if args.label else ''}"
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1))
        if profile == "cluster" and "ours" in result and "cluster" in result:
            print(cluster_table(result))
        elif "ours" in result and "bare" in result:
            print(table(result["ours"], result["bare"], profile))
            if profile == "ramp":
                plot(result, RESULTS / f"{name}.png")
        else:
            print(json.dumps({k: v for k, v in result.get(args.only or "ours", {}).items()}, indent=1)[:4000])
        for kind in ("ours", "bare"):
            verify = result.get(kind, {}).get("verify")
            if verify and (verify["problem_count"] or verify["lost"] or verify["duplicated"]):
                print(f"{kind}: PROBLEMS {verify}", flush=True)
        everything[profile] = result
    if args.json:
        print(json.dumps(everything, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
