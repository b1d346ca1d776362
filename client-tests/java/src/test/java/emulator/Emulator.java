package emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.oracle.bmc.ClientConfiguration;
import com.oracle.bmc.ConfigFileReader;
import com.oracle.bmc.auth.AuthenticationDetailsProvider;
import com.oracle.bmc.auth.ConfigFileAuthenticationDetailsProvider;
import com.oracle.bmc.retrier.RetryConfiguration;
import com.oracle.bmc.util.CircuitBreakerUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * One emulator process for the whole test JVM: {@code $OCI_EMULATOR_BIN serve --listen
 * 127.0.0.1:<free port>} with the repository root as working directory (like
 * client-tests/python/conftest.py), started on first use and stopped by a shutdown hook.
 *
 * <p>Surefire runs the tests with the repository root as working directory (pom.xml), so the
 * relative {@code key_file} paths of fixtures/oci/config resolve.
 */
final class Emulator {
    /** The "apps" compartment of fixtures/tenancy.json; every resource is made there. */
    static final String COMPARTMENT_ID =
            "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001";

    static final String CONFIG_FILE = "fixtures/oci/config";
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static Emulator instance;

    final String baseUrl;
    final Path logPath;
    private final Process process;

    private Emulator(Process process, String baseUrl, Path logPath) {
        this.process = process;
        this.baseUrl = baseUrl;
        this.logPath = logPath;
    }

    static synchronized Emulator get() {
        if (instance == null) {
            try {
                instance = start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return instance;
    }

    private static Emulator start() throws IOException, InterruptedException {
        Path root = Path.of("").toAbsolutePath();
        String raw = System.getenv().getOrDefault("OCI_EMULATOR_BIN", "target/release/oci-vault-emulator");
        Path bin = root.resolve(raw);
        if (!Files.isExecutable(bin)) {
            throw new IllegalStateException(
                    "emulator binary not found: " + bin + " (build it or set OCI_EMULATOR_BIN)");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path log = Files.createTempFile("oci-emulator-java-", ".log");
        Process p = new ProcessBuilder(bin.toString(), "serve", "--listen", "127.0.0.1:" + port)
                .directory(root.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        Emulator emu = new Emulator(p, "http://127.0.0.1:" + port, log);
        Runtime.getRuntime().addShutdownHook(new Thread(emu::stop));
        System.out.println("emulator at " + emu.baseUrl + " (pid " + p.pid() + "), log " + log);

        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String last = "";
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException("emulator exited with " + p.exitValue()
                        + " before answering health; its output:\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> r = HTTP.send(
                        HttpRequest.newBuilder(URI.create(emu.baseUrl + "/_emulator/health"))
                                .timeout(Duration.ofSeconds(1)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return emu;
                }
                last = "HTTP " + r.statusCode();
            } catch (IOException e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) {
                emu.stop();
                throw new IllegalStateException("emulator did not answer health within "
                        + START_TIMEOUT + " (last: " + last + "); its output:\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    void stop() {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM: the emulator finishes requests in flight and exits 0
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static AuthenticationDetailsProvider provider(String profile) {
        try {
            return new ConfigFileAuthenticationDetailsProvider(ConfigFileReader.parse(CONFIG_FILE, profile));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** No retries and no circuit breaker unless a test asks for them; bounded timeouts. */
    static ClientConfiguration noRetry() {
        return ClientConfiguration.builder()
                .retryConfiguration(RetryConfiguration.NO_RETRY_CONFIGURATION)
                .circuitBreakerConfiguration(CircuitBreakerUtils.getNoCircuitBreakerConfiguration())
                .connectionTimeoutMillis(5_000)
                .readTimeoutMillis(60_000)
                .build();
    }

    static String unique(String prefix) {
        return "java-" + prefix + "-" + UUID.randomUUID().toString().substring(0, 12);
    }

    /** One call to the emulator's own endpoints (no signature needed); 2xx or the test fails. */
    JsonNode admin(String method, String path, Object body) {
        try {
            HttpRequest.BodyPublisher pub = body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body));
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(baseUrl + path))
                            .method(method, pub)
                            .header("content-type", "application/json")
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() / 100 != 2) {
                throw new AssertionError(method + " " + path + ": " + r.statusCode() + " " + r.body());
            }
            return r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
