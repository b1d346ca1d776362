// The emulator's web console (/_emulator/ui) in Debian's headless Chromium,
// driven by playwright-core (no browser is downloaded: the test uses
// /usr/bin/chromium, or $CHROMIUM).
//
// It starts $OCI_EMULATOR_BIN on a free port, seeds 1,000 secrets in 4
// vaults through POST /_emulator/seed, makes two signed OCI calls (one
// allowed, one denied) and a faulted one, then checks that the console shows
// the counts, a secret's versions and stages, the recent requests with their
// IAM decision and its explanation, the fault rule's counter, and moves the
// clock; that no secret content reaches the page or any response it read;
// and that the first render took under 1 s. Waits are on conditions with a
// deadline, never fixed sleeps. A screenshot goes to ../screenshot.png.
"use strict";

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { after, before, test } = require("node:test");

const { chromium } = require("playwright-core");
const { REPO_ROOT, start } = require("./support");

const COMPARTMENT_ID = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";
const TENANCY = "ocid1.tenancy.oc1..aaaaaaaaemulatortenancy0000000000000000000000000000000000001";
const USERS = {
  admin: {
    id: "ocid1.user.oc1..aaaaaaaaemulatoradmin00000000000000000000000000000000000000001",
    fingerprint: "22:47:b6:6f:a2:92:f5:10:e0:48:39:d9:9b:ed:ec:d6",
    key: "fixtures/oci/keys/admin.pem",
  },
  appReader: {
    id: "ocid1.user.oc1..aaaaaaaaemulatorappreader000000000000000000000000000000000001",
    fingerprint: "90:43:28:bd:97:8d:a7:11:6d:2b:09:0b:7c:30:b7:c1",
    key: "fixtures/oci/keys/appreader.pem",
  },
};
const VAULTS = 4;
const SECRETS = 1000;
const LOAD_BUDGET_MS = 1000;
const WAIT_MS = 10_000;
const SCREENSHOT = path.join(__dirname, "..", "screenshot.png");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// Every secret's plaintext starts with this; neither it nor any content's
// base64 may show up in the console.
const MARKER = "console-test-secret-";
const contents = [];
const b64 = (text) => {
  const encoded = Buffer.from(text).toString("base64");
  contents.push(encoded);
  return encoded;
};

const vaultId = (v) => `ocid1.vault.oc1.iad.amaaaaaaconsolevault${String(v).padStart(38, "0")}`;
const keyId = (v) => `ocid1.key.oc1.iad.amaaaaaaconsolekey${String(v).padStart(41, "0")}`;
const ROTATED_ID = "ocid1.vaultsecret.oc1.iad.amaaaaaaconsolerotated000000000000000000000000000000000000001";

// 4 vaults of 250 secrets; vault 0's first (by name) is "app-rotated" with
// three versions.
function seedDocument() {
  let n = 0;
  const vaults = [];
  for (let v = 0; v < VAULTS; v++) {
    const secrets = [];
    if (v === 0) {
      n++;
      secrets.push({
        id: ROTATED_ID,
        name: "app-rotated",
        keyId: keyId(v),
        versions: [
          { content: b64(`${MARKER}rotated-1`), stages: [] },
          { content: b64(`${MARKER}rotated-2`), stages: ["PREVIOUS"], name: "before" },
          { content: b64(`${MARKER}rotated-3`), stages: ["CURRENT", "LATEST"], name: "now" },
        ],
      });
    }
    while (secrets.length < SECRETS / VAULTS) {
      n++;
      secrets.push({
        name: `svc-${String(n).padStart(4, "0")}`,
        keyId: keyId(v),
        versions: [{ content: b64(`${MARKER}${n}`), stages: ["CURRENT"] }],
      });
    }
    vaults.push({
      id: vaultId(v),
      compartmentId: COMPARTMENT_ID,
      displayName: `console-vault-${v}`,
      keys: [{ id: keyId(v), displayName: `console-key-${v}`, algorithm: "AES", length: 32 }],
      secrets,
    });
  }
  return { vaults };
}

