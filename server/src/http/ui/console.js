// The emulator console: reads the unsigned metadata endpoints under
// /_emulator/ and renders them with textContent only (names and tags are
// user input, never HTML). It never asks for secret content or key material.
"use strict";

const PAGE = 50;
const state = { vaultId: null, offset: 0, filter: "", secretId: null };

const $ = (id) => document.getElementById(id);

async function getJson(path, init) {
  const r = await fetch(path, init);
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    const why = body && body.code ? `${body.code}: ${body.message}` : `HTTP ${r.status}`;
    throw new Error(`${path}: ${why}`);
  }
  return body;
}

function showError(e) {
  const p = $("error");
  p.textContent = String(e && e.message ? e.message : e);
  p.hidden = false;
}

// One table row of plain-text cells; `cls` marks cells by index.
function row(cells, cls = {}) {
  const tr = document.createElement("tr");
  cells.forEach((value, i) => {
    const td = document.createElement("td");
    if (value instanceof Node) td.append(value);
    else td.textContent = value === null || value === undefined ? "" : String(value);
    if (cls[i]) td.className = cls[i];
    tr.append(td);
  });
  return tr;
}

function fill(tableId, rows) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren(...rows);
}

function when(t) {
  return t ? t.replace("T", " ").replace(/\.\d+Z$/, "Z") : "";
}

async function loadClock() {
  const t = await getJson("/_emulator/time");
  $("clock-now").textContent = t.now;
  $("clock-now").dateTime = t.now;
  $("clock-offset").textContent = String(t.offsetSeconds);
}

async function loadVaults() {
  const v = await getJson("/_emulator/inventory/vaults");
  $("count-vaults").textContent = String(v.counts.vaults);
  $("count-keys").textContent = String(v.counts.keys);
  $("count-secrets").textContent = String(v.counts.secrets);
  fill("vaults", v.vaults.map((vault) => {
    const tr = row([vault.displayName, vault.lifecycleState, vault.vaultType, vault.keyCount,
      vault.secretCount, when(vault.timeCreated), vault.id], { 6: "ocid" });
    tr.className = "clickable" + (vault.id === state.vaultId ? " selected" : "");
    tr.dataset.vaultId = vault.id;
    tr.addEventListener("click", () => selectVault(vault.id, vault.displayName).catch(showError));
    return tr;
  }));
  return v.vaults;
}

async function selectVault(id, name) {
  state.vaultId = id;
  state.offset = 0;
  state.secretId = null;
  $("secret-detail").hidden = true;
  $("vault-name").textContent = name;
  for (const tr of $("vaults").tBodies[0].rows) {
    tr.classList.toggle("selected", tr.dataset.vaultId === id);
  }
  $("vault-detail").hidden = false;
  await Promise.all([loadKeys(), loadSecrets()]);
}

async function loadKeys() {
  const k = await getJson(`/_emulator/inventory/vaults/${encodeURIComponent(state.vaultId)}/keys`);
  fill("keys", k.items.map((key) => row([key.displayName, key.lifecycleState,
    `${key.algorithm} ${key.length * 8}-bit`, key.protectionMode, when(key.timeCreated), key.id], { 5: "ocid" })));
}

async function loadSecrets() {
  const q = new URLSearchParams({ offset: String(state.offset), limit: String(PAGE) });
  if (state.filter) q.set("name", state.filter);
  const s = await getJson(`/_emulator/inventory/vaults/${encodeURIComponent(state.vaultId)}/secrets?${q}`);
  const last = Math.min(s.offset + s.items.length, s.total);
  $("secrets-page").textContent = s.total === 0 ? "no secrets" : `${s.offset + 1}–${last} of ${s.total}`;
  $("secrets-prev").disabled = s.offset === 0;
  $("secrets-next").disabled = last >= s.total;
  fill("secrets", s.items.map((secret) => {
    const tr = row([secret.secretName, secret.lifecycleState, secret.currentVersionNumber,
      when(secret.timeCreated), when(secret.timeOfDeletion), secret.id], { 5: "ocid" });
    tr.className = "clickable" + (secret.id === state.secretId ? " selected" : "");
    tr.dataset.secretId = secret.id;
    tr.addEventListener("click", () => selectSecret(secret.id).catch(showError));
    return tr;
  }));
}

