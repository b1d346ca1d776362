// The flows of the real OCI TypeScript SDK (oci-keymanagement, oci-vault,
// oci-secrets) against the emulator: vault, key, crypto, secret versions and
// bundles, an IAM denial and an injected 429 the SDK's retrier rides through.
"use strict";

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const { after, before, test } = require("node:test");

const common = require("oci-common");
const keymanagement = require("oci-keymanagement");
const secrets = require("oci-secrets");

const { COMPARTMENT_ID, admin, clients, start, unique } = require("./support");

let emu;
let adm;
let reader;

before(async () => {
  emu = await start();
  adm = clients(emu, "DEFAULT");
  reader = clients(emu, "APPREADER");
});

after(async () => {
  if (emu) await emu.stop();
});

const b64 = (buf) => Buffer.from(buf).toString("base64");
const unb64 = (text) => Buffer.from(text, "base64");

async function makeVault() {
  const r = await adm.kms.createVault({
    createVaultDetails: {
      compartmentId: COMPARTMENT_ID,
      displayName: unique("vault"),
      vaultType: keymanagement.models.CreateVaultDetails.VaultType.Default,
    },
  });
  return r.vault;
}

async function makeKey(v) {
  const r = await adm.management(v).createKey({
    createKeyDetails: {
      compartmentId: COMPARTMENT_ID,
      displayName: unique("key"),
      keyShape: { algorithm: keymanagement.models.KeyShape.Algorithm.Aes, length: 32 },
    },
  });
  return r.key;
}

async function makeSecret(v, k, name, content, versionName) {
  const secretContent = { contentType: "BASE64", content: b64(content) };
  if (versionName) secretContent.name = versionName;
  const r = await adm.vaults.createSecret({
    createSecretDetails: {
      compartmentId: COMPARTMENT_ID,
      vaultId: v.id,
      keyId: k.id,
      secretName: name,
      secretContent,
    },
  });
  return r.secret;
}

// The bundle's BASE64 content, decoded (never printed).
function content(bundle) {
  assert.equal(bundle.secretBundleContent.contentType, "BASE64");
  return unb64(bundle.secretBundleContent.content);
}

// The call rejects with exactly this status and code, a message and an opc-request-id.
async function expectServiceError(status, code, promise) {
  let err;
  await assert.rejects(promise, (e) => {
    err = e;
    return true;
  });
  assert.ok(err instanceof common.OciError, `not an OciError: ${err}`);
  assert.deepEqual([err.statusCode, err.serviceCode], [status, code], err.message);
  assert.ok(err.message, "error body has no message");
  assert.ok(err.opcRequestId, "error response has no opc-request-id");
  return err;
}

test("vault, key, encrypt and decrypt", async () => {
  const v = await makeVault();
  assert.equal(v.lifecycleState, "ACTIVE");
  assert.equal(v.vaultType, "DEFAULT");
  assert.equal(v.compartmentId, COMPARTMENT_ID);
  assert.match(v.id, /^ocid1\.vault\.oc1\.iad\./);
  assert.ok(v.managementEndpoint.startsWith(`${emu.baseUrl}/kms/`), v.managementEndpoint);
  assert.ok(v.cryptoEndpoint.endsWith("/crypto"), v.cryptoEndpoint);

  const got = await adm.kms.getVault({ vaultId: v.id });
  assert.equal(got.vault.displayName, v.displayName);
  assert.ok(got.etag, "GetVault has no etag header");

  const k = await makeKey(v);
  assert.equal(k.lifecycleState, "ENABLED");
  assert.equal(k.vaultId, v.id);
  assert.deepEqual([k.keyShape.algorithm, k.keyShape.length], ["AES", 32]);
  assert.match(k.id, /^ocid1\.key\.oc1\.iad\./);
  assert.match(k.currentKeyVersion, /^ocid1\.keyversion\.oc1\.iad\./);

  const cryptoClient = adm.crypto(v);
  const plaintext = Buffer.from("hello from the TypeScript SDK");
  const aad = { app: "typescript" };
  const enc = (await cryptoClient.encrypt({
    encryptDataDetails: { keyId: k.id, plaintext: b64(plaintext), associatedData: aad },
  })).encryptedData;
  assert.equal(enc.keyId, k.id);
  assert.equal(enc.keyVersionId, k.currentKeyVersion);
  assert.equal(enc.encryptionAlgorithm, "AES_256_GCM");

  const dec = (await cryptoClient.decrypt({
    decryptDataDetails: { keyId: k.id, ciphertext: enc.ciphertext, associatedData: aad },
  })).decryptedData;
  assert.ok(unb64(dec.plaintext).equals(plaintext), "decrypted bytes differ");
  assert.equal(dec.keyId, k.id);
  assert.equal(dec.keyVersionId, k.currentKeyVersion);
  assert.ok(dec.plaintextChecksum);

  // Other associated data: the tag does not verify, 400 InvalidParameter.
  await expectServiceError(400, "InvalidParameter", cryptoClient.decrypt({
    decryptDataDetails: { keyId: k.id, ciphertext: enc.ciphertext, associatedData: { app: "other" } },
  }));

  const dek = (await cryptoClient.generateDataEncryptionKey({
    generateKeyDetails: {
      keyId: k.id,
      includePlaintextKey: true,
      keyShape: { algorithm: keymanagement.models.KeyShape.Algorithm.Aes, length: 32 },
    },
  })).generatedKey;
  assert.equal(unb64(dek.plaintext).length, 32);
  const unwrapped = (await cryptoClient.decrypt({
    decryptDataDetails: { keyId: k.id, ciphertext: dek.ciphertext },
  })).decryptedData;
  // Key material: compared, never printed.
  assert.ok(unwrapped.plaintext === dek.plaintext, "Decrypt of the wrapped data key is not the generated plaintext key");
});

