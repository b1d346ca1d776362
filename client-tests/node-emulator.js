// Starting the emulator for the Node.js suites (client-tests/typescript,
// client-tests/console): `$OCI_EMULATOR_BIN serve --listen 127.0.0.1:<free
// port>` with the repository root as working directory (like
// client-tests/python/conftest.py), waiting with a deadline until
// GET /_emulator/health answers 200. No dependencies beyond Node itself.
"use strict";

const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const REPO_ROOT = path.resolve(__dirname, "..");
const START_TIMEOUT_MS = 10_000;

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

async function start(label = "node") {
  const bin = path.resolve(REPO_ROOT, process.env.OCI_EMULATOR_BIN || "target/release/oci-vault-emulator");
  if (!fs.existsSync(bin)) {
    throw new Error(`emulator binary not found: ${bin} (build it or set OCI_EMULATOR_BIN)`);
  }
  const port = await freePort();
  const logPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `oci-emulator-${label}-`)), "server.log");
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

module.exports = { REPO_ROOT, start };