// An OCI request signature (draft-cavage, as the SDKs sign a GET).
async function signedGet(emu, user, pathAndQuery) {
  const url = new URL(pathAndQuery, emu.baseUrl);
  const date = new Date().toUTCString();
  const signing = [`date: ${date}`, `(request-target): get ${pathAndQuery}`, `host: ${url.host}`].join("\n");
  const pem = fs.readFileSync(path.join(REPO_ROOT, user.key), "utf8");
  const signature = crypto.sign("sha256", Buffer.from(signing), pem).toString("base64");
  const authorization = `Signature version="1",keyId="${TENANCY}/${user.id}/${user.fingerprint}",` +
    `algorithm="rsa-sha256",headers="date (request-target) host",signature="${signature}"`;
  return fetch(url, { headers: { date, authorization } });
}

async function postJson(emu, p, body, method = "POST") {
  const r = await fetch(`${emu.baseUrl}${p}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `${method} ${p}: ${text}`);
  return JSON.parse(text);
}

let emu;
let context;
const times = {};

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  emu = await start();
  let t = Date.now();
  const counts = await postJson(emu, "/_emulator/seed", seedDocument());
  times.seedMs = Date.now() - t;
  assert.deepEqual(counts, { vaults: VAULTS, keys: VAULTS, secrets: SECRETS });
  t = Date.now();
  context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), "oci-console-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 1000 },
  });
  times.browserStartMs = Date.now() - t;
});

after(async () => {
  if (context) await context.close();
  if (emu) await emu.stop();
  console.log(`timings: ${JSON.stringify(times)}`);
});

test("the console shows the store, versions, decisions and faults, moves the clock, and never content", async () => {
  // Two signed calls (one allowed, one denied) and one a fault rule answers.
  const allowed = await signedGet(emu, USERS.admin, `/20180608/vaults?compartmentId=${COMPARTMENT_ID}`);
  assert.equal(allowed.status, 200);
  const denied = await signedGet(emu, USERS.appReader, `/20180608/vaults/${vaultId(1)}`);
  assert.equal(denied.status, 404);
  const deniedId = denied.headers.get("opc-request-id");
  await postJson(emu, "/_emulator/faults", {
    id: "console-outage", match: { operations: ["GetVault"] }, action: { error: { status: 503 } },
  });
  const faulted = await signedGet(emu, USERS.admin, `/20180608/vaults/${vaultId(2)}`);
  assert.equal(faulted.status, 503);

  const page = await context.newPage();
  const bodies = [];
  page.on("response", (r) => {
    if (r.url().includes("/_emulator/")) bodies.push(r.text().catch(() => ""));
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  await page.goto(`${emu.baseUrl}/_emulator/ui`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: WAIT_MS });
  const ready = await page.evaluate(() => performance.getEntriesByName("console-ready")[0].startTime);
  times.consoleReadyMs = Math.round(ready);
  console.log(`console ready ${ready.toFixed(0)} ms after navigation start, with ${SECRETS} secrets`);
  assert.ok(ready < LOAD_BUDGET_MS, `the console took ${ready.toFixed(0)} ms to render (budget ${LOAD_BUDGET_MS} ms)`);
  assert.equal(await page.isHidden("#error"), true, await page.textContent("#error"));

  // Counts, vaults, the first vault's first page of secrets.
  assert.equal(await page.textContent("#count-vaults"), String(VAULTS));
  assert.equal(await page.textContent("#count-keys"), String(VAULTS));
  assert.equal(await page.textContent("#count-secrets"), String(SECRETS));
  const vaultRows = await page.$$eval("#vaults tbody tr", (rows) =>
    rows.map((r) => [r.cells[0].textContent, r.cells[3].textContent, r.cells[4].textContent]));
  assert.deepEqual(vaultRows, [0, 1, 2, 3].map((v) => [`console-vault-${v}`, "1", "250"]));
  assert.equal(await page.textContent("#secrets-page"), "1–50 of 250");
  assert.equal(await page.locator("#secrets tbody tr").count(), 50);

  // A secret's versions and stages.
  await page.click('#secrets tbody tr[data-secret-id="' + ROTATED_ID + '"]');
  await page.waitForSelector("#versions tbody tr", { timeout: WAIT_MS });
  const versions = await page.$$eval("#versions tbody tr", (rows) =>
    rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent,
      [...r.cells[2].querySelectorAll(".stage")].map((s) => s.textContent)]));
  assert.deepEqual(versions, [
    ["1", "", ["DEPRECATED"]],
    ["2", "before", ["PREVIOUS"]],
    ["3", "now", ["CURRENT", "LATEST"]],
  ]);
  assert.equal(await page.textContent("#secret-name"), "app-rotated");

  // Paging and filtering.
  await page.click("#secrets-next");
  await page.waitForFunction(() => document.getElementById("secrets-page").textContent === "51–100 of 250",
    null, { timeout: WAIT_MS });
  await page.fill("#secret-filter", "svc-000");
  await page.waitForFunction(() => document.getElementById("secrets-page").textContent === "1–8 of 8",
    null, { timeout: WAIT_MS });

  // Recent requests with their decisions; the denied one explained.
  const requests = await page.$$eval("#requests tbody tr", (rows) =>
    rows.map((r) => [r.cells[2].textContent, r.cells[3].textContent, r.cells[4].textContent,
      r.cells[5].textContent, r.cells[6].textContent, r.cells[7].textContent]));
  assert.deepEqual(requests, [
    ["GetVault", "admin", "503", "ServiceUnavailable", "–", "console-outage"],
    ["GetVault", "app-reader", "404", "NotAuthorizedOrNotFound", "DENIED", ""],
    ["ListVaults", "admin", "200", "", "ALLOWED", ""],
  ]);
  await page.click("#requests tbody tr:nth-child(2)");
  await page.waitForSelector("#decision:not([hidden])", { timeout: WAIT_MS });
  assert.equal(await page.textContent("#decision-id"), deniedId);
  const explanation = JSON.parse(await page.textContent("#explanation"));
  assert.deepEqual(explanation.checks.map((c) => [c.permission, c.granted]), [["VAULT_READ", false]]);

  // The fault rule and its counters.
  const faults = await page.$$eval("#faults tbody tr", (rows) =>
    rows.map((r) => [r.cells[0].textContent, r.cells[1].textContent, r.cells[3].textContent, r.cells[4].textContent]));
  assert.deepEqual(faults, [["rule", "console-outage", "1", "1"]]);

  // The clock moves by the given seconds.
  const before = Date.parse(await page.getAttribute("#clock-now", "datetime"));
  await page.fill("#advance-seconds", "86400");
  await page.click("#advance");
  await page.waitForFunction(() => document.getElementById("clock-offset").textContent === "86400",
    null, { timeout: WAIT_MS });
  const moved = Date.parse(await page.getAttribute("#clock-now", "datetime")) - before;
  assert.ok(moved >= 86_400_000 && moved < 86_400_000 + WAIT_MS, `the clock moved ${moved} ms`);

  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  // No secret content anywhere: the page's HTML and text, and every
  // response the console read.
  const html = await page.content();
  const text = await page.evaluate(() => document.body.innerText);
  const read = (await Promise.all(bodies)).join("\n");
  assert.ok(read.length > 0);
  for (const haystack of [html, text, read]) {
    assert.ok(!haystack.includes(MARKER), "secret plaintext in the console");
    const leaked = contents.find((c) => haystack.includes(c));
    assert.equal(leaked, undefined, "secret content (base64) in the console");
  }
  assert.deepEqual(errors, []);
});