async function selectSecret(id) {
  state.secretId = id;
  for (const tr of $("secrets").tBodies[0].rows) {
    tr.classList.toggle("selected", tr.dataset.secretId === id);
  }
  const v = await getJson(`/_emulator/inventory/secrets/${encodeURIComponent(id)}/versions`);
  $("secret-name").textContent = v.secret.secretName;
  fill("versions", v.items.map((version) => {
    const stages = document.createElement("span");
    for (const s of version.stages) {
      const b = document.createElement("span");
      b.className = `stage ${s}`;
      b.textContent = s;
      stages.append(b);
    }
    const tr = row([version.versionNumber, version.name, stages, when(version.timeCreated)]);
    tr.dataset.version = String(version.versionNumber);
    return tr;
  }));
  $("secret-detail").hidden = false;
}

async function loadRequests() {
  const r = await getJson("/_emulator/requests");
  $("requests-note").textContent = `(last ${r.items.length} of at most ${r.capacity})`;
  fill("requests", r.items.map((q) => {
    const faults = [...q.faults, ...q.rateLimited.map((l) => `${l} (rate limit)`)].join(", ");
    const tr = row([when(q.time), q.method, q.operation || q.path, q.principal, q.status, q.code,
      q.decision || "–", faults, (q.elapsedMicros / 1000).toFixed(1)], { 6: q.decision || "" });
    if (q.decision) {
      tr.className = "clickable";
      tr.title = "Show why IAM decided so";
      tr.addEventListener("click", () => showDecision(q.requestId).catch(showError));
    }
    return tr;
  }));
}

async function showDecision(requestId) {
  const d = await getJson(`/_emulator/decisions/${encodeURIComponent(requestId)}`);
  $("decision-id").textContent = requestId;
  $("explanation").textContent = JSON.stringify(d, null, 2);
  $("decision").hidden = false;
}

async function loadFaults() {
  const f = await getJson("/_emulator/faults");
  const summary = (spec) => {
    const rest = { ...spec };
    delete rest.id; delete rest.matched; delete rest.fired;
    return JSON.stringify(rest);
  };
  fill("faults", [
    ...f.rules.map((r) => row(["rule", r.id, summary(r), r.matched, r.fired])),
    ...f.rateLimits.map((l) => row(["rate limit", l.id, summary(l), "", l.fired])),
  ]);
}

async function refresh() {
  const [vaults] = await Promise.all([loadVaults(), loadClock(), loadRequests(), loadFaults()]);
  if (state.vaultId === null && vaults.length > 0) {
    await selectVault(vaults[0].id, vaults[0].displayName);
  } else if (state.vaultId !== null) {
    await loadSecrets();
  }
}

async function advance() {
  const seconds = Number.parseInt($("advance-seconds").value, 10);
  if (!Number.isFinite(seconds)) throw new Error("advance by: a whole number of seconds");
  await getJson("/_emulator/time", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  await Promise.all([loadClock(), loadVaults(), state.vaultId ? loadSecrets() : null]);
}

let filterTimer = null;
function wire() {
  $("advance").addEventListener("click", () => advance().catch(showError));
  $("refresh").addEventListener("click", () => refresh().catch(showError));
  $("secrets-prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE);
    loadSecrets().catch(showError);
  });
  $("secrets-next").addEventListener("click", () => {
    state.offset += PAGE;
    loadSecrets().catch(showError);
  });
  $("secret-filter").addEventListener("input", (e) => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      state.filter = e.target.value;
      state.offset = 0;
      loadSecrets().catch(showError);
    }, 200);
  });
}

// The first render is marked "console-ready" (Performance API) and on
// <body data-ready>, so a test can measure and wait for it.
wire();
refresh()
  .catch(showError)
  .finally(() => {
    performance.mark("console-ready");
    document.body.dataset.ready = "1";
  });
