"""Group commit on SQLite: several commits share one fsync, and no answer goes out before its own.

With `PRAGMA synchronous=FULL` every commit fsyncs the WAL, and in a gevent server that fsync
blocks the whole process (every connection) for its duration, once per vote. With group commit
(`MEETING_GROUP_COMMIT=1`, which `python -m meeting.serve` sets in gevent mode on SQLite) the
connection runs `synchronous=NORMAL` (a commit is written to the WAL, and so survives the process
being killed, but is not yet fsynced), and whoever is about to answer a client after a commit
calls `settle()`: it waits until an fsync of the WAL that started after its commit has finished.
One fsync at a time runs in gevent's native thread pool, so the loop keeps serving meanwhile;
every commit made while it runs waits for the next one, which then covers them all. An
acknowledged vote (ops.run) or an answered page (app.after_request) is therefore on disk exactly
as with synchronous=FULL, for the price of one fsync per batch.

Checkpoints move too: SQLite's automatic checkpoint (copying the WAL into the database once the
WAL holds 1,000 pages, then fsyncing the database) would run inside whichever commit crossed the
mark, on the loop, every second or so while hundreds vote, for tens of milliseconds each. With
group commit the connections set `wal_autocheckpoint=0`, and the fsync thread runs a PASSIVE
checkpoint (it never waits for a reader or writer) on its own connection after the fsync of a
batch, once CHECKPOINT_COMMITS commits were synced since the last one (a vote writes about
30 KB of WAL: about 2 MB between checkpoints; SQLite's own mark is 4 MB).

Elsewhere (threading mode, PostgreSQL, tests) it is off and `settle()` does nothing.
"""

import os
import sqlite3
import time

from sqlalchemy import event
from sqlalchemy.orm import Session

_PENDING = "commit_unsynced"


CHECKPOINT_COMMITS = 64


class GroupSync:
    def __init__(self, wal_path: str):
        import gevent
        import gevent.event

        self._gevent = gevent
        self._event_class = gevent.event.AsyncResult
        self.wal_path = wal_path
        self._fd = None
        self._ino = None
        self._waiting: list = []
        self._running = False
        self.fsyncs = 0
        self.commits = 0
        self.checkpoints = 0
        self.longest_fsync = 0.0  # seconds, since stats() last read it
        self._checkpointed_at = 0  # self.commits at the last checkpoint
        self._checkpointing = False
        self._checkpointer: sqlite3.Connection | None = None  # used by one pool thread at a time

    def _fd_now(self) -> int | None:
        """The WAL's descriptor; opened again if SQLite removed and recreated the file."""
        try:
            ino = os.stat(self.wal_path).st_ino
        except FileNotFoundError:
            return None  # no WAL (checkpointed and removed): the commit is in the synced database
        if self._fd is None or ino != self._ino:
            if self._fd is not None:
                os.close(self._fd)
            self._fd, self._ino = os.open(self.wal_path, os.O_RDONLY), ino
            folder = os.open(os.path.dirname(self.wal_path) or ".", os.O_RDONLY)
            try:
                os.fsync(folder)  # the new file's name is durable too
            finally:
                os.close(folder)
        return self._fd

    def wait(self) -> None:
        done = self._event_class()
        self._waiting.append(done)
        self.commits += 1
        if not self._running:
            self._running = True
            self._gevent.spawn(self._run)
        done.get()  # raises what the fsync raised

    def _run(self) -> None:
        pool = self._gevent.get_hub().threadpool
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    fd = self._fd_now()
                    if fd is not None:
                        began = time.perf_counter()
                        pool.apply(os.fsync, (fd,))
                        self.longest_fsync = max(self.longest_fsync, time.perf_counter() - began)
                    self.fsyncs += 1
                except Exception as exc:  # noqa: BLE001 - every waiter of this batch gets it
                    for done in batch:
                        done.set_exception(exc)
                    continue
                for done in batch:
                    done.set(None)
                if not self._checkpointing and self.commits - self._checkpointed_at >= CHECKPOINT_COMMITS:
                    # Beside the next fsyncs, not before them: no answer waits for a checkpoint.
                    self._checkpointing, self._checkpointed_at = True, self.commits
                    self._gevent.spawn(self._checkpoint_beside, pool)
        finally:
            self._running = False

    def _checkpoint_beside(self, pool) -> None:
        try:
            pool.apply(self._checkpoint)
        finally:
            self._checkpointing = False

    def _checkpoint(self) -> None:
        """Copy the WAL's frames into the database as far as no reader needs them (native thread).
        A failure only leaves the WAL longer: the next batch tries again."""
        try:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self.wal_path[: -len("-wal")], check_same_thread=False,
                                                     isolation_level=None)
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error:
            pass


_group: GroupSync | None = None


def enable(database_path: str) -> None:
    """Group commits of this process's SQLite database (gevent mode only)."""
    global _group
    _group = GroupSync(database_path + "-wal")


def enabled() -> bool:
    return _group is not None


def settle(session) -> None:
    """Wait until this session's commits are on disk (right before answering the client)."""
    if _group is not None and session.info.pop(_PENDING, False):
        _group.wait()


def read_may_be_unsynced(session) -> None:
    """What this session read may be another's commit still waiting for its fsync (a replayed
    operation's stored answer): make its answer wait for the next fsync too."""
    if _group is not None:
        session.info[_PENDING] = True


def stats() -> dict:
    """Running totals, and the longest fsync (its wait in the thread pool included) since the last call."""
    if _group is None:
        return {}
    longest, _group.longest_fsync = _group.longest_fsync, 0.0
    return {"commits": _group.commits, "fsyncs": _group.fsyncs, "checkpoints": _group.checkpoints,
            "max_fsync_ms": round(longest * 1000, 2)}


@event.listens_for(Session, "after_commit")
def _mark(session) -> None:
    if _group is not None:
        session.info[_PENDING] = True
