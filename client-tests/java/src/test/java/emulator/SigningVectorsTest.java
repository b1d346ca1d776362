package emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.oracle.bmc.auth.AuthenticationDetailsProvider;
import com.oracle.bmc.auth.BasicAuthenticationDetailsProvider;
import com.oracle.bmc.http.signing.DefaultRequestSigner;
import com.oracle.bmc.http.signing.RequestSigner;
import com.oracle.bmc.http.signing.RequestSignerFactory;
import com.oracle.bmc.secrets.SecretsClient;
import com.oracle.bmc.secrets.requests.GetSecretBundleByNameRequest;
import com.oracle.bmc.secrets.requests.GetSecretBundleRequest;
import com.oracle.bmc.vault.VaultsClient;
import com.oracle.bmc.vault.model.Base64SecretContentDetails;
import com.oracle.bmc.vault.model.CreateSecretDetails;
import com.oracle.bmc.vault.model.UpdateSecretDetails;
import com.oracle.bmc.vault.requests.CreateSecretRequest;
import com.oracle.bmc.vault.requests.UpdateSecretRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The Java SDK's known-answer signing vectors, fixtures/signing/java_*.json (the shape
 * make_vectors.py documents).
 *
 * <p>The real clients (SecretsClient, VaultsClient) build each request as they would for the
 * emulator at http://127.0.0.1:4585; their {@code requestSignerFactory} hook hands the request
 * to a wrapper that pins the {@code date} header (the signer would fill it with the wall
 * clock), runs the SDK's own {@link DefaultRequestSigner}, records what would be sent and
 * stops the call before anything reaches the network. Fixed dates, request ids and retry
 * tokens make the result the same on every run (RSA PKCS#1 v1.5 is deterministic).
 *
 * <p>The headers are the ones the signer is given and returns (the request as signed);
 * the HTTP layer adds unsigned ones (user-agent, opc-client-info) after signing.
 *
 * <p>As a test it checks that the SDK still signs exactly as the committed files say (every
 * header but the machine-dependent {@code user-agent}); with {@code -Dsigning.vectors.write=true}
 * it rewrites them: {@code mvn -B test -Dtest=SigningVectorsTest -Dsigning.vectors.write=true}.
 */
class SigningVectorsTest {
    private static final String ENDPOINT = "http://127.0.0.1:4585";
    /** The same instant as make_vectors.py: Sun, 29 Nov 2026 14:20:22 GMT. */
    private static final ZonedDateTime T0 = ZonedDateTime.of(2026, 11, 29, 14, 20, 22, 0, ZoneOffset.UTC);
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);
    private static final Path DIR = Path.of("fixtures", "signing");
    /** Laid out like the Python and TypeScript vectors: one value a line, "key": value. */
    private static final DefaultPrettyPrinter PRETTY = new DefaultPrettyPrinter()
            .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE)
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER));

    /** Stops the SDK's call once the request is signed and recorded. */
    static final class Captured extends RuntimeException {
        Captured() {
            super("captured, not sent", null, false, false);
        }
    }

    /** What the wrapper signer saw and made for the last call. */
    static final class Capture implements RequestSignerFactory {
        String date;
        ObjectNode last;

        @Override
        public RequestSigner createRequestSigner(
                com.oracle.bmc.Service service, com.oracle.bmc.auth.AbstractAuthenticationDetailsProvider provider) {
            RequestSigner real = DefaultRequestSigner.createRequestSigner((BasicAuthenticationDetailsProvider) provider);
            return (uri, method, headers, body) -> {
                headers.put("date", List.of(date));
                Map<String, String> signed = real.signRequest(uri, method, headers, body);
                record(uri, method, headers, signed, body);
                throw new Captured();
            };
        }

        private void record(URI uri, String method, Map<String, List<String>> headers, Map<String, String> signed,
                Object body) {
            // What goes on the wire: the SDK's headers with the signer's added or replaced,
            // names as the SDK wrote them, sorted case-insensitively for a stable file.
            TreeMap<String, String> all = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            headers.forEach((k, v) -> all.put(k, String.join(",", v)));
            all.putAll(signed);
            ObjectNode v = Emulator.JSON.createObjectNode();
            v.put("method", method);
            v.put("path_and_query", uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
            ArrayNode hs = v.putArray("headers");
            all.forEach((k, val) -> hs.addArray().add(k).add(val));
            v.put("body", bodyText(body));
            last = v;
        }
    }

    static String bodyText(Object body) {
        if (body == null) {
            return "";
        }
        if (body instanceof String) {
            return (String) body;
        }
        if (body instanceof byte[]) {
            return new String((byte[]) body, StandardCharsets.UTF_8);
        }
        if (body instanceof InputStream) {
            try {
                InputStream in = (InputStream) body;
                in.mark(Integer.MAX_VALUE);
                byte[] raw = in.readAllBytes();
                in.reset();
                return new String(raw, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("body of type " + body.getClass());
    }

    interface Call {
        void run();
    }

    static ObjectNode vector(Capture capture, String name, String description, long offsetSeconds, Call call) {
        ZonedDateTime now = T0.plusSeconds(offsetSeconds);
        capture.date = HTTP_DATE.format(now);
        capture.last = null;
        try {
            call.run();
        } catch (RuntimeException e) {
            if (!(e instanceof Captured) && !(e.getCause() instanceof Captured) && capture.last == null) {
                throw e;
            }
        }
        assertNotNull(capture.last, name + ": nothing was signed");
        ObjectNode v = Emulator.JSON.createObjectNode();
        v.put("name", name);
        v.put("description", description);
        v.put("source", "oci-java-sdk " + System.getProperty("oci.sdk.version", "?")
                + " (Jersey 3 client), DefaultRequestSigner via the service clients");
        v.setAll(capture.last);
        v.put("now_unix", now.toEpochSecond());
        v.put("now", capture.date);
        return v;
    }

    static List<ObjectNode> makeVectors() {
        AuthenticationDetailsProvider provider = Emulator.provider("DEFAULT");
        Capture capture = new Capture();
        List<ObjectNode> out = new ArrayList<>();
        try (SecretsClient sec = SecretsClient.builder().endpoint(ENDPOINT).configuration(Emulator.noRetry())
                        .requestSignerFactory(capture).build(provider);
                VaultsClient vlt = VaultsClient.builder().endpoint(ENDPOINT).configuration(Emulator.noRetry())
                        .requestSignerFactory(capture).build(provider)) {
            out.add(vector(capture, "java_get_query",
                    "GetSecretBundle with a query string: signs date (request-target) host", 30,
                    () -> sec.getSecretBundle(GetSecretBundleRequest.builder()
                            .secretId("ocid1.vaultsecret.oc1.iad.x")
                            .stage(GetSecretBundleRequest.Stage.Current)
                            .versionNumber(2L)
                            .opcRequestId("B4C5D6E7F8091A2B3C4D5E6F708192A3")
                            .build())));
            out.add(vector(capture, "java_post_json",
                    "CreateSecret with a JSON body: signs the three body headers too", 610,
                    () -> vlt.createSecret(CreateSecretRequest.builder()
                            .createSecretDetails(CreateSecretDetails.builder()
                                    .compartmentId(Emulator.COMPARTMENT_ID)
                                    .vaultId("ocid1.vault.oc1.iad.x")
                                    .keyId("ocid1.key.oc1.iad.x")
                                    .secretName("db-password")
                                    .secretContent(Base64SecretContentDetails.builder().content("aHVudGVyMg==").build())
                                    .build())
                            .opcRequestId("C5D6E7F8091A2B3C4D5E6F708192A3B4")
                            .opcRetryToken("java-retry-token-1")
                            .build())));
            out.add(vector(capture, "java_post_empty",
                    "GetSecretBundleByName: POST without a body (content-length 0, hash of empty body)", 671,
                    () -> sec.getSecretBundleByName(GetSecretBundleByNameRequest.builder()
                            .secretName("a")
                            .vaultId("b")
                            .opcRequestId("D6E7F8091A2B3C4D5E6F708192A3B4C5")
                            .build())));
            out.add(vector(capture, "java_put_json", "UpdateSecret with a JSON body", 732,
                    () -> vlt.updateSecret(UpdateSecretRequest.builder()
                            .secretId("ocid1.vaultsecret.oc1.iad.x")
                            .updateSecretDetails(UpdateSecretDetails.builder()
                                    .description("rotated by hand")
                                    .secretContent(Base64SecretContentDetails.builder().content("c2VjcmV0").build())
                                    .build())
                            .opcRequestId("E7F8091A2B3C4D5E6F708192A3B4C5D6")
                            .build())));
        }
        return out;
    }

    /** The vector without its user-agent header, which names the machine's JVM and OS. */
    static JsonNode portable(JsonNode v) {
        // Through text, so that an int read back equals the long written.
        ObjectNode copy;
        try {
            copy = (ObjectNode) Emulator.JSON.readTree(Emulator.JSON.writeValueAsString(v));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        ArrayNode kept = Emulator.JSON.createArrayNode();
        for (JsonNode h : v.path("headers")) {
            if (!h.get(0).asText().equalsIgnoreCase("user-agent")) {
                kept.add(h);
            }
        }
        copy.set("headers", kept);
        return copy;
    }

    @Test
    void theSdkSignsAsTheCommittedVectorsSay() throws IOException {
        boolean write = Boolean.getBoolean("signing.vectors.write");
        for (ObjectNode v : makeVectors()) {
            Path file = DIR.resolve(v.get("name").asText() + ".json");
            if (write) {
                Files.writeString(file, Emulator.JSON.writer(PRETTY).writeValueAsString(v) + "\n");
                System.out.println("wrote " + file);
            } else {
                JsonNode committed = Emulator.JSON.readTree(file.toFile());
                assertEquals(portable(committed), portable(v), file + " differs from what the SDK signs now");
            }
        }
    }
}
