"""The benchmark of issue 10, driven by bench/run (which builds the binaries
and hands this script the venv with the real `oci` SDK).

    python bench/bench.py --emulator BIN --bare BIN [--quick] [--out FILE]
    python bench/bench.py soak --emulator BIN [--quick]

`run` (the default) measures, in one run: start-to-healthy and idle RSS
(fresh processes); then, with bare axum and one emulator side by side,
bare axum, signed GetSecretBundle and Encrypt (1 KiB) throughput with wrk
at 32 connections (rounds alternate bare / GetSecretBundle / Encrypt,
medians taken), server CPU per request (utime+stime of /proc/<pid>/stat
around a run, divided by its requests) and GetSecretBundle latency at 1
connection; then, on a fresh emulator (so its memory is the secrets' and
not the audit trail the throughput runs filled): UpdateSecret on secrets
with 10 and 2,000 versions, the first ListSecrets page of 50 at
1k/10k/100k secrets (client and server side), RSS with 100k secrets,
GetSecretBundle latency while 4 clients page through every secret, and RSS
after listing them all. It prints the issue's table and writes it, with
every raw figure, as JSON.

`soak` runs 60 s of mixed reads, writes and lists at 32 connections,
samples the emulator's RSS every second, and says whether the samples of
the last 40 s stay within 10 % of each other.

Every request wrk sends carries its own OCI signature made by the real
Python SDK signer (`oci.signer.Signer`, the DEFAULT profile of
fixtures/oci/config, the tenancy administrator): a pool of pre-signed raw
requests, signed right before each run, which bench/pool.lua replays.
GetSecretBundle requests are made distinct by secret (200 of them) and by
date (each request of the pool is dated one second earlier per 200
requests, within the server's 300 s skew); Encrypt requests by plaintext.

A measurement, not a test: it asserts only that the answers were 2xx.
"""
import argparse
import base64
import datetime
import email.utils
import http.client
import json
import multiprocessing
import os
import platform
import secrets as pysecrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = "fixtures/oci/config"
# The "apps" compartment of fixtures/tenancy.json: the wrk targets live here.
APPS = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001"
# The "security" compartment: only the secrets the list figures count.
LISTED = "ocid1.compartment.oc1..aaaaaaaaemulatorsecurity00000000000000000000000000000000001"
LUA = ROOT / "bench" / "pool.lua"
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_SECRETS = 200
SEED_BATCH = 4000  # secrets per POST /_emulator/seed (a body under axum's 2 MB)


class Profile:
    """Sizes of one mode (full, or --quick)."""

    def __init__(self, quick):
        self.quick = quick
        self.pool = 5_000 if quick else 20_000
        self.seconds = 3 if quick else 8
        self.rounds = 1 if quick else 3
        self.starts = 5 if quick else 20
        self.sizes = [1_000, 10_000] if quick else [1_000, 10_000, 100_000]
        self.samples = 15 if quick else 40
        self.versions = [10, 2_000]
        self.under_load_samples = 50 if quick else 200
        # Each UpdateSecret adds a version in use; OCI allows 30 in use.
        self.update_samples = 15 if quick else 25


# ---------------------------------------------------------------- processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def rss_mib(pid):
    with open("/proc/{}/status".format(pid)) as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS for pid {}".format(pid))


