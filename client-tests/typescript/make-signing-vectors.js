#!/usr/bin/env node
// Writes the TypeScript SDK's known-answer signing vectors into fixtures/signing/
// (typescript_*.json), in the shape make_vectors.py documents.
//
// The real clients (oci-secrets SecretsClient, oci-vault VaultsClient) build each
// request exactly as they would for the emulator at http://127.0.0.1:4585; a
// capturing httpClient (the clients take one in their constructor params) pins
// the `x-date` and `date` headers the signer would otherwise fill with the wall clock, runs
// the SDK's own DefaultRequestSigner on it exactly as FetchHttpClient.send does,
// records what would have been sent, and answers 200 {} instead of sending it.
// Fixed dates and request ids make the output identical on every run (RSA
// PKCS#1 v1.5 signatures are deterministic).
//
// Usage (from client-tests/typescript, after npm ci): node make-signing-vectors.js
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const common = require("oci-common");
const secrets = require("oci-secrets");
const vault = require("oci-vault");
const { getSignerAndReqBody } = require("oci-common/lib/helper");

const REPO = path.resolve(__dirname, "..", "..");
const OUT = path.join(REPO, "fixtures", "signing");
const ENDPOINT = "http://127.0.0.1:4585";
const VERSION = require("oci-common/package.json").version;
// The same instant and requests as make_vectors.py: Sun, 29 Nov 2026 14:20:22 GMT.
const T0 = Date.UTC(2026, 10, 29, 14, 20, 22) / 1000;
const COMPARTMENT_ID = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";

common.CircuitBreaker.EnableGlobalCircuitBreaker = false;
process.chdir(REPO); // key_file in fixtures/oci/config is relative to the repository root

class CapturingHttpClient {
  constructor(signer) {
    this.signer = signer;
    this.date = null;
    this.captured = null;
  }

  async send(req, forceExcludeBody = false) {
    req.headers.set("x-date", this.date);
    // http-signature (which the SDK's signer calls) adds an unsigned `date` header
    // with the wall clock when there is none; pin it to the same instant.
    req.headers.set("date", this.date);
    const body = getSignerAndReqBody(req.body, forceExcludeBody);
    await this.signer.signHttpRequest(
      { method: req.method, headers: req.headers, uri: req.uri, body: body.signerBody },
      forceExcludeBody
    );
    const url = new URL(req.uri);
    this.captured = {
      method: req.method,
      path_and_query: url.pathname + url.search,
      headers: [...req.headers.entries()],
      body: typeof body.requestBody === "string" ? body.requestBody : "",
    };
    return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  }
}

function capturingClient(Ctor) {
  const provider = new common.ConfigFileAuthenticationDetailsProvider("fixtures/oci/config", "DEFAULT");
  const http = new CapturingHttpClient(new common.DefaultRequestSigner(provider));
  const client = new Ctor(
    { authenticationDetailsProvider: provider, httpClient: http },
    { retryConfiguration: common.NoRetryConfigurationDetails }
  );
  client.endpoint = ENDPOINT;
  return { client, http };
}

async function vector(pair, name, description, unix, call) {
  pair.http.date = new Date(unix * 1000).toUTCString();
  await call(pair.client);
  const c = pair.http.captured;
  return {
    name,
    description,
    source: `oci-common ${VERSION} (TypeScript SDK), DefaultRequestSigner via ${pair.client.constructor.name}`,
    method: c.method,
    path_and_query: c.path_and_query,
    headers: c.headers,
    body: c.body,
    now_unix: unix,
    now: new Date(unix * 1000).toUTCString(),
  };
}

async function main() {
  const sec = capturingClient(secrets.SecretsClient);
  const vlt = capturingClient(vault.VaultsClient);
  const vectors = [
    await vector(sec, "typescript_get_query", "GetSecretBundle with a query string: signs x-date (request-target) host",
      T0 + 10, (c) => c.getSecretBundle({
        secretId: "ocid1.vaultsecret.oc1.iad.x",
        stage: secrets.requests.GetSecretBundleRequest.Stage.Current,
        versionNumber: 2,
        opcRequestId: "4D5E6F708192A3B4C5D6E7F8091A2B3C",
      })),
    // The name, instant and request of the hand-written vector this one replaces
    // (server/src/auth/signature.rs relies on its x-date being 14:24:26).
    await vector(vlt, "typescript_post_json", "CreateSecret with a JSON body, from the TypeScript SDK: x-date, version first",
      T0 + 244, (c) => c.createSecret({
        createSecretDetails: {
          compartmentId: COMPARTMENT_ID,
          vaultId: "ocid1.vault.oc1.iad.x",
          keyId: "ocid1.key.oc1.iad.x",
          secretName: "db-password",
          secretContent: { contentType: "BASE64", content: "aHVudGVyMg==" },
        },
        opcRequestId: "7B0E2C5D8F6A4B3C9D1E0F2A3B4C5D6E",
        opcRetryToken: "typescript-retry-token-1",
      })),
    await vector(sec, "typescript_post_empty", "GetSecretBundleByName: POST without a body (content-length 0, hash of empty body)",
      T0 + 305, (c) => c.getSecretBundleByName({
        secretName: "a",
        vaultId: "b",
        opcRequestId: "5E6F708192A3B4C5D6E7F8091A2B3C4D",
      })),
    await vector(vlt, "typescript_put_json", "UpdateSecret with a JSON body",
      T0 + 366, (c) => c.updateSecret({
        secretId: "ocid1.vaultsecret.oc1.iad.x",
        updateSecretDetails: {
          description: "rotated by hand",
          secretContent: { contentType: "BASE64", content: "c2VjcmV0" },
        },
        opcRequestId: "6F708192A3B4C5D6E7F8091A2B3C4D5E",
      })),
  ];
  for (const v of vectors) {
    const file = path.join(OUT, `${v.name}.json`);
    fs.writeFileSync(file, JSON.stringify(v, null, 2) + "\n");
    console.error("wrote", path.relative(REPO, file));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
