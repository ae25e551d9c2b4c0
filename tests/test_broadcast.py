"""Emitters go out one at a time, in the order they arrived (meeting/broadcast.py InOrder)."""

import threading
import time

import pytest

from meeting.broadcast import InOrder


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_emitters_go_through_in_the_order_they_arrived():
    line, went = InOrder(), []

    def emitter(name):
        with line:
            went.append(name)

    line.__enter__()  # a long emit holds the line
    threads = []
    for count, name in enumerate(["first", "second", "third"], 2):
        thread = threading.Thread(target=emitter, args=(name,))
        thread.start()
        threads.append(thread)
        wait_until(lambda count=count: len(line._line) == count)  # it is waiting, behind the others
    assert went == []
    line.__exit__(None, None, None)
    for thread in threads:
        thread.join(10)
    assert went == ["first", "second", "third"]
    assert not line._line


class Interrupted(Exception):
    pass


def test_an_emitter_stopped_while_waiting_leaves_the_line():
    class Stopped(threading.Event):
        def wait(self, timeout=None):
            raise Interrupted

    line = InOrder()
    line.__enter__()
    line.event = Stopped  # the next one is killed while it waits
    with pytest.raises(Interrupted):
        line.__enter__()
    line.event = threading.Event
    line.__exit__(None, None, None)
    done = threading.Event()

    def emitter():
        with line:
            done.set()

    threading.Thread(target=emitter).start()
    assert done.wait(10), "the line stopped at the emitter that was killed"