def cpu_seconds(pid):
    """utime + stime of the process (all its threads), in seconds."""
    with open("/proc/{}/stat".format(pid)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Server:
    """A process listening on 127.0.0.1:port, its output in a log file."""

    def __init__(self, argv, port, log_path, ready):
        self.port = port
        self.base = "http://127.0.0.1:{}".format(port)
        self.log_path = log_path
        self._log = open(log_path, "wb")
        started = time.perf_counter()
        self.proc = subprocess.Popen(argv, cwd=str(ROOT), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        while not ready(port):
            if self.proc.poll() is not None:
                sys.exit("{} exited with {}; its output is in {}".format(argv[0], self.proc.returncode, log_path))
            if time.perf_counter() - started > 15:
                self.stop()
                sys.exit("{} did not answer within 15 s; its output is in {}".format(argv[0], log_path))
            time.sleep(0.0005)
        self.start_ms = (time.perf_counter() - started) * 1000

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def start_emulator(binary, log_dir, name="emulator"):
    port = free_port()
    return Server([binary, "serve", "--listen", "127.0.0.1:{}".format(port)], port,
                  Path(log_dir) / (name + ".log"), healthy)


def start_bare(binary, log_dir):
    def answers(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False
    port = free_port()
    return Server([binary, "--listen", "127.0.0.1:{}".format(port)], port,
                  Path(log_dir) / "bare_axum.log", answers)


# ------------------------------------------------------------------ signing

_SIGNER = None


def _signer():
    global _SIGNER
    if _SIGNER is None:
        import oci
        cfg = oci.config.from_file(str(ROOT / CONFIG_FILE), "DEFAULT")
        key_file = cfg["key_file"]
        if not os.path.isabs(key_file):
            key_file = str(ROOT / key_file)
        _SIGNER = oci.signer.Signer(cfg["tenancy"], cfg["user"], cfg["fingerprint"], key_file)
    return _SIGNER


def sign_raw(spec):
    """(base, method, path, body bytes or None, date or None) -> one raw
    HTTP/1.1 request, signed by the SDK signer exactly as the SDK sends it."""
    import requests
    base, method, path, body, date = spec
    headers = {"content-type": "application/json", "accept": "application/json"}
    if date:
        headers["date"] = date
    prepared = requests.Request(method, base + path, data=body, headers=headers).prepare()
    _signer()(prepared)
    lines = ["{} {} HTTP/1.1".format(method, prepared.path_url)]
    lines += ["{}: {}".format(k, v) for k, v in prepared.headers.items()]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode()
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return raw + body


_POOL = None


def sign_many(specs):
    """Signs specs on every core (the servers are idle while this runs)."""
    global _POOL
    if _POOL is None:
        _POOL = multiprocessing.get_context("fork").Pool(os.cpu_count() or 2, initializer=_signer)
    return _POOL.map(sign_raw, specs, chunksize=max(1, len(specs) // 64))


def http_date(offset_seconds=0):
    return email.utils.formatdate(time.time() + offset_seconds, usegmt=True)


class Raw:
    """A kept-alive HTTP/1.1 connection that sends pre-signed raw requests
    and times only the round trip."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def send(self, raw):
        """Sends one raw request; answers (status, headers, body, seconds).
        A kept-alive connection the server closed while idle (its idle
        timeout) is opened again and the request sent once more, as urllib3
        does: the server answered nothing on it."""
        try:
            return self._send(raw)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.conn.close()
            return self._send(raw)

    def _send(self, raw):
        if self.conn.sock is None:
            self.conn.connect()
        started = time.perf_counter()
        self.conn.sock.sendall(raw)
        response = http.client.HTTPResponse(self.conn.sock, method=raw.split(b" ", 1)[0].decode())
        response.begin()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.will_close:
            self.conn.close()
        return response.status, response.headers, body, elapsed

    def call(self, base, method, path, body=None):
        """Signs (outside the timing) and sends; 2xx or exit."""
        status, headers, data, elapsed = self.send(sign_raw((base, method, path, body, None)))
        if status // 100 != 2:
            sys.exit("{} {}: {} {}".format(method, path, status, data[:300]))
        return json.loads(data) if data else None, headers, elapsed


# ---------------------------------------------------------------------- wrk

def wrk(port, seconds, connections, pool=None, threads=2):
    """One wrk run; answers the numbers of pool.lua's done() line."""
    threads = min(threads, connections)
    argv = ["wrk", "-t{}".format(threads), "-c{}".format(connections), "-d{}s".format(seconds),
            "--timeout", "30s", "-s", str(LUA), "http://127.0.0.1:{}/".format(port)]
    if pool:
        argv += ["--", pool, str(threads)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    line = next((l for l in out.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        sys.exit("wrk printed no BENCH line:\n" + out)
    result = json.loads(line[6:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    errors = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "bad_status"))
    result["errors"] = errors
    return result


def write_pool(path, raws):
    with open(path, "wb") as f:
        for raw in raws:
            f.write(raw)
            f.write(b"\0")
    return str(path)


# ------------------------------------------------------------------ fixture

class Fixture:
    """The resources the runs use, made through the API on one emulator."""

    def __init__(self, emu):
        self.emu = emu
        self.raw = Raw(emu.port)
        base = emu.base
        vault, _, _ = self.raw.call(base, "POST", "/20180608/vaults", json.dumps(
            {"compartmentId": APPS, "displayName": "bench", "vaultType": "DEFAULT"}).encode())
        self.vault = vault
        self.mgmt = vault["managementEndpoint"]
        self.crypto = vault["cryptoEndpoint"]
        key, _, _ = self.raw.call(self.mgmt, "POST", "/20180608/keys", json.dumps(
            {"compartmentId": APPS, "displayName": "bench",
             "keyShape": {"algorithm": "AES", "length": 32}}).encode())
        self.key = key
        self.secrets = []
        for n in range(TARGET_SECRETS):
            secret, _, _ = self.raw.call(base, "POST", "/20180608/secrets", json.dumps(
                {"compartmentId": APPS, "vaultId": vault["id"], "keyId": key["id"],
                 "secretName": "bench-{}".format(n),
                 "secretContent": {"contentType": "BASE64", "content": b64(os.urandom(32))}}).encode())
            self.secrets.append(secret["id"])

    def bundle_specs(self, count):
        """Distinct GetSecretBundle requests: secret n % 200, dated n // 200 s ago."""
        return [(self.emu.base, "GET", "/20190301/secretbundles/{}".format(self.secrets[n % len(self.secrets)]),
                 None, http_date(-(n // len(self.secrets)))) for n in range(count)]

    def encrypt_specs(self, count):
        """Distinct Encrypt requests: 1 KiB of fresh random plaintext each."""
        path = "/20180608/encrypt"
        return [(self.crypto, "POST", path, json.dumps(
            {"keyId": self.key["id"], "plaintext": b64(os.urandom(1024))}).encode(), None)
            for _ in range(count)]


def b64(data):
    return base64.b64encode(data).decode("ascii")


def check_crypto_endpoint(fixture):
    """Encrypt goes to the vault's crypto endpoint, which is a path on the
    same listener (wrk only needs the port); check that."""
    host = urllib.parse.urlparse(fixture.crypto).netloc
    if host != "127.0.0.1:{}".format(fixture.emu.port):
        sys.exit("the crypto endpoint {} is not on the emulator's listener".format(fixture.crypto))


# ------------------------------------------------------------------ seeding

def seed_secrets(emu, compartment, count, start):
    """Adds `count` secrets (one 32-byte version each) to `compartment`
    through POST /_emulator/seed, in vaults of SEED_BATCH secrets with one
    seeded AES key each; answers the seconds it took."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=600)
    content = b64(b"x" * 32)
    done = 0
    while done < count:
        n, first = min(SEED_BATCH, count - done), start + done
        key_id = "ocid1.key.oc1.iad.bench{:030d}".format(first)
        doc = {"vaults": [{
            "compartmentId": compartment,
            "displayName": "bench-listed-{}".format(first),
            "keys": [{"id": key_id, "displayName": "k", "algorithm": "AES", "length": 32}],
            "secrets": [{"name": "listed-{:07d}".format(first + i), "keyId": key_id,
                         "versions": [{"content": content, "stages": ["CURRENT"]}]} for i in range(n)],
        }]}
        conn.request("POST", "/_emulator/seed", body=json.dumps(doc).encode(),
                     headers={"content-type": "application/json"})
        r = conn.getresponse()
        text = r.read()
        if r.status // 100 != 2:
            sys.exit("seed: {} {}".format(r.status, text[:300]))
        done += n
    conn.close()
    return time.perf_counter() - started


# ------------------------------------------------------------ measurements

def startup(binary, log_dir, runs):
    """Start-to-healthy (spawn until /_emulator/health answers 200) and idle
    RSS (0.2 s after healthy) over `runs` starts (what scripts/bench-startup.py
    measured)."""
    times, rss = [], []
    for _ in range(runs):
        emu = start_emulator(binary, log_dir, "startup")
        times.append(emu.start_ms)
        time.sleep(0.2)
        rss.append(rss_mib(emu.pid))
        emu.stop()
    return {"start_to_healthy_ms_median": statistics.median(times), "start_to_healthy_ms_worst": max(times),
            "idle_rss_mib_median": statistics.median(rss), "starts": runs}


def throughput(prof, fixture, bare, work):
    """Interleaved rounds: bare axum, signed GetSecretBundle, Encrypt 1 KiB,
    each at 32 connections; then GetSecretBundle at 1 connection."""
    emu = fixture.emu
    rounds = {"bare": [], "bundle": [], "encrypt": []}
    for r in range(prof.rounds):
        print("  round {}/{}: bare axum".format(r + 1, prof.rounds), flush=True)
        cpu0 = cpu_seconds(bare.pid)
        run = wrk(bare.port, prof.seconds, 32)
        run["cpu_us_per_request"] = (cpu_seconds(bare.pid) - cpu0) * 1e6 / max(1, run["requests"])
        rounds["bare"].append(run)

        print("  round {}/{}: signing {} GetSecretBundle requests".format(r + 1, prof.rounds, prof.pool), flush=True)
        pool = write_pool(work / "bundle.pool", sign_many(fixture.bundle_specs(prof.pool)))
        cpu0 = cpu_seconds(emu.pid)
        run = wrk(emu.port, prof.seconds, 32, pool)
        run["cpu_us_per_request"] = (cpu_seconds(emu.pid) - cpu0) * 1e6 / max(1, run["requests"])
        rounds["bundle"].append(run)

        print("  round {}/{}: signing {} Encrypt requests".format(r + 1, prof.rounds, prof.pool), flush=True)
        pool = write_pool(work / "encrypt.pool", sign_many(fixture.encrypt_specs(prof.pool)))
        cpu0 = cpu_seconds(emu.pid)
        run = wrk(emu.port, prof.seconds, 32, pool)
        run["cpu_us_per_request"] = (cpu_seconds(emu.pid) - cpu0) * 1e6 / max(1, run["requests"])
        rounds["encrypt"].append(run)
        for name in rounds:
            if rounds[name][-1]["errors"]:
                sys.exit("{} run had errors: {}".format(name, rounds[name][-1]))

    print("  GetSecretBundle at 1 connection", flush=True)
    pool = write_pool(work / "single.pool", sign_many(fixture.bundle_specs(prof.pool)))
    single = wrk(emu.port, prof.seconds, 1, pool, threads=1)
    if single["errors"]:
        sys.exit("1-connection run had errors: {}".format(single))

    def median(name, field):
        return statistics.median(run[field] for run in rounds[name])
    return {
        "rounds": rounds,
        "single_connection": single,
        "bare_rps": median("bare", "rps"),
        "bundle_rps": median("bundle", "rps"),
        "encrypt_rps": median("encrypt", "rps"),
        "bare_cpu_us": median("bare", "cpu_us_per_request"),
        "bundle_cpu_us": median("bundle", "cpu_us_per_request"),
        "encrypt_cpu_us": median("encrypt", "cpu_us_per_request"),
        "single_p50_ms": single["p50_us"] / 1000,
        "single_p99_ms": single["p99_us"] / 1000,
    }


def server_elapsed_ms(emu, operation, count):
    """Server-side median, in ms, of the last `count` requests of
    `operation` (GET /_emulator/requests: the pipeline's elapsed time)."""
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=30)
    conn.request("GET", "/_emulator/requests?limit=200")
    items = json.loads(conn.getresponse().read())["items"]
    conn.close()
    times = [i["elapsedMicros"] / 1000 for i in items if i.get("operation") == operation][:count]
    return statistics.median(times) if times else None


def list_page(prof, fixture):
    """The first ListSecrets page of 50 in the listed compartment: client
    median over prof.samples sends (signed outside the timing), and the
    server's own median."""
    path = "/20180608/secrets?compartmentId={}&limit=50".format(LISTED)
    times = []
    for _ in range(prof.samples):
        items, _, elapsed = fixture.raw.call(fixture.emu.base, "GET", path)
        assert len(items) == 50, len(items)
        times.append(elapsed * 1000)
    return {"client_ms": statistics.median(times),
            "server_ms": server_elapsed_ms(fixture.emu, "ListSecrets", prof.samples)}


def list_all(fixture, limit=1000):
    """Pages through every secret of the listed compartment; answers
    (secrets seen, seconds)."""
    base = "/20180608/secrets?compartmentId={}&limit={}".format(LISTED, limit)
    seen, page, started = 0, None, time.perf_counter()
    while True:
        path = base + ("&page=" + urllib.parse.quote(page) if page else "")
        items, headers, _ = fixture.raw.call(fixture.emu.base, "GET", path)
        seen += len(items)
        page = headers.get("opc-next-page")
        if not page:
            return seen, time.perf_counter() - started


def with_versions(fixture, total):
    """A secret of `total` versions: made with one through the API, then
    given total-1 more through GET/PUT /_emulator/state (copies of version
    1, DEPRECATED and deleted long ago, as OCI keeps at most 30 in use),
    the last one CURRENT. Answers its OCID."""
    emu = fixture.emu
    secret, _, _ = fixture.raw.call(emu.base, "POST", "/20180608/secrets", json.dumps(
        {"compartmentId": APPS, "vaultId": fixture.vault["id"], "keyId": fixture.key["id"],
         "secretName": "versions-{}-{}".format(total, pysecrets.token_hex(4)),
         "secretContent": {"contentType": "BASE64", "content": b64(b"v1")}}).encode())
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=120)
    conn.request("GET", "/_emulator/state")
    snapshot = json.loads(conn.getresponse().read())
    mine = [v for v in snapshot["secretVersions"] if v["secretId"] == secret["id"]]
    assert len(mine) == 1, mine
    first = mine[0]
    current = dict(first, versionNumber=total)
    added = []
    for n in range(1, total):
        copy = dict(first, versionNumber=n, stages=["DEPRECATED"], timeOfDeletion="1970-01-01T00:00:00Z")
        added.append(copy)
    snapshot["secretVersions"] = [v for v in snapshot["secretVersions"] if v["secretId"] != secret["id"]]
    snapshot["secretVersions"] += added + [current]
    for s in snapshot["secrets"]:
        if s["id"] == secret["id"]:
            s["currentVersionNumber"] = total
    conn.request("PUT", "/_emulator/state", body=json.dumps(snapshot).encode(),
                 headers={"content-type": "application/json"})
    r = conn.getresponse()
    text = r.read()
    conn.close()
    if r.status // 100 != 2:
        sys.exit("PUT /_emulator/state: {} {}".format(r.status, text[:500]))
    return secret["id"]


def update_secret(prof, fixture, secret_id):
    """UpdateSecret with new content: client median over
    prof.update_samples sends and the server's median. Each adds a version
    and leaves the one before DEPRECATED but in use (OCI allows 30 in use,
    more than update_samples + 1)."""
    times = []
    for _ in range(prof.update_samples):
        body = json.dumps({"secretContent": {"contentType": "BASE64", "content": b64(os.urandom(16))}}).encode()
        _, _, elapsed = fixture.raw.call(fixture.emu.base, "PUT", "/20180608/secrets/" + secret_id, body)
        times.append(elapsed * 1000)
    return {"client_ms": statistics.median(times),
            "server_ms": server_elapsed_ms(fixture.emu, "UpdateSecret", prof.update_samples)}


def _pager(port, base, stop, ready, pages):
    """One client paging ListSecrets (limit 50) through the listed
    compartment, again from the start at the end, until `stop` is set."""
    raw = Raw(port)
    prefix = "/20180608/secrets?compartmentId={}&limit=50".format(LISTED)
    page = None
    while not stop.is_set():
        path = prefix + ("&page=" + urllib.parse.quote(page) if page else "")
        status, headers, body, _ = raw.send(sign_raw((base, "GET", path, None, None)))
        if status != 200:
            print("pager: {} {}".format(status, body[:200]), file=sys.stderr)
            return
        ready.set()
        with pages.get_lock():
            pages.value += 1
        page = headers.get("opc-next-page")


def under_paging(prof, fixture):
    """GetSecretBundle and health latency (sequential, one connection each)
    while 4 processes page through the listed compartment."""
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    pages = ctx.Value("i", 0)
    readies = [ctx.Event() for _ in range(4)]
    procs = [ctx.Process(target=_pager, args=(fixture.emu.port, fixture.emu.base, stop, r, pages)) for r in readies]
    for p in procs:
        p.start()
    for r in readies:
        r.wait(300)
    bundle, health = [], []
    hc = http.client.HTTPConnection("127.0.0.1", fixture.emu.port, timeout=120)
    started = time.perf_counter()
    for n in range(prof.under_load_samples):
        secret = fixture.secrets[n % len(fixture.secrets)]
        _, _, elapsed = fixture.raw.call(fixture.emu.base, "GET", "/20190301/secretbundles/" + secret)
        bundle.append(elapsed * 1000)
        t = time.perf_counter()
        hc.request("GET", "/_emulator/health")
        hc.getresponse().read()
        health.append((time.perf_counter() - t) * 1000)
    seconds = time.perf_counter() - started
    stop.set()
    for p in procs:
        p.join(600)
    hc.close()
    return {"bundle_p50_ms": statistics.median(bundle), "bundle_max_ms": max(bundle),
            "health_p50_ms": statistics.median(health), "samples": len(bundle),
            "pages_listed": pages.value, "seconds": seconds}


# ------------------------------------------------------------------- report

def rustc_count():
    """How many rustc processes run on the machine now (another build
    competing for the cores skews every figure)."""
    out = subprocess.run(["pgrep", "-c", "rustc"], capture_output=True, text=True).stdout.strip()
    return int(out or 0)


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "rustc_processes_at_start": rustc_count(), "load_average_at_start": os.getloadavg()}


def table(r, prof):
    """Rows of (figure, bare axum, emulator, goal, met)."""
    t = r["throughput"]
    big, small = prof.sizes[-1], prof.sizes[0]
    lists = r["lists"]
    ratio_client = lists[str(big)]["client_ms"] / lists[str(small)]["client_ms"]
    ratio_server = (lists[str(big)]["server_ms"] / lists[str(small)]["server_ms"]
                    if lists[str(big)]["server_ms"] and lists[str(small)]["server_ms"] else None)
    up = r["update"]
    up_ratio = up["2000"]["client_ms"] / up["10"]["client_ms"]
    mem = r["memory"]
    paging = r["under_paging"]
    share = lambda x: x / t["bare_rps"] * 100  # noqa: E731
    rows = [
        ("signed GetSecretBundle, req/s (32 conn.)", "{:,.0f}".format(t["bare_rps"]),
         "{:,.0f} ({:.0f} %)".format(t["bundle_rps"], share(t["bundle_rps"])),
         ">= 25k and >= 25 % of bare", t["bundle_rps"] >= 25_000 and share(t["bundle_rps"]) >= 25),
        ("Encrypt 1 KiB, req/s (32 conn.)", "{:,.0f}".format(t["bare_rps"]),
         "{:,.0f} ({:.0f} %)".format(t["encrypt_rps"], share(t["encrypt_rps"])),
         ">= 25 % of bare", share(t["encrypt_rps"]) >= 25),
        ("server CPU per signed read", "{:.1f} us".format(t["bare_cpu_us"]),
         "{:.1f} us".format(t["bundle_cpu_us"]), "<= 45 us", t["bundle_cpu_us"] <= 45),
        ("GetSecretBundle p99 at 1 connection", "-", "{:.2f} ms (p50 {:.2f})".format(
            t["single_p99_ms"], t["single_p50_ms"]), "< 0.5 ms", t["single_p99_ms"] < 0.5),
        ("ListSecrets page of 50, {}k vs {}k secrets".format(big // 1000, small // 1000), "-",
         "{:.1f}x client ({:.1f} vs {:.1f} ms), {}x server".format(
             ratio_client, lists[str(big)]["client_ms"], lists[str(small)]["client_ms"],
             "{:.1f}".format(ratio_server) if ratio_server else "?"), "<= 2x", ratio_client <= 2),
        ("UpdateSecret, 2,000 vs 10 versions", "-", "{:.1f}x ({:.1f} vs {:.1f} ms)".format(
            up_ratio, up["2000"]["client_ms"], up["10"]["client_ms"]), "<= 1.5x", up_ratio <= 1.5),
        ("RSS with {}k secrets".format(big // 1000), "-", "{:.0f} MiB ({:.0f} MiB after listing)".format(
            mem["with_secrets_mib"], mem["after_listing_mib"]),
         "< 250 MB, flat after listing",
         mem["with_secrets_mib"] * 1.048576 < 250 and mem["after_listing_mib"] <= mem["with_secrets_mib"] * 1.10),
        ("GetSecretBundle p50 while 4 clients page {}k".format(big // 1000), "-",
         "{:.1f} ms (health {:.1f} ms)".format(paging["bundle_p50_ms"], paging["health_p50_ms"]),
         "< 5 ms", paging["bundle_p50_ms"] < 5),
        ("start to healthy (median of {})".format(r["startup"]["starts"]), "-",
         "{:.1f} ms".format(r["startup"]["start_to_healthy_ms_median"]), "-", None),
        ("RSS idle", "-", "{:.1f} MiB".format(r["startup"]["idle_rss_mib_median"]), "-", None),
        ("RSS after the throughput runs (audit trail full)", "-",
         "{:.0f} MiB".format(mem["after_throughput_mib"]), "-", None),
    ]
    return rows


def print_table(rows):
    head = ("figure", "bare axum", "emulator", "goal", "met?")
    cells = [head] + [(a, b, c, d, "-" if m is None else ("yes" if m else "no")) for a, b, c, d, m in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(5)]
    def line(row):
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))


# --------------------------------------------------------------------- main

def run(args):
    prof = Profile(args.quick)
    work = Path(tempfile.mkdtemp(prefix="oci-bench-"))
    result = {"mode": "quick" if args.quick else "full",
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "machine": machine(), "git": git_describe(), "sizes": prof.sizes,
              "pool": prof.pool, "seconds_per_wrk_run": prof.seconds, "rounds": prof.rounds}
    started = time.perf_counter()
    print("==> start to healthy ({} starts)".format(prof.starts), flush=True)
    result["startup"] = startup(args.emulator, work, prof.starts)

    # Throughput on an emulator holding only the fixture; sizes on a fresh
    # one, so its RSS is the secrets' and not the audit trail the
    # throughput runs filled (one event per request, up to
    # --audit-max-events, 20,000 by default).
    emu = start_emulator(args.emulator, work)
    bare = start_bare(args.bare, work)
    try:
        print("==> fixture: a vault, a key, {} secrets".format(TARGET_SECRETS), flush=True)
        fixture = Fixture(emu)
        check_crypto_endpoint(fixture)
        result["memory"] = {"idle_mib": rss_mib(emu.pid)}
        print("==> throughput (wrk, {} s a run, {} round(s))".format(prof.seconds, prof.rounds), flush=True)
        result["throughput"] = throughput(prof, fixture, bare, work)
        result["memory"]["after_throughput_mib"] = rss_mib(emu.pid)
    finally:
        emu.stop()
        bare.stop()

    emu = start_emulator(args.emulator, work, "emulator-sizes")
    try:
        print("==> a fresh emulator: fixture, UpdateSecret at 10 and 2,000 versions", flush=True)
        fixture = Fixture(emu)
        result["update"] = {}
        for total in prof.versions:
            secret = with_versions(fixture, total)
            result["update"][str(total)] = update_secret(prof, fixture, secret)

        result["lists"], result["seeding"] = {}, {}
        have = 0
        for size in prof.sizes:
            print("==> seeding to {:,} secrets".format(size), flush=True)
            result["seeding"][str(size)] = seed_secrets(emu, LISTED, size - have, have)
            have = size
            result["lists"][str(size)] = list_page(prof, fixture)
        result["memory"]["with_secrets_mib"] = rss_mib(emu.pid)
        print("==> GetSecretBundle while 4 clients page through {:,} secrets".format(have), flush=True)
        result["under_paging"] = under_paging(prof, fixture)
        print("==> listing all {:,} secrets (pages of 1000)".format(have), flush=True)
        seen, seconds = list_all(fixture)
        result["list_all"] = {"secrets": seen, "seconds": seconds}
        result["memory"]["after_listing_mib"] = rss_mib(emu.pid)
    finally:
        emu.stop()
    result["total_seconds"] = time.perf_counter() - started
    result["machine"]["rustc_processes_at_end"] = rustc_count()
    result["machine"]["load_average_at_end"] = os.getloadavg()
    rows = table(result, prof)
    result["table"] = [{"figure": a, "bare_axum": b, "emulator": c, "goal": d, "met": m} for a, b, c, d, m in rows]
    print()
    print_table(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    m = result["machine"]
    print("\nwritten to {} ({:.0f} s; logs in {}); rustc processes at start/end: {}/{}, load {:.1f}/{:.1f}".format(
        out, result["total_seconds"], work, m["rustc_processes_at_start"], m["rustc_processes_at_end"],
        m["load_average_at_start"][0], m["load_average_at_end"][0]))


def soak(args):
    seconds = 15 if args.quick else 60
    settled = 10 if args.quick else 40
    work = Path(tempfile.mkdtemp(prefix="oci-soak-"))
    emu = start_emulator(args.emulator, work)
    samples = []
    try:
        fixture = Fixture(emu)
        seed_secrets(emu, LISTED, 1_000, 0)
        pool_size = 5_000 if args.quick else 20_000
        print("==> signing {} mixed requests (70 % GetSecretBundle, 15 % UpdateSecret, 15 % ListSecrets)"
              .format(pool_size), flush=True)
        specs = []
        reads = fixture.bundle_specs(pool_size)
        for n in range(pool_size):
            kind = n % 20
            if kind < 14:
                specs.append(reads[n])
            elif kind < 17:
                secret = fixture.secrets[n % len(fixture.secrets)]
                body = json.dumps({"description": "soak {}".format(n)}).encode()
                specs.append((emu.base, "PUT", "/20180608/secrets/" + secret, body, None))
            else:
                specs.append((emu.base, "GET", "/20180608/secrets?compartmentId={}&limit=50".format(LISTED),
                              None, http_date(-(n % 200))))
        pool = write_pool(work / "soak.pool", sign_many(specs))
        stop = threading.Event()

        def sample():
            t0 = time.monotonic()
            while not stop.wait(max(0.0, t0 + len(samples) + 1 - time.monotonic())):
                samples.append(rss_mib(emu.pid))
        sampler = threading.Thread(target=sample)
        print("==> {} s at 32 connections, RSS every second".format(seconds), flush=True)
        sampler.start()
        result = wrk(emu.port, seconds, 32, pool)
        stop.set()
        sampler.join()
    finally:
        emu.stop()
    print("RSS (MiB), one sample a second:")
    for n, s in enumerate(samples, 1):
        print("  {:3d} s  {:7.1f}".format(n, s))
    tail = samples[-settled:]
    spread = (max(tail) - min(tail)) / min(tail) * 100
    print("requests {:,} ({:,.0f}/s), non-2xx {}, socket errors {}".format(
        result["requests"], result["rps"], result["bad_status"], result["errors"] - result["bad_status"]))
    print("last {} s: min {:.1f} MiB, max {:.1f} MiB, spread {:.1f} % -> {}".format(
        settled, min(tail), max(tail), spread, "flat (within 10 %)" if spread <= 10 else "NOT flat (over 10 %)"))
    settled_from = next(n for n in range(len(samples))
                        if max(samples[n:]) <= min(samples[n:]) * 1.01)
    print("within 1 % from second {} to the end ({:.1f} to {:.1f} MiB)".format(
        settled_from + 1, min(samples[settled_from:]), max(samples[settled_from:])))
    print("(every request stores one audit event, up to --audit-max-events, 20,000 by default: RSS grows "
          "until that many requests were answered, {:.0f} s at this rate)".format(20_000 / max(1, result["rps"])))


def git_describe():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT), capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "soak"])
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--bare")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (bench/run installs the Debian package)")
    try:
        if args.mode == "soak":
            soak(args)
        else:
            if not args.bare:
                parser.error("--bare is required")
            run(args)
    finally:
        if _POOL is not None:
            _POOL.terminate()


if __name__ == "__main__":
    main()
