package emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.oracle.bmc.auth.AuthenticationDetailsProvider;
import com.oracle.bmc.keymanagement.KmsCryptoClient;
import com.oracle.bmc.keymanagement.KmsManagementClient;
import com.oracle.bmc.keymanagement.KmsVaultClient;
import com.oracle.bmc.keymanagement.model.CreateKeyDetails;
import com.oracle.bmc.keymanagement.model.CreateVaultDetails;
import com.oracle.bmc.keymanagement.model.DecryptDataDetails;
import com.oracle.bmc.keymanagement.model.DecryptedData;
import com.oracle.bmc.keymanagement.model.EncryptDataDetails;
import com.oracle.bmc.keymanagement.model.EncryptedData;
import com.oracle.bmc.keymanagement.model.GenerateKeyDetails;
import com.oracle.bmc.keymanagement.model.GeneratedKey;
import com.oracle.bmc.keymanagement.model.Key;
import com.oracle.bmc.keymanagement.model.KeyShape;
import com.oracle.bmc.keymanagement.model.Vault;
import com.oracle.bmc.keymanagement.requests.CreateKeyRequest;
import com.oracle.bmc.keymanagement.requests.CreateVaultRequest;
import com.oracle.bmc.keymanagement.requests.DecryptRequest;
import com.oracle.bmc.keymanagement.requests.EncryptRequest;
import com.oracle.bmc.keymanagement.requests.GenerateDataEncryptionKeyRequest;
import com.oracle.bmc.keymanagement.requests.GetVaultRequest;
import com.oracle.bmc.keymanagement.responses.GetVaultResponse;
import com.oracle.bmc.model.BmcException;
import com.oracle.bmc.retrier.DefaultRetryCondition;
import com.oracle.bmc.retrier.RetryConfiguration;
import com.oracle.bmc.secrets.SecretsClient;
import com.oracle.bmc.secrets.model.Base64SecretBundleContentDetails;
import com.oracle.bmc.secrets.model.SecretBundle;
import com.oracle.bmc.secrets.requests.GetSecretBundleByNameRequest;
import com.oracle.bmc.secrets.requests.GetSecretBundleRequest;
import com.oracle.bmc.vault.VaultsClient;
import com.oracle.bmc.vault.model.Base64SecretContentDetails;
import com.oracle.bmc.vault.model.CreateSecretDetails;
import com.oracle.bmc.vault.model.Secret;
import com.oracle.bmc.vault.model.UpdateSecretDetails;
import com.oracle.bmc.vault.requests.CreateSecretRequest;
import com.oracle.bmc.vault.requests.ListSecretVersionsRequest;
import com.oracle.bmc.vault.requests.UpdateSecretRequest;
import com.oracle.bmc.waiter.FixedTimeDelayStrategy;
import com.oracle.bmc.waiter.MaxAttemptsTerminationStrategy;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The flows of the real OCI Java SDK against the emulator: vault, key, crypto, secret
 * versions and bundles, an IAM denial and an injected 429 the SDK's retrier rides through.
 *
 * <p>Key and crypto clients are built with {@code .vault(vault)}, i.e. on the vault's
 * path-style managementEndpoint / cryptoEndpoint ({@code http://H:P/kms/<vault-key>/management}):
 * the Java SDK keeps an endpoint's path and appends the API path to it.
 */
class FlowsTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder UNB64 = Base64.getDecoder();

    private static Emulator emu;
    private static Clients admin;
    private static Clients reader;

    /** The regional clients of one profile, and the per-vault ones made on demand. */
    static final class Clients implements AutoCloseable {
        final AuthenticationDetailsProvider provider;
        final KmsVaultClient kms;
        final VaultsClient vaults;
        final SecretsClient secrets;
        private final List<AutoCloseable> perVault = new java.util.ArrayList<>();

        Clients(String profile) {
            provider = Emulator.provider(profile);
            kms = KmsVaultClient.builder().endpoint(emu.baseUrl).configuration(Emulator.noRetry()).build(provider);
            vaults = VaultsClient.builder().endpoint(emu.baseUrl).configuration(Emulator.noRetry()).build(provider);
            secrets = SecretsClient.builder().endpoint(emu.baseUrl).configuration(Emulator.noRetry()).build(provider);
        }

        KmsManagementClient management(Vault v) {
            KmsManagementClient c = KmsManagementClient.builder().vault(v).configuration(Emulator.noRetry()).build(provider);
            perVault.add(c);
            return c;
        }

        KmsCryptoClient crypto(Vault v) {
            KmsCryptoClient c = KmsCryptoClient.builder().vault(v).configuration(Emulator.noRetry()).build(provider);
            perVault.add(c);
            return c;
        }

        @Override
        public void close() throws Exception {
            kms.close();
            vaults.close();
            secrets.close();
            for (AutoCloseable c : perVault) {
                c.close();
            }
        }
    }

    @BeforeAll
    static void clients() {
        emu = Emulator.get();
        admin = new Clients("DEFAULT");
        reader = new Clients("APPREADER");
    }

    @AfterAll
    static void closeClients() throws Exception {
        admin.close();
        reader.close();
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    static Vault makeVault() {
        return admin.kms.createVault(CreateVaultRequest.builder()
                        .createVaultDetails(CreateVaultDetails.builder()
                                .compartmentId(Emulator.COMPARTMENT_ID)
                                .displayName(Emulator.unique("vault"))
                                .vaultType(CreateVaultDetails.VaultType.Default)
                                .build())
                        .build())
                .getVault();
    }

    static Key makeKey(Vault v) {
        return admin.management(v).createKey(CreateKeyRequest.builder()
                        .createKeyDetails(CreateKeyDetails.builder()
                                .compartmentId(Emulator.COMPARTMENT_ID)
                                .displayName(Emulator.unique("key"))
                                .keyShape(KeyShape.builder().algorithm(KeyShape.Algorithm.Aes).length(32).build())
                                .build())
                        .build())
                .getKey();
    }

    static Secret makeSecret(Vault v, Key k, String name, byte[] content, String versionName) {
        return admin.vaults.createSecret(CreateSecretRequest.builder()
                        .createSecretDetails(CreateSecretDetails.builder()
                                .compartmentId(Emulator.COMPARTMENT_ID)
                                .vaultId(v.getId())
                                .keyId(k.getId())
                                .secretName(name)
                                .secretContent(Base64SecretContentDetails.builder()
                                        .content(B64.encodeToString(content))
                                        .name(versionName)
                                        .build())
                                .build())
                        .build())
                .getSecret();
    }

    /** The bundle's BASE64 content, decoded (never printed). */
    static byte[] content(SecretBundle b) {
        assertTrue(b.getSecretBundleContent() instanceof Base64SecretBundleContentDetails,
                "secretBundleContent is " + b.getSecretBundleContent());
        return UNB64.decode(((Base64SecretBundleContentDetails) b.getSecretBundleContent()).getContent());
    }

    static String stages(SecretBundle b) {
        return b.getStages().stream().map(SecretBundle.Stages::getValue).collect(Collectors.joining(","));
    }

    /** Secret content and key material are compared, never printed (assertArrayEquals would). */
    static void assertSameBytes(byte[] expected, byte[] actual) {
        assertSameBytes(expected, actual, "bytes differ");
    }

    static void assertSameBytes(byte[] expected, byte[] actual, String message) {
        assertTrue(java.util.Arrays.equals(expected, actual), message);
    }

    /** The call fails with exactly this status and code, a message and an opc-request-id. */
    static BmcException expectServiceError(int status, String code, Executable call) {
        BmcException e = assertThrows(BmcException.class, call);
        assertEquals(status + " " + code, e.getStatusCode() + " " + e.getServiceCode(), e.getMessage());
        assertFalse(e.isClientSide(), "a client-side error, not a service answer");
        assertNotNull(e.getOpcRequestId(), "error response has no opc-request-id");
        return e;
    }

    @Test
    void vaultKeyEncryptDecrypt() {
        Vault v = makeVault();
        assertEquals(Vault.LifecycleState.Active, v.getLifecycleState());
        assertEquals(Vault.VaultType.Default, v.getVaultType());
        assertEquals(Emulator.COMPARTMENT_ID, v.getCompartmentId());
        assertTrue(v.getId().startsWith("ocid1.vault.oc1.iad."), v.getId());
        assertTrue(v.getManagementEndpoint().startsWith(emu.baseUrl + "/kms/"), v.getManagementEndpoint());
        assertTrue(v.getCryptoEndpoint().endsWith("/crypto"), v.getCryptoEndpoint());

        GetVaultResponse got = admin.kms.getVault(GetVaultRequest.builder().vaultId(v.getId()).build());
        assertEquals(v.getDisplayName(), got.getVault().getDisplayName());
        assertNotNull(got.getEtag(), "GetVault has no etag header");

        Key k = makeKey(v);
        assertEquals(Key.LifecycleState.Enabled, k.getLifecycleState());
        assertEquals(v.getId(), k.getVaultId());
        assertEquals(KeyShape.Algorithm.Aes, k.getKeyShape().getAlgorithm());
        assertEquals(32, k.getKeyShape().getLength());
        assertTrue(k.getId().startsWith("ocid1.key.oc1.iad."), k.getId());
        assertTrue(k.getCurrentKeyVersion().startsWith("ocid1.keyversion.oc1.iad."), k.getCurrentKeyVersion());
        // A key made without protectionMode is HSM-protected (CreateKeyDetails: "the default is HSM").
        assertEquals(Key.ProtectionMode.Hsm, k.getProtectionMode());

        KmsCryptoClient crypto = admin.crypto(v);
        byte[] plaintext = "hello from the Java SDK".getBytes(StandardCharsets.UTF_8);
        Map<String, String> aad = Map.of("app", "java");
        EncryptedData enc = crypto.encrypt(EncryptRequest.builder()
                        .encryptDataDetails(EncryptDataDetails.builder()
                                .keyId(k.getId())
                                .plaintext(B64.encodeToString(plaintext))
                                .associatedData(aad)
                                .build())
                        .build())
                .getEncryptedData();
        assertEquals(k.getId(), enc.getKeyId());
        assertEquals(k.getCurrentKeyVersion(), enc.getKeyVersionId());
        assertEquals(EncryptedData.EncryptionAlgorithm.Aes256Gcm, enc.getEncryptionAlgorithm());
        UNB64.decode(enc.getCiphertext()); // base64 on the wire

        DecryptedData dec = crypto.decrypt(DecryptRequest.builder()
                        .decryptDataDetails(DecryptDataDetails.builder()
                                .keyId(k.getId())
                                .ciphertext(enc.getCiphertext())
                                .associatedData(aad)
                                .build())
                        .build())
                .getDecryptedData();
        assertSameBytes(plaintext, UNB64.decode(dec.getPlaintext()), "decrypted bytes differ");
        assertEquals(k.getId(), dec.getKeyId());
        assertEquals(k.getCurrentKeyVersion(), dec.getKeyVersionId());
        assertNotNull(dec.getPlaintextChecksum());

        // Other associated data: the tag does not verify, 400 InvalidParameter.
        expectServiceError(400, "InvalidParameter", () -> crypto.decrypt(DecryptRequest.builder()
                .decryptDataDetails(DecryptDataDetails.builder()
                        .keyId(k.getId())
                        .ciphertext(enc.getCiphertext())
                        .associatedData(Map.of("app", "other"))
                        .build())
                .build()));

        GeneratedKey dek = crypto.generateDataEncryptionKey(GenerateDataEncryptionKeyRequest.builder()
                        .generateKeyDetails(GenerateKeyDetails.builder()
                                .keyId(k.getId())
                                .includePlaintextKey(true)
                                .keyShape(KeyShape.builder().algorithm(KeyShape.Algorithm.Aes).length(32).build())
                                .build())
                        .build())
                .getGeneratedKey();
        assertEquals(32, UNB64.decode(dek.getPlaintext()).length);
        DecryptedData unwrapped = crypto.decrypt(DecryptRequest.builder()
                        .decryptDataDetails(DecryptDataDetails.builder()
                                .keyId(k.getId()).ciphertext(dek.getCiphertext()).build())
                        .build())
                .getDecryptedData();
        assertTrue(dek.getPlaintext().equals(unwrapped.getPlaintext()),
                "Decrypt of the wrapped data key is not the generated plaintext key");
    }

    @Test
    void secretVersionsAndBundles() {
        Vault v = makeVault();
        Key k = makeKey(v);
        String name = Emulator.unique("secret");
        byte[] first = random(24);
        Secret s = makeSecret(v, k, name, first, "v1");
        assertEquals(Secret.LifecycleState.Active, s.getLifecycleState());
        assertEquals(name, s.getSecretName());
        assertEquals(v.getId(), s.getVaultId());
        assertEquals(k.getId(), s.getKeyId());
        assertEquals(1L, s.getCurrentVersionNumber());
        assertTrue(s.getId().startsWith("ocid1.vaultsecret.oc1.iad."), s.getId());

        byte[] second = random(24);
        Secret updated = admin.vaults.updateSecret(UpdateSecretRequest.builder()
                        .secretId(s.getId())
                        .updateSecretDetails(UpdateSecretDetails.builder()
                                .secretContent(Base64SecretContentDetails.builder()
                                        .content(B64.encodeToString(second)).build())
                                .build())
                        .build())
                .getSecret();
        assertEquals(2L, updated.getCurrentVersionNumber());

        SecretBundle cur = admin.secrets.getSecretBundle(GetSecretBundleRequest.builder()
                        .secretId(s.getId()).stage(GetSecretBundleRequest.Stage.Current).build())
                .getSecretBundle();
        assertEquals(2L, cur.getVersionNumber());
        assertEquals(s.getId(), cur.getSecretId());
        assertEquals("CURRENT,LATEST", stages(cur));
        assertSameBytes(second, content(cur), "CURRENT bundle is not the updated content");

        SecretBundle prev = admin.secrets.getSecretBundle(GetSecretBundleRequest.builder()
                        .secretId(s.getId()).stage(GetSecretBundleRequest.Stage.Previous).build())
                .getSecretBundle();
        assertEquals(1L, prev.getVersionNumber());
        assertEquals("v1", prev.getVersionName());
        assertEquals("PREVIOUS", stages(prev));
        assertSameBytes(first, content(prev), "PREVIOUS bundle is not the first content");

        SecretBundle byVersionName = admin.secrets.getSecretBundle(GetSecretBundleRequest.builder()
                        .secretId(s.getId()).secretVersionName("v1").build())
                .getSecretBundle();
        assertEquals(1L, byVersionName.getVersionNumber());

        SecretBundle byName = admin.secrets.getSecretBundleByName(GetSecretBundleByNameRequest.builder()
                        .secretName(name).vaultId(v.getId()).build())
                .getSecretBundle();
        assertEquals(s.getId(), byName.getSecretId());
        assertEquals(2L, byName.getVersionNumber());
        assertSameBytes(second, content(byName));

        SecretBundle byNamePrev = admin.secrets.getSecretBundleByName(GetSecretBundleByNameRequest.builder()
                        .secretName(name).vaultId(v.getId()).stage(GetSecretBundleByNameRequest.Stage.Previous).build())
                .getSecretBundle();
        assertEquals(1L, byNamePrev.getVersionNumber());

        assertEquals(2, admin.vaults.listSecretVersions(ListSecretVersionsRequest.builder()
                        .secretId(s.getId()).build())
                .getItems().size());
    }

    /**
     * app-reader may read bundles of secrets named app-* only (fixtures/tenancy.json): any
     * other secret answers exactly what a missing one does, 404 NotAuthorizedOrNotFound.
     */
    @Test
    void denialIsNotAuthorizedOrNotFound() {
        Vault v = makeVault();
        Key k = makeKey(v);
        byte[] content = random(16);
        Secret allowed = makeSecret(v, k, "app-" + Emulator.unique("ok"), content, null);
        Secret denied = makeSecret(v, k, Emulator.unique("db"), random(16), null);

        SecretBundle ok = reader.secrets.getSecretBundle(GetSecretBundleRequest.builder()
                        .secretId(allowed.getId()).build())
                .getSecretBundle();
        assertSameBytes(content, content(ok));

        BmcException e = expectServiceError(404, "NotAuthorizedOrNotFound", () -> reader.secrets.getSecretBundle(
                GetSecretBundleRequest.builder().secretId(denied.getId()).build()));
        JsonNode why = emu.admin("GET", "/_emulator/decisions/" + e.getOpcRequestId(), null);
        assertTrue(why.path("summary").asText().contains("app-reader"), why.toString());
    }

    /**
     * Two injected 429s on GetSecretBundle: the SDK's own retry condition (DefaultRetryCondition:
     * 429 is retryable) rides through them, with a short fixed delay instead of the default backoff.
     */
    @Test
    void injected429IsRetriedBySdkRetrier() {
        Vault v = makeVault();
        Key k = makeKey(v);
        byte[] content = random(16);
        Secret s = makeSecret(v, k, Emulator.unique("throttled"), content, null);
        String rule = Emulator.unique("throttle");
        emu.admin("POST", "/_emulator/faults", Map.of(
                "id", rule,
                "match", Map.of("operations", List.of("GetSecretBundle"), "resourceId", s.getId()),
                "action", Map.of("error", Map.of("status", 429)),
                "schedule", Map.of("firstN", 2)));
        try {
            // Without retries the first call surfaces the fault as OCI's 429.
            expectServiceError(429, "TooManyRequests", () -> admin.secrets.getSecretBundle(
                    GetSecretBundleRequest.builder().secretId(s.getId()).build()));

            RetryConfiguration retry = RetryConfiguration.builder()
                    .retryCondition(new DefaultRetryCondition())
                    .terminationStrategy(new MaxAttemptsTerminationStrategy(5))
                    .delayStrategy(new FixedTimeDelayStrategy(20))
                    .build();
            SecretBundle b = admin.secrets.getSecretBundle(GetSecretBundleRequest.builder()
                            .secretId(s.getId()).retryConfiguration(retry).build())
                    .getSecretBundle();
            assertSameBytes(content, content(b));

            JsonNode found = null;
            for (JsonNode r : emu.admin("GET", "/_emulator/faults", null).path("rules")) {
                if (rule.equals(r.path("id").asText())) {
                    found = r;
                }
            }
            assertNotNull(found, "rule not in GET /_emulator/faults");
            assertEquals(2, found.path("fired").asInt(), found.toString());
            assertEquals(3, found.path("matched").asInt(), found.toString());
        } finally {
            emu.admin("DELETE", "/_emulator/faults/" + rule, null);
        }
    }
}
