// Starting the emulator and building real OCI TypeScript SDK clients for the tests.
//
// start() runs `$OCI_EMULATOR_BIN serve --listen 127.0.0.1:<free port>` with the
// repository root as working directory (like client-tests/python/conftest.py)
// and waits, with a deadline, until GET /_emulator/health answers 200.
//
// Key and crypto calls: the TypeScript SDK builds a request URL as
// `endpoint + path` and accepts an endpoint with a path, so the vault's own
// path-style managementEndpoint / cryptoEndpoint
// (http://H:P/kms/<vault-key>/management) is used as is.
"use strict";

const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const common = require("oci-common");
const keymanagement = require("oci-keymanagement");
const vault = require("oci-vault");
const secrets = require("oci-secrets");

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
// The "apps" compartment of fixtures/tenancy.json; every resource is made there.
const COMPARTMENT_ID = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";
// Relative to the repository root: the profiles' key_file entries are too.
const CONFIG_FILE = "fixtures/oci/config";
const START_TIMEOUT_MS = 10_000;

// The SDK's circuit breaker is shared by the clients of a process: off, so an
// expected error never makes a later call fail without being sent.
common.CircuitBreaker.EnableGlobalCircuitBreaker = false;
process.chdir(REPO_ROOT);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function start() {
  const bin = path.resolve(REPO_ROOT, process.env.OCI_EMULATOR_BIN || "target/release/oci-vault-emulator");
  if (!fs.existsSync(bin)) {
    throw new Error(`emulator binary not found: ${bin} (build it or set OCI_EMULATOR_BIN)`);
  }
  const port = await freePort();
  const logPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oci-emulator-ts-")), "server.log");
  const log = fs.openSync(logPath, "w");
  const child = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`], {
    cwd: REPO_ROOT,
    stdio: ["ignore", log, log],
  });
  let exited = null;
  const exitedPromise = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    })
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const emu = {
    baseUrl,
    logPath,
    async stop() {
      if (exited === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exitedPromise;
        clearTimeout(timer);
      }
      fs.closeSync(log);
    },
  };
  console.log(`emulator at ${baseUrl} (pid ${child.pid}), log ${logPath}`);

  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = "";
  for (;;) {
    if (exited !== null) {
      await emu.stop();
      throw new Error(`emulator exited (${JSON.stringify(exited)}) before answering health; its output:\n` +
        fs.readFileSync(logPath, "utf8"));
    }
    try {
      const r = await fetch(`${baseUrl}/_emulator/health`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200) return emu;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) {
      await emu.stop();
      throw new Error(`emulator did not answer health within ${START_TIMEOUT_MS} ms (last: ${last}); its output:\n` +
        fs.readFileSync(logPath, "utf8"));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// No retries unless a test asks for them.
const CLIENT_CONFIG = { retryConfiguration: common.NoRetryConfigurationDetails };

function provider(profile = "DEFAULT") {
  return new common.ConfigFileAuthenticationDetailsProvider(CONFIG_FILE, profile);
}

function client(Ctor, endpoint, profile) {
  const c = new Ctor({ authenticationDetailsProvider: provider(profile) }, CLIENT_CONFIG);
  c.endpoint = endpoint;
  return c;
}

function clients(emu, profile = "DEFAULT") {
  return {
    kms: client(keymanagement.KmsVaultClient, emu.baseUrl, profile),
    vaults: client(vault.VaultsClient, emu.baseUrl, profile),
    secrets: client(secrets.SecretsClient, emu.baseUrl, profile),
    management: (v) => client(keymanagement.KmsManagementClient, v.managementEndpoint, profile),
    crypto: (v) => client(keymanagement.KmsCryptoClient, v.cryptoEndpoint, profile),
  };
}

function unique(prefix) {
  return `ts-${prefix}-${crypto.randomBytes(6).toString("hex")}`;
}

// One call to the emulator's own endpoints (no signature needed); 2xx or it throws.
async function admin(emu, method, urlPath, body) {
  const r = await fetch(emu.baseUrl + urlPath, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${urlPath}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

module.exports = { COMPARTMENT_ID, CONFIG_FILE, REPO_ROOT, admin, clients, provider, start, unique };
