// The real OCI Go SDK (github.com/oracle/oci-go-sdk/v65) against the emulator.
//
// TestMain starts one emulator ($OCI_EMULATOR_BIN serve --listen
// 127.0.0.1:<free port>, the repository root as its working directory, like
// client-tests/python/conftest.py) and stops it when the tests are done. Every
// test makes its own uniquely named resources.
//
// Key and crypto calls: the Go SDK refuses an endpoint with a path
// (BaseClient.prepareRequest: "endpoint must not contain user info, path,
// query, or fragment"), so the vault's path-style managementEndpoint /
// cryptoEndpoint (http://H:P/kms/<vault-key>/management) cannot be used as
// is. The emulator also recognises host-style names,
// <vault-key>-management.kms.<anything>, so the tests use
// http://<vault-key>-management.kms.localhost:P and give every client an
// http.Client whose dialer sends *.localhost to 127.0.0.1 (glibc and Go's
// own resolver do not resolve subdomains of localhost; no DNS change needed).
package clienttests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/keymanagement"
	"github.com/oracle/oci-go-sdk/v65/secrets"
	"github.com/oracle/oci-go-sdk/v65/vault"
)

// The "apps" compartment of fixtures/tenancy.json; every resource is made there.
const compartmentID = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001"

// Relative to the repository root; TestMain chdirs there so the relative
// key_file entries of the profiles resolve.
const configFile = "fixtures/oci/config"

const startTimeout = 10 * time.Second

// baseURL is the running emulator's regional endpoint, http://127.0.0.1:<port>.
var baseURL string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := os.Chdir(root); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	stop, err := startEmulator(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FATAL:", err)
		return 3
	}
	code := m.Run()
	stop(code == 0)
	return code
}

