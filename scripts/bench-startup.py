#!/usr/bin/env python3
"""Start-up to healthy, and idle memory, of the emulator binary.

    python3 scripts/bench-startup.py [BINARY] [RUNS]

Starts the binary RUNS times (default 20) on a free port, polls
GET /_emulator/health over a raw socket until it answers 200, and reports
the median and worst time from spawn to healthy and the resident memory of
the idle process. A measurement, not a test: it asserts nothing.
"""
import socket
import statistics
import subprocess
import sys
import time

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/oci-vault-emulator"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


times, rss = [], []
for _ in range(runs):
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:{}".format(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not healthy(port):
        if time.perf_counter() - started > 10:
            proc.kill()
            sys.exit("the emulator did not become healthy within 10 s")
        time.sleep(0.0005)
    times.append((time.perf_counter() - started) * 1000)
    time.sleep(0.2)
    with open("/proc/{}/status".format(proc.pid)) as f:
        rss.append(int(next(l for l in f if l.startswith("VmRSS")).split()[1]) / 1024)
    proc.terminate()
    proc.wait()

print("start to healthy: median {:.1f} ms, worst {:.1f} ms over {} starts".format(
    statistics.median(times), max(times), runs))
print("idle resident memory: median {:.1f} MiB".format(statistics.median(rss)))