test("secret versions and bundles by stage and by name", async () => {
  const v = await makeVault();
  const k = await makeKey(v);
  const name = unique("secret");
  const first = crypto.randomBytes(24);
  const s = await makeSecret(v, k, name, first, "v1");
  assert.equal(s.lifecycleState, "ACTIVE");
  assert.equal(s.secretName, name);
  assert.equal(s.vaultId, v.id);
  assert.equal(s.keyId, k.id);
  assert.equal(s.currentVersionNumber, 1);
  assert.match(s.id, /^ocid1\.vaultsecret\.oc1\.iad\./);

  const second = crypto.randomBytes(24);
  const updated = (await adm.vaults.updateSecret({
    secretId: s.id,
    updateSecretDetails: { secretContent: { contentType: "BASE64", content: b64(second) } },
  })).secret;
  assert.equal(updated.currentVersionNumber, 2);

  const Stage = secrets.requests.GetSecretBundleRequest.Stage;
  const cur = (await adm.secrets.getSecretBundle({ secretId: s.id, stage: Stage.Current })).secretBundle;
  assert.equal(cur.versionNumber, 2);
  assert.equal(cur.secretId, s.id);
  assert.deepEqual(cur.stages, ["CURRENT", "LATEST"]);
  assert.ok(content(cur).equals(second), "CURRENT bundle is not the updated content");

  const prev = (await adm.secrets.getSecretBundle({ secretId: s.id, stage: Stage.Previous })).secretBundle;
  assert.equal(prev.versionNumber, 1);
  assert.equal(prev.versionName, "v1");
  assert.deepEqual(prev.stages, ["PREVIOUS"]);
  assert.ok(content(prev).equals(first), "PREVIOUS bundle is not the first content");

  const byVersionName = (await adm.secrets.getSecretBundle({ secretId: s.id, secretVersionName: "v1" })).secretBundle;
  assert.equal(byVersionName.versionNumber, 1);

  const byName = (await adm.secrets.getSecretBundleByName({ secretName: name, vaultId: v.id })).secretBundle;
  assert.equal(byName.secretId, s.id);
  assert.equal(byName.versionNumber, 2);
  assert.ok(content(byName).equals(second));

  const byNamePrev = (await adm.secrets.getSecretBundleByName({
    secretName: name,
    vaultId: v.id,
    stage: secrets.requests.GetSecretBundleByNameRequest.Stage.Previous,
  })).secretBundle;
  assert.equal(byNamePrev.versionNumber, 1);

  const versions = await adm.vaults.listSecretVersions({ secretId: s.id });
  assert.equal(versions.items.length, 2);
});

// app-reader may read bundles of secrets named app-* only (fixtures/tenancy.json): any
// other secret answers exactly what a missing one does, 404 NotAuthorizedOrNotFound.
test("a denial is 404 NotAuthorizedOrNotFound", async () => {
  const v = await makeVault();
  const k = await makeKey(v);
  const body = crypto.randomBytes(16);
  const allowed = await makeSecret(v, k, "app-" + unique("ok"), body);
  const denied = await makeSecret(v, k, unique("db"), crypto.randomBytes(16));

  const ok = (await reader.secrets.getSecretBundle({ secretId: allowed.id })).secretBundle;
  assert.ok(content(ok).equals(body));

  const err = await expectServiceError(404, "NotAuthorizedOrNotFound",
    reader.secrets.getSecretBundle({ secretId: denied.id }));
  const why = await admin(emu, "GET", `/_emulator/decisions/${err.opcRequestId}`);
  assert.match(why.summary, /app-reader/);
});

// Two injected 429s on GetSecretBundle: the SDK's own retry condition
// (DefaultRetryCondition: 429 is retryable) rides through them, with a short
// fixed delay instead of the default backoff.
test("an injected 429 is retried by the SDK's retrier", async () => {
  const v = await makeVault();
  const k = await makeKey(v);
  const body = crypto.randomBytes(16);
  const s = await makeSecret(v, k, unique("throttled"), body);
  const rule = unique("throttle");
  await admin(emu, "POST", "/_emulator/faults", {
    id: rule,
    match: { operations: ["GetSecretBundle"], resourceId: s.id },
    action: { error: { status: 429 } },
    schedule: { firstN: 2 },
  });
  try {
    // Without retries the first call surfaces the fault as OCI's 429.
    await expectServiceError(429, "TooManyRequests", adm.secrets.getSecretBundle({ secretId: s.id }));

    const retryConfiguration = {
      retryCondition: (e) => common.DefaultRetryCondition.shouldBeRetried(e),
      terminationStrategy: new common.MaxAttemptsTerminationStrategy(5),
      delayStrategy: new common.FixedTimeDelayStrategy(0.02),
    };
    const b = (await adm.secrets.getSecretBundle({ secretId: s.id, retryConfiguration })).secretBundle;
    assert.ok(content(b).equals(body));

    const view = await admin(emu, "GET", "/_emulator/faults");
    const r = view.rules.find((x) => x.id === rule);
    assert.ok(r, "rule not in GET /_emulator/faults");
    assert.deepEqual({ fired: r.fired, matched: r.matched }, { fired: 2, matched: 3 });
  } finally {
    await admin(emu, "DELETE", `/_emulator/faults/${rule}`);
  }
});