// startEmulator runs the binary on a free port and waits (with a deadline)
// until GET /_emulator/health answers 200. The returned func stops it
// (SIGTERM, then SIGKILL after 5 s) and removes its log when the tests passed
// (it is kept, its path printed at start, for a failed run).
func startEmulator(root string) (func(passed bool), error) {
	bin := os.Getenv("OCI_EMULATOR_BIN")
	if bin == "" {
		bin = "target/release/oci-vault-emulator"
	}
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(root, bin)
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("emulator binary not found: %s (build it or set OCI_EMULATOR_BIN)", bin)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.CreateTemp("", "oci-emulator-go-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Dir = root
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func(passed bool) {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		logFile.Close()
		if passed {
			os.Remove(logFile.Name())
		}
	}
	baseURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	fmt.Printf("emulator at %s (pid %d), log %s\n", baseURL, cmd.Process.Pid, logFile.Name())

	deadline := time.Now().Add(startTimeout)
	probe := &http.Client{Timeout: time.Second}
	var last string
	for {
		select {
		case err := <-exited:
			exited <- err
			stop(false)
			out, _ := os.ReadFile(logFile.Name())
			return nil, fmt.Errorf("emulator exited (%v) before answering health; its output:\n%s", err, out)
		default:
		}
		resp, err := probe.Get(baseURL + "/_emulator/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return stop, nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			stop(false)
			out, _ := os.ReadFile(logFile.Name())
			return nil, fmt.Errorf("emulator did not answer health within %s (last: %s); its output:\n%s", startTimeout, last, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// loopbackHTTPClient dials 127.0.0.1 for every host under .localhost (keeping
// the port), so host-style vault endpoints reach the emulator without DNS.
func loopbackHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil && strings.HasSuffix(host, ".localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: transport, Timeout: 60 * time.Second}
}

// hostStyle turns a vault's path-style endpoint, http://H:P/kms/<vault-key>/management
// (or /crypto), into the host-style name the Go SDK accepts:
// http://<vault-key>-management.kms.localhost:P.
func hostStyle(t *testing.T, endpoint string) string {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatalf("endpoint %q: %v", endpoint, err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != "kms" || (parts[2] != "management" && parts[2] != "crypto") {
		t.Fatalf("endpoint %q is not /kms/<vault-key>/management|crypto", endpoint)
	}
	return fmt.Sprintf("%s://%s-%s.kms.localhost:%s", u.Scheme, parts[1], parts[2], u.Port())
}

func provider(t *testing.T, profile string) common.ConfigurationProvider {
	t.Helper()
	p, err := common.ConfigurationProviderFromFileWithProfile(configFile, profile, "")
	if err != nil {
		t.Fatalf("config %s [%s]: %v", configFile, profile, err)
	}
	return p
}

// noRetry makes every test call exactly once unless a test asks for retries.
func noRetry() common.CustomClientConfiguration {
	p := common.NoRetryPolicy()
	return common.CustomClientConfiguration{RetryPolicy: &p, CircuitBreaker: common.NewCircuitBreaker(common.NoCircuitBreakerSetting())}
}

// setup gives a client the emulator's transport and no retries.
func setup(t *testing.T, c *common.BaseClient) {
	t.Helper()
	c.HTTPClient = loopbackHTTPClient()
	c.SetCustomClientConfiguration(noRetry())
}

type clientSet struct {
	kms     keymanagement.KmsVaultClient
	vaults  vault.VaultsClient
	secrets secrets.SecretsClient
	profile string
}

func clientsFor(t *testing.T, profile string) clientSet {
	t.Helper()
	p := provider(t, profile)
	kms, err := keymanagement.NewKmsVaultClientWithConfigurationProvider(p)
	must(t, err)
	kms.Host = baseURL
	setup(t, &kms.BaseClient)
	v, err := vault.NewVaultsClientWithConfigurationProvider(p)
	must(t, err)
	v.Host = baseURL
	setup(t, &v.BaseClient)
	s, err := secrets.NewSecretsClientWithConfigurationProvider(p)
	must(t, err)
	s.Host = baseURL
	setup(t, &s.BaseClient)
	return clientSet{kms: kms, vaults: v, secrets: s, profile: profile}
}

func (c clientSet) management(t *testing.T, v keymanagement.Vault) keymanagement.KmsManagementClient {
	t.Helper()
	m, err := keymanagement.NewKmsManagementClientWithConfigurationProvider(provider(t, c.profile), hostStyle(t, *v.ManagementEndpoint))
	must(t, err)
	setup(t, &m.BaseClient)
	return m
}

func (c clientSet) crypto(t *testing.T, v keymanagement.Vault) keymanagement.KmsCryptoClient {
	t.Helper()
	cr, err := keymanagement.NewKmsCryptoClientWithConfigurationProvider(provider(t, c.profile), hostStyle(t, *v.CryptoEndpoint))
	must(t, err)
	setup(t, &cr.BaseClient)
	return cr
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(describe(err))
	}
}

// describe prints a service error with its status, code and request id (never a body we sent).
func describe(err error) string {
	if se, ok := common.IsServiceError(err); ok {
		return fmt.Sprintf("service error %d %s: %s (opc-request-id %s)", se.GetHTTPStatusCode(), se.GetCode(), se.GetMessage(), se.GetOpcRequestID())
	}
	return err.Error()
}

// expectServiceError requires err to be an OCI service error with exactly this status and code.
func expectServiceError(t *testing.T, err error, status int, code string) common.ServiceError {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %d %s, the call succeeded", status, code)
	}
	se, ok := common.IsServiceError(err)
	if !ok {
		t.Fatalf("expected %d %s, got a non-service error: %v", status, code, err)
	}
	if se.GetHTTPStatusCode() != status || se.GetCode() != code {
		t.Fatalf("expected %d %s, got %s", status, code, describe(err))
	}
	if se.GetMessage() == "" {
		t.Errorf("error body has no message")
	}
	if se.GetOpcRequestID() == "" {
		t.Errorf("error response has no opc-request-id")
	}
	return se
}

var uniqueCounter int

// unique is a name no other test (or earlier run against the same server) uses.
func unique(prefix string) string {
	uniqueCounter++
	return fmt.Sprintf("go-%s-%d-%d", prefix, time.Now().UnixNano(), uniqueCounter)
}

// emulatorJSON calls one of the emulator's own endpoints (no signature needed); 2xx or the test fails.
func emulatorJSON(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		must(t, err)
		r = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, baseURL+path, r)
	must(t, err)
	req.Header.Set("content-type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	must(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, raw)
	}
	if out != nil && len(raw) > 0 {
		must(t, json.Unmarshal(raw, out))
	}
}

// assertMandatory fails for every field of an SDK model (and of the models
// nested in it) that the SDK marks `mandatory:"true"` but the emulator left
// out: OCI always sends those.
func assertMandatory(t *testing.T, what string, v any) {
	t.Helper()
	checkMandatory(t, what, reflect.ValueOf(v))
}

func checkMandatory(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		ty := v.Type()
		if ty.PkgPath() == "github.com/oracle/oci-go-sdk/v65/common" {
			return // SDKTime and friends
		}
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			name := path + "." + strings.Split(f.Tag.Get("json"), ",")[0]
			if f.Tag.Get("mandatory") == "true" && f.Tag.Get("json") != "" && isEmpty(fv) {
				t.Errorf("%s is mandatory in the SDK model but missing from the response", name)
				continue
			}
			checkMandatory(t, name, fv)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			checkMandatory(t, fmt.Sprintf("%s[%d]", path, i), v.Index(i))
		}
	}
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0
	}
	return false
}
