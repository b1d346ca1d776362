// Command signingvectors writes the Go SDK's known-answer signing vectors into
// fixtures/signing/ (go_*.json), in the shape fixtures/signing/make_vectors.py
// documents.
//
// The real clients (secrets.SecretsClient, vault.VaultsClient) build each
// request exactly as they would for the emulator at http://127.0.0.1:4585. The
// SDK's own RequestInterceptor hook (run after the SDK has set its headers and
// before it signs) pins the `date` header the SDK fills with the wall clock;
// the SDK's DefaultRequestSigner signs; a capturing HTTPRequestDispatcher
// records the request instead of sending it and answers 200 {}. Fixed dates,
// request ids and retry tokens make the output identical on every run (RSA
// PKCS#1 v1.5 signatures are deterministic).
//
// Usage, from client-tests/go: go run ./cmd/signingvectors
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/secrets"
	"github.com/oracle/oci-go-sdk/v65/vault"
)

const (
	endpoint      = "http://127.0.0.1:4585"
	compartmentID = "ocid1.compartment.oc1..aaaaaaaaemulatorapps000000000000000000000000000000000000001"
)

// The same instant as make_vectors.py: Sun, 29 Nov 2026 14:20:22 GMT.
var t0 = time.Date(2026, 11, 29, 14, 20, 22, 0, time.UTC)

type vector struct {
	Name         string      `json:"name"`
	Description  string      `json:"description"`
	Source       string      `json:"source"`
	Method       string      `json:"method"`
	PathAndQuery string      `json:"path_and_query"`
	Headers      [][2]string `json:"headers"`
	Body         string      `json:"body"`
	NowUnix      int64       `json:"now_unix"`
	Now          string      `json:"now"`
}

// capture is the clients' HTTPRequestDispatcher: it keeps the signed request.
type capture struct{ last *vector }

func (c *capture) Do(req *http.Request) (*http.Response, error) {
	body := ""
	if req.Body != nil {
		raw, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = string(raw)
	}
	// As net/http writes them: Host first (from the URL), then the header map
	// (canonical names) in sorted order, one value each.
	headers := [][2]string{{"Host", req.URL.Host}}
	names := make([]string, 0, len(req.Header))
	for name := range req.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, value := range req.Header[name] {
			headers = append(headers, [2]string{name, value})
		}
	}
	c.last = &vector{Method: req.Method, PathAndQuery: req.URL.RequestURI(), Headers: headers, Body: body}
	return &http.Response{
		StatusCode: 200,
		Status:     "200 OK",
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader([]byte("{}"))),
		Request:    req,
	}, nil
}

func setup(c *common.BaseClient, cap *capture, date *time.Time) {
	c.Host = endpoint
	c.HTTPClient = cap
	c.Interceptor = func(r *http.Request) error {
		r.Header.Set("Date", date.UTC().Format(http.TimeFormat))
		return nil
	}
	p := common.NoRetryPolicy()
	c.SetCustomClientConfiguration(common.CustomClientConfiguration{RetryPolicy: &p, CircuitBreaker: common.NewCircuitBreaker(common.NoCircuitBreakerSetting())})
}

func run() error {
	root, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil { // key_file in the config is relative to the repository root
		return err
	}
	provider, err := common.ConfigurationProviderFromFileWithProfile("fixtures/oci/config", "DEFAULT", "")
	if err != nil {
		return err
	}
	cap := &capture{}
	var date time.Time
	sec, err := secrets.NewSecretsClientWithConfigurationProvider(provider)
	if err != nil {
		return err
	}
	setup(&sec.BaseClient, cap, &date)
	vlt, err := vault.NewVaultsClientWithConfigurationProvider(provider)
	if err != nil {
		return err
	}
	setup(&vlt.BaseClient, cap, &date)
	ctx := context.Background()
	source := "oci-go-sdk " + common.Version() + ", common.DefaultRequestSigner via the service clients"

	type step struct {
		name, description string
		offset            time.Duration
		call              func() error
	}
	steps := []step{
		{"go_get_query", "GetSecretBundle with a query string: signs date (request-target) host", 20 * time.Second, func() error {
			_, err := sec.GetSecretBundle(ctx, secrets.GetSecretBundleRequest{
				SecretId:      common.String("ocid1.vaultsecret.oc1.iad.x"),
				Stage:         secrets.GetSecretBundleStageCurrent,
				VersionNumber: common.Int64(2),
				OpcRequestId:  common.String("708192A3B4C5D6E7F8091A2B3C4D5E6F"),
			})
			return err
		}},
		{"go_post_json", "CreateSecret with a JSON body: signs the three body headers too", 427 * time.Second, func() error {
			_, err := vlt.CreateSecret(ctx, vault.CreateSecretRequest{
				CreateSecretDetails: vault.CreateSecretDetails{
					CompartmentId: common.String(compartmentID),
					VaultId:       common.String("ocid1.vault.oc1.iad.x"),
					KeyId:         common.String("ocid1.key.oc1.iad.x"),
					SecretName:    common.String("db-password"),
					SecretContent: vault.Base64SecretContentDetails{Content: common.String("aHVudGVyMg==")},
				},
				OpcRequestId:  common.String("8192A3B4C5D6E7F8091A2B3C4D5E6F70"),
				OpcRetryToken: common.String("go-retry-token-1"),
			})
			return err
		}},
		{"go_post_empty", "GetSecretBundleByName: POST without a body (content-length 0, hash of empty body)", 488 * time.Second, func() error {
			_, err := sec.GetSecretBundleByName(ctx, secrets.GetSecretBundleByNameRequest{
				SecretName:   common.String("a"),
				VaultId:      common.String("b"),
				OpcRequestId: common.String("92A3B4C5D6E7F8091A2B3C4D5E6F7081"),
			})
			return err
		}},
		{"go_put_json", "UpdateSecret with a JSON body", 549 * time.Second, func() error {
			_, err := vlt.UpdateSecret(ctx, vault.UpdateSecretRequest{
				SecretId: common.String("ocid1.vaultsecret.oc1.iad.x"),
				UpdateSecretDetails: vault.UpdateSecretDetails{
					Description:   common.String("rotated by hand"),
					SecretContent: vault.Base64SecretContentDetails{Content: common.String("c2VjcmV0")},
				},
				OpcRequestId: common.String("A3B4C5D6E7F8091A2B3C4D5E6F708192"),
			})
			return err
		}},
	}
	for _, s := range steps {
		date = t0.Add(s.offset)
		cap.last = nil
		if err := s.call(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		v := cap.last
		if v == nil {
			return fmt.Errorf("%s: nothing was sent", s.name)
		}
		v.Name, v.Description, v.Source = s.name, s.description, source
		v.NowUnix, v.Now = date.Unix(), date.UTC().Format(http.TimeFormat)
		out, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		file := filepath.Join("fixtures", "signing", s.name+".json")
		if err := os.WriteFile(file, append(out, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "wrote", file)
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}
