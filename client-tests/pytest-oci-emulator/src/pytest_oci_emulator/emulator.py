"""Start, probe, drive and stop one oci-vault-emulator process (no pytest in here).

The emulator's own endpoints (`/_emulator/...`) need no signature, so they are
called with urllib; only the OCI APIs go through the real SDK.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

HEALTH_PATH = "/_emulator/health"

# Variables that would make the emulator start with state of its own; the
# session emulator always starts empty and in memory (seeds, faults and
# policies come from the markers, per test).
_STATEFUL_ENV = ("OCI_EMULATOR_DATA_DIR", "OCI_EMULATOR_SEED", "OCI_EMULATOR_FAULTS",
                 "OCI_EMULATOR_LISTEN", "OCI_EMULATOR_PUBLIC_URL")


class EmulatorError(RuntimeError):
    """The emulator did not start, or an admin call did not answer as expected."""


class AdminError(EmulatorError):
    def __init__(self, method, path, status, body):
        super().__init__("{} {} answered {}: {}".format(method, path, status, body[:500]))
        self.status = status
        self.body = body


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Emulator:
    """A running emulator: `base_url`, `log_path`, `log_text()` and the admin calls.

    `proc` is None when the emulator was started by someone else (`--oci-emulator-url`).
    """

    def __init__(self, base_url, proc=None, log_path=None, log_file=None):
        self.base_url = base_url.rstrip("/")
        self.proc = proc
        self.log_path = log_path
        self._log_file = log_file

    # -- process ---------------------------------------------------------------------------

    @classmethod
    def start(cls, binary, log_path, timeout=10.0, extra_args=(), cwd=None):
        """`binary serve --listen 127.0.0.1:<free port>`, in memory, waited on until
        GET /_emulator/health answers 200 (polled, with a deadline)."""
        binary = str(binary)
        if not os.path.isfile(binary):
            raise EmulatorError("emulator binary not found: {} (set OCI_EMULATOR_BIN or "
                                "--oci-emulator-bin)".format(binary))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in _STATEFUL_ENV}
        log_file = open(log_path, "wb")
        proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:{}".format(port)] + list(extra_args),
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
        emu = cls("http://127.0.0.1:{}".format(port), proc, str(log_path), log_file)
        try:
            emu.wait_healthy(timeout)
        except BaseException:
            emu.stop()
            raise
        return emu

    def wait_healthy(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise EmulatorError("emulator exited with code {} before answering {}; its output:\n{}".format(
                    self.proc.returncode, HEALTH_PATH, self.log_text()))
            try:
                status, body = self._call("GET", HEALTH_PATH, timeout=1)
                if status == 200:
                    return json.loads(body)
                last = "HTTP {}".format(status)
            except (OSError, urllib.error.URLError) as e:
                last = repr(e)
            if time.monotonic() > deadline:
                raise EmulatorError("emulator at {} did not answer {} with 200 within {:.0f} s (last: {}); "
                                    "its output:\n{}".format(self.base_url, HEALTH_PATH, timeout, last,
                                                             self.log_text()))
            time.sleep(0.05)

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after `grace` seconds. Safe to call twice."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log_file is not None and not self._log_file.closed:
            self._log_file.close()

    def log_text(self):
        """Everything the emulator wrote to stdout/stderr so far ("" when not started here).
        The emulator never logs secret content or key material."""
        if not self.log_path:
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    # -- admin endpoints ---------------------------------------------------------------------

    def _call(self, method, path, body=None, timeout=10):
        data = None
        headers = {"accept": "application/json"}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            headers["content-type"] = "application/json"
        elif method in ("POST", "PUT"):
            data = b""
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", errors="replace")

    def admin(self, method, path, body=None, expect=200):
        """Call an `/_emulator/...` endpoint; returns the decoded JSON (or None when empty).
        Raises AdminError unless the status is `expect`."""
        status, text = self._call(method, path, body)
        if status != expect:
            raise AdminError(method, path, status, text)
        return json.loads(text) if text.strip() else None

    def health(self):
        return self.admin("GET", HEALTH_PATH)

    def reset(self):
        """Everything wiped: vaults, keys, secrets, faults, runtime policies, the clock."""
        return self.admin("POST", "/_emulator/reset")

    def seed(self, document):
        """POST /_emulator/seed: one more seed document (dict, or bytes of JSON)."""
        return self.admin("POST", "/_emulator/seed", document)

    def set_faults(self, document):
        """PUT /_emulator/faults: replaces the whole fault document."""
        return self.admin("PUT", "/_emulator/faults", document)

    def faults(self):
        return self.admin("GET", "/_emulator/faults")

    def set_policies(self, policies):
        """PUT /_emulator/iam/policies: replaces the policies (the tenancy file's shape)."""
        return self.admin("PUT", "/_emulator/iam/policies", policies)

    def decision(self, request_id):
        """The explanation of the authorisation decision of one request (by opc-request-id)."""
        return self.admin("GET", "/_emulator/decisions/{}".format(request_id))
