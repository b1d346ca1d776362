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

const crypto = require("node:crypto");

const common = require("oci-common");
const keymanagement = require("oci-keymanagement");
const vault = require("oci-vault");
const secrets = require("oci-secrets");

const emulator = require("../../node-emulator.js");

const { REPO_ROOT } = emulator;
const start = () => emulator.start("ts");
// The "apps" compartment of fixtures/tenancy.json; every resource is made there.
const COMPARTMENT_ID = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";
// Relative to the repository root: the profiles' key_file entries are too.
const CONFIG_FILE = "fixtures/oci/config";

// The SDK's circuit breaker is shared by the clients of a process: off, so an
// expected error never makes a later call fail without being sent.
common.CircuitBreaker.EnableGlobalCircuitBreaker = false;
process.chdir(REPO_ROOT);

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
