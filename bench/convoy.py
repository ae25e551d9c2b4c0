"""What an offloaded computation costs the event loop's latency (the GIL "convoy").

meeting/offload.py runs the opinion map in gevent's native thread pool. The loop's thread gives
the GIL up on every system call (each send, receive and epoll wait) and, while the map's thread
computes, may wait up to the interpreter's switch interval (5 ms) to get it back: a loop that
makes thousands of calls a second can be slowed far more than the 5 ms the interval suggests.

This measures it. A gevent echo server on loopback answers 20 connections that each send a
short line every 10 ms from another process, and records round trips, while the server's
background greenlet computes the opinion map of a synthetic meeting (2,000 participants, 100
ideas, a third of the cells voted) once a second:

    none      no computation (the floor)
    loop      the map computed on the loop itself
    thread    offload.cpu (the native thread pool), as the app does
    thread-1ms  the same with the switch interval at 1 ms
    process   in a process of its own, the votes sent over a pipe

    .venv/bin/python bench/convoy.py [--seconds 8]
"""

import json
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODES = ("none", "loop", "thread", "thread-1ms", "process")


def _child() -> None:  # "process": the map in a process of its own, votes sent over its stdin
    import pickle
    import struct

    sys.path.insert(0, str(ROOT))
    from meeting.core.opinion import compute_map

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while len(head := stdin.read(4)) == 4:
        size = struct.unpack("!I", head)[0]
        votes = pickle.loads(stdin.read(size))
        started = time.process_time()
        compute_map(votes)
        stdout.write(struct.pack("!d", time.process_time() - started))
        stdout.flush()


def server(mode: str, port_file: str) -> None:
    from gevent import monkey

    monkey.patch_all()
    import gevent
    from gevent.server import StreamServer

    sys.path.insert(0, str(ROOT))
    from meeting import offload
    from meeting.core.opinion import compute_map

    rng = random.Random(1)
    votes = [(p, s, rng.choice((-1, 0, 1))) for p in range(2000) for s in range(100) if rng.random() < 0.33]
    spent = []

    def work():
        started = time.thread_time()
        compute_map(votes)
        spent.append(time.thread_time() - started)

    if mode == "process":
        import pickle
        import struct
        import subprocess as gsubprocess  # gevent's, after patch_all: its pipes wait cooperatively

        child = gsubprocess.Popen([sys.executable, __file__, "--child"], stdin=gsubprocess.PIPE,
                                  stdout=gsubprocess.PIPE)

    def computing():
        while True:
            gevent.sleep(1.0)
            if mode == "loop":
                work()
            elif mode.startswith("thread"):
                offload.cpu(work)
            elif mode == "process":
                data = pickle.dumps(votes, protocol=5)
                child.stdin.write(struct.pack("!I", len(data)) + data)
                child.stdin.flush()
                spent.append(struct.unpack("!d", child.stdout.read(8))[0])

    if mode == "thread-1ms":
        sys.setswitchinterval(0.001)

    def echo(sock, _address):
        reader = sock.makefile("rb")
        for line in reader:
            if line.strip() == b"stats":
                sock.sendall(json.dumps({"map_cpu_ms": 1000 * sum(spent) / max(1, len(spent)),
                                         "maps": len(spent)}).encode() + b"\n")
            else:
                sock.sendall(line)

    srv = StreamServer(("127.0.0.1", 0), echo)
    srv.start()
    Path(port_file).write_text(str(srv.server_port))
    if mode != "none":
        gevent.spawn(computing)
    gevent.wait()


def measure(port: int, seconds: float, clients: int = 20, every: float = 0.01) -> dict:
    rtts: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def one():
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = sock.makefile("rb")
            mine = []
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                sock.sendall(b"ping\n")
                reader.readline()
                mine.append(1000 * (time.perf_counter() - t0))
                time.sleep(every)
            with lock:
                rtts.extend(mine)

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"stats\n")
        stats = json.loads(sock.makefile("rb").readline())
    rtts.sort()
    return {"n": len(rtts), "p50": rtts[len(rtts) // 2], "p99": rtts[int(0.99 * len(rtts))], "max": rtts[-1], **stats}


def main(argv):
    if argv and argv[0] == "--child":
        _child()
        return
    if argv and argv[0] == "--serve":
        server(argv[1], argv[2])
        return
    seconds = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else 8.0
    import tempfile

    print(f"{'mode':<11} {'round trips':>11} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  map CPU per run")
    for mode in MODES:
        port_file = tempfile.mktemp()
        proc = subprocess.Popen([sys.executable, __file__, "--serve", mode, port_file])
        try:
            while not Path(port_file).exists() or not Path(port_file).read_text():
                time.sleep(0.05)
            r = measure(int(Path(port_file).read_text()), seconds)
        finally:
            proc.kill()
            proc.wait()
        cpu = f"{r['map_cpu_ms']:.0f} ms x {r['maps']}" if r["maps"] else "-"
        print(f"{mode:<11} {r['n']:>11} {r['p50']:>7.2f} {r['p99']:>7.2f} {r['max']:>7.1f}  {cpu}")


if __name__ == "__main__":
    main(sys.argv[1:])
