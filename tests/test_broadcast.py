"""Each stream's events go out in the order their emitters arrived (meeting/broadcast.py
InStreamOrder), and an emitter waits only for earlier ones that still have to send on its streams."""

import threading
import time

import pytest

from meeting.broadcast import InStreamOrder
from meeting.services.events import Event


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def events(*streams):
    return [Event(stream, "tallies", {}) for stream in streams]


class Wire:
    """What went out, in order; sending on a stream named in `hold` blocks until released."""

    def __init__(self, hold=()):
        self.sent: list[tuple[str, str]] = []
        self.hold = set(hold)
        self.release = threading.Event()
        self.held = threading.Event()

    def sender(self, who):
        def send(event):
            if event.stream in self.hold and who == "flush":
                self.held.set()
                assert self.release.wait(10)
            self.sent.append((who, event.stream))
        return send


def start(line, wire, who, streams):
    thread = threading.Thread(target=line.send, args=(events(*streams), wire.sender(who)))
    thread.start()
    return thread


def test_a_later_emitter_waits_only_where_an_earlier_one_has_still_to_send():
    line, wire = InStreamOrder(), Wire(hold={"table:2"})
    # A tally flush has sent table:1 and is stuck sending table:2; table:3 and staff are still to go.
    flush = start(line, wire, "flush", ["table:1", "table:2", "table:3", "staff:1"])
    assert wire.held.wait(10)
    for who, stream in (("idea at table 4", "table:4"), ("idea at table 1", "table:1")):
        passing = start(line, wire, who, [stream])
        passing.join(10)
        assert not passing.is_alive(), f"{who} waited for the flush"
    behind = start(line, wire, "idea at table 3", ["table:3", "staff:1"])
    wait_until(lambda: len(line._line) == 2)  # the flush and the one waiting behind it
    assert ("idea at table 3", "table:3") not in wire.sent
    wire.release.set()
    flush.join(10)
    behind.join(10)
    assert wire.sent == [("flush", "table:1"), ("idea at table 4", "table:4"), ("idea at table 1", "table:1"),
                         ("flush", "table:2"), ("flush", "table:3"), ("flush", "staff:1"),
                         ("idea at table 3", "table:3"), ("idea at table 3", "staff:1")]
    assert line._line == []


def test_emitters_on_one_stream_go_out_in_the_order_they_arrived():
    line, wire = InStreamOrder(), Wire(hold={"table:1"})
    first = start(line, wire, "flush", ["table:1"])
    assert wire.held.wait(10)
    threads = []
    for count, name in enumerate(["second", "third", "fourth"], 2):
        threads.append(start(line, wire, name, ["table:1"]))
        wait_until(lambda count=count: len(line._line) == count)  # it is waiting, behind the others
    assert wire.sent == []
    wire.release.set()
    for thread in [first, *threads]:
        thread.join(10)
    assert [who for who, _ in wire.sent] == ["flush", "second", "third", "fourth"]


class Interrupted(Exception):
    pass


def test_an_emitter_stopped_while_waiting_leaves_the_line():
    class Stopped(threading.Event):
        def wait(self, timeout=None):
            raise Interrupted

    line, wire = InStreamOrder(), Wire(hold={"table:1"})
    first = start(line, wire, "flush", ["table:1"])
    assert wire.held.wait(10)
    line.event = Stopped  # the next one is killed while it waits
    with pytest.raises(Interrupted):
        line.send(events("table:1"), wire.sender("killed"))
    line.event = threading.Event
    wire.release.set()
    first.join(10)
    after = start(line, wire, "after", ["table:1"])
    after.join(10)
    assert not after.is_alive(), "the line stopped at the emitter that was killed"
    assert wire.sent == [("flush", "table:1"), ("after", "table:1")]
