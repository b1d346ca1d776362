package clienttests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/keymanagement"
	"github.com/oracle/oci-go-sdk/v65/secrets"
	"github.com/oracle/oci-go-sdk/v65/vault"
)

var ctx = context.Background()

func makeVault(t *testing.T, c clientSet) keymanagement.Vault {
	t.Helper()
	name := unique("vault")
	resp, err := c.kms.CreateVault(ctx, keymanagement.CreateVaultRequest{CreateVaultDetails: keymanagement.CreateVaultDetails{
		CompartmentId: common.String(compartmentID),
		DisplayName:   common.String(name),
		VaultType:     keymanagement.CreateVaultDetailsVaultTypeDefault,
	}})
	must(t, err)
	return resp.Vault
}

func makeKey(t *testing.T, c clientSet, v keymanagement.Vault) keymanagement.Key {
	t.Helper()
	resp, err := c.management(t, v).CreateKey(ctx, keymanagement.CreateKeyRequest{CreateKeyDetails: keymanagement.CreateKeyDetails{
		CompartmentId: common.String(compartmentID),
		DisplayName:   common.String(unique("key")),
		KeyShape:      &keymanagement.KeyShape{Algorithm: keymanagement.KeyShapeAlgorithmAes, Length: common.Int(32)},
	}})
	must(t, err)
	return resp.Key
}

func makeSecret(t *testing.T, c clientSet, v keymanagement.Vault, k keymanagement.Key, name string, content []byte, versionName string) vault.Secret {
	t.Helper()
	details := vault.Base64SecretContentDetails{Content: common.String(base64.StdEncoding.EncodeToString(content))}
	if versionName != "" {
		details.Name = common.String(versionName)
	}
	resp, err := c.vaults.CreateSecret(ctx, vault.CreateSecretRequest{CreateSecretDetails: vault.CreateSecretDetails{
		CompartmentId: common.String(compartmentID),
		VaultId:       v.Id,
		KeyId:         k.Id,
		SecretName:    common.String(name),
		SecretContent: details,
	}})
	must(t, err)
	return resp.Secret
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	must(t, err)
	return b
}

// bundleContent decodes a bundle's BASE64 content (never printed).
func bundleContent(t *testing.T, b secrets.SecretBundle) []byte {
	t.Helper()
	content, ok := b.SecretBundleContent.(secrets.Base64SecretBundleContentDetails)
	if !ok {
		t.Fatalf("secretBundleContent is %T, want Base64SecretBundleContentDetails", b.SecretBundleContent)
	}
	raw, err := base64.StdEncoding.DecodeString(*content.Content)
	must(t, err)
	return raw
}

func stagesOf(b secrets.SecretBundle) string {
	s := make([]string, 0, len(b.Stages))
	for _, st := range b.Stages {
		s = append(s, string(st))
	}
	return strings.Join(s, ",")
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestVaultKeyEncryptDecrypt(t *testing.T) {
	c := clientsFor(t, "DEFAULT")
	v := makeVault(t, c)
	eq(t, "vault.lifecycleState", v.LifecycleState, keymanagement.VaultLifecycleStateActive)
	eq(t, "vault.vaultType", v.VaultType, keymanagement.VaultVaultTypeDefault)
	eq(t, "vault.compartmentId", *v.CompartmentId, compartmentID)
	if !strings.HasPrefix(*v.Id, "ocid1.vault.oc1.iad.") {
		t.Errorf("vault.id = %q", *v.Id)
	}
	if !strings.HasPrefix(*v.ManagementEndpoint, baseURL+"/kms/") || !strings.HasSuffix(*v.ManagementEndpoint, "/management") {
		t.Errorf("managementEndpoint = %q", *v.ManagementEndpoint)
	}

	got, err := c.kms.GetVault(ctx, keymanagement.GetVaultRequest{VaultId: v.Id})
	must(t, err)
	eq(t, "GetVault displayName", *got.DisplayName, *v.DisplayName)
	if got.Etag == nil || *got.Etag == "" {
		t.Errorf("GetVault has no etag header")
	}

	k := makeKey(t, c, v)
	eq(t, "key.lifecycleState", k.LifecycleState, keymanagement.KeyLifecycleStateEnabled)
	eq(t, "key.vaultId", *k.VaultId, *v.Id)
	eq(t, "key.keyShape.algorithm", k.KeyShape.Algorithm, keymanagement.KeyShapeAlgorithmAes)
	eq(t, "key.keyShape.length", *k.KeyShape.Length, 32)
	if !strings.HasPrefix(*k.Id, "ocid1.key.oc1.iad.") || !strings.HasPrefix(*k.CurrentKeyVersion, "ocid1.keyversion.oc1.iad.") {
		t.Errorf("key id %q / currentKeyVersion %q", *k.Id, *k.CurrentKeyVersion)
	}

	crypto := c.crypto(t, v)
	plaintext := []byte("hello from the Go SDK")
	aad := map[string]string{"app": "go"}
	enc, err := crypto.Encrypt(ctx, keymanagement.EncryptRequest{EncryptDataDetails: keymanagement.EncryptDataDetails{
		KeyId:          k.Id,
		Plaintext:      common.String(base64.StdEncoding.EncodeToString(plaintext)),
		AssociatedData: aad,
	}})
	must(t, err)
	eq(t, "encrypt.keyId", *enc.KeyId, *k.Id)
	eq(t, "encrypt.keyVersionId", *enc.KeyVersionId, *k.CurrentKeyVersion)
	eq(t, "encrypt.encryptionAlgorithm", enc.EncryptionAlgorithm, keymanagement.EncryptedDataEncryptionAlgorithmAes256Gcm)
	if _, err := base64.StdEncoding.DecodeString(*enc.Ciphertext); err != nil {
		t.Errorf("ciphertext is not base64: %v", err)
	}

	dec, err := crypto.Decrypt(ctx, keymanagement.DecryptRequest{DecryptDataDetails: keymanagement.DecryptDataDetails{
		KeyId:          k.Id,
		Ciphertext:     enc.Ciphertext,
		AssociatedData: aad,
	}})
	must(t, err)
	raw, err := base64.StdEncoding.DecodeString(*dec.Plaintext)
	must(t, err)
	if !bytes.Equal(raw, plaintext) {
		t.Errorf("decrypted bytes differ from the plaintext")
	}
	eq(t, "decrypt.keyId", *dec.KeyId, *k.Id)
	eq(t, "decrypt.keyVersionId", *dec.KeyVersionId, *k.CurrentKeyVersion)
	if dec.PlaintextChecksum == nil || *dec.PlaintextChecksum == "" {
		t.Errorf("decrypt has no plaintextChecksum")
	}

	// Other associated data: 400 InvalidParameter, as OCI answers a failed authentication tag.
	_, err = crypto.Decrypt(ctx, keymanagement.DecryptRequest{DecryptDataDetails: keymanagement.DecryptDataDetails{
		KeyId: k.Id, Ciphertext: enc.Ciphertext, AssociatedData: map[string]string{"app": "other"},
	}})
	expectServiceError(t, err, 400, "InvalidParameter")

	dek, err := crypto.GenerateDataEncryptionKey(ctx, keymanagement.GenerateDataEncryptionKeyRequest{
		GenerateKeyDetails: keymanagement.GenerateKeyDetails{
			KeyId:               k.Id,
			IncludePlaintextKey: common.Bool(true),
			KeyShape:            &keymanagement.KeyShape{Algorithm: keymanagement.KeyShapeAlgorithmAes, Length: common.Int(32)},
		}})
	must(t, err)
	dekRaw, err := base64.StdEncoding.DecodeString(*dek.Plaintext)
	must(t, err)
	eq(t, "generated key length", len(dekRaw), 32)
	unwrapped, err := crypto.Decrypt(ctx, keymanagement.DecryptRequest{DecryptDataDetails: keymanagement.DecryptDataDetails{
		KeyId: k.Id, Ciphertext: dek.Ciphertext,
	}})
	must(t, err)
	if *unwrapped.Plaintext != *dek.Plaintext { // key material: compared, never printed
		t.Errorf("Decrypt of the wrapped data key is not the generated plaintext key")
	}
}

func TestSecretVersionsAndBundles(t *testing.T) {
	c := clientsFor(t, "DEFAULT")
	v := makeVault(t, c)
	k := makeKey(t, c, v)
	name := unique("secret")
	first := randomBytes(t, 24)
	s := makeSecret(t, c, v, k, name, first, "v1")
	eq(t, "secret.lifecycleState", s.LifecycleState, vault.SecretLifecycleStateActive)
	eq(t, "secret.secretName", *s.SecretName, name)
	eq(t, "secret.vaultId", *s.VaultId, *v.Id)
	eq(t, "secret.keyId", *s.KeyId, *k.Id)
	eq(t, "secret.currentVersionNumber", *s.CurrentVersionNumber, int64(1))
	if !strings.HasPrefix(*s.Id, "ocid1.vaultsecret.oc1.iad.") {
		t.Errorf("secret.id = %q", *s.Id)
	}

	second := randomBytes(t, 24)
	upd, err := c.vaults.UpdateSecret(ctx, vault.UpdateSecretRequest{SecretId: s.Id, UpdateSecretDetails: vault.UpdateSecretDetails{
		SecretContent: vault.Base64SecretContentDetails{Content: common.String(base64.StdEncoding.EncodeToString(second))},
	}})
	must(t, err)
	eq(t, "updated currentVersionNumber", *upd.CurrentVersionNumber, int64(2))

	cur, err := c.secrets.GetSecretBundle(ctx, secrets.GetSecretBundleRequest{SecretId: s.Id, Stage: secrets.GetSecretBundleStageCurrent})
	must(t, err)
	eq(t, "CURRENT versionNumber", *cur.VersionNumber, int64(2))
	eq(t, "CURRENT secretId", *cur.SecretId, *s.Id)
	eq(t, "CURRENT stages", stagesOf(cur.SecretBundle), "CURRENT,LATEST")
	if !bytes.Equal(bundleContent(t, cur.SecretBundle), second) {
		t.Errorf("CURRENT bundle content is not the updated content")
	}

	prev, err := c.secrets.GetSecretBundle(ctx, secrets.GetSecretBundleRequest{SecretId: s.Id, Stage: secrets.GetSecretBundleStagePrevious})
	must(t, err)
	eq(t, "PREVIOUS versionNumber", *prev.VersionNumber, int64(1))
	eq(t, "PREVIOUS versionName", *prev.VersionName, "v1")
	eq(t, "PREVIOUS stages", stagesOf(prev.SecretBundle), "PREVIOUS")
	if !bytes.Equal(bundleContent(t, prev.SecretBundle), first) {
		t.Errorf("PREVIOUS bundle content is not the first content")
	}

	byVersionName, err := c.secrets.GetSecretBundle(ctx, secrets.GetSecretBundleRequest{SecretId: s.Id, SecretVersionName: common.String("v1")})
	must(t, err)
	eq(t, "by version name: versionNumber", *byVersionName.VersionNumber, int64(1))

	byName, err := c.secrets.GetSecretBundleByName(ctx, secrets.GetSecretBundleByNameRequest{SecretName: common.String(name), VaultId: v.Id})
	must(t, err)
	eq(t, "by name: secretId", *byName.SecretId, *s.Id)
	eq(t, "by name: versionNumber", *byName.VersionNumber, int64(2))
	if !bytes.Equal(bundleContent(t, byName.SecretBundle), second) {
		t.Errorf("bundle by name is not the current content")
	}

	byNamePrev, err := c.secrets.GetSecretBundleByName(ctx, secrets.GetSecretBundleByNameRequest{
		SecretName: common.String(name), VaultId: v.Id, Stage: secrets.GetSecretBundleByNameStagePrevious})
	must(t, err)
	eq(t, "by name PREVIOUS: versionNumber", *byNamePrev.VersionNumber, int64(1))

	versions, err := c.vaults.ListSecretVersions(ctx, vault.ListSecretVersionsRequest{SecretId: s.Id})
	must(t, err)
	eq(t, "secret versions", len(versions.Items), 2)
	stages := map[int64]string{}
	for _, sv := range versions.Items {
		names := make([]string, 0, len(sv.Stages))
		for _, st := range sv.Stages {
			names = append(names, string(st))
		}
		stages[*sv.VersionNumber] = strings.Join(names, ",")
		eq(t, "secret version contentType", sv.ContentType, vault.SecretVersionSummaryContentTypeBase64)
	}
	eq(t, "version 1 stages", stages[1], "PREVIOUS")
	eq(t, "version 2 stages", stages[2], "CURRENT,LATEST")
}

// app-reader may read bundles of secrets named app-* only (fixtures/tenancy.json): any
// other secret answers exactly what a missing one does, 404 NotAuthorizedOrNotFound.
func TestDenialIsNotAuthorizedOrNotFound(t *testing.T) {
	admin := clientsFor(t, "DEFAULT")
	reader := clientsFor(t, "APPREADER")
	v := makeVault(t, admin)
	k := makeKey(t, admin, v)
	content := randomBytes(t, 16)
	allowed := makeSecret(t, admin, v, k, "app-"+unique("ok"), content, "")
	denied := makeSecret(t, admin, v, k, unique("db"), randomBytes(t, 16), "")

	ok, err := reader.secrets.GetSecretBundle(ctx, secrets.GetSecretBundleRequest{SecretId: allowed.Id})
	must(t, err)
	if !bytes.Equal(bundleContent(t, ok.SecretBundle), content) {
		t.Errorf("app-reader got other content for an app-* secret")
	}

	_, err = reader.secrets.GetSecretBundle(ctx, secrets.GetSecretBundleRequest{SecretId: denied.Id})
	se := expectServiceError(t, err, 404, "NotAuthorizedOrNotFound")

	// The emulator explains the decision under the request id (not an OCI API).
	var explanation struct {
		Decision string `json:"decision"`
		Summary  string `json:"summary"`
	}
	emulatorJSON(t, "GET", "/_emulator/decisions/"+se.GetOpcRequestID(), nil, &explanation)
	if !strings.Contains(explanation.Summary, "app-reader") {
		t.Errorf("decision summary does not name the user: %q", explanation.Summary)
	}
}

type faultView struct {
	Rules []struct {
		ID      string `json:"id"`
		Matched int    `json:"matched"`
		Fired   int    `json:"fired"`
	} `json:"rules"`
}

// Two injected 429s on GetSecretBundle: the SDK's own retry decision
// (DefaultShouldRetryOperation: 429 TooManyRequests is retryable) rides
// through them, with a short fixed backoff instead of the default 1 s, 2 s …
func TestInjected429IsRetriedBySDKPolicy(t *testing.T) {
	c := clientsFor(t, "DEFAULT")
	v := makeVault(t, c)
	k := makeKey(t, c, v)
	content := randomBytes(t, 16)
	s := makeSecret(t, c, v, k, unique("throttled"), content, "")

	ruleID := unique("throttle")
	emulatorJSON(t, "POST", "/_emulator/faults", map[string]any{
		"id":       ruleID,
		"match":    map[string]any{"operations": []string{"GetSecretBundle"}, "resourceId": *s.Id},
		"action":   map[string]any{"error": map[string]any{"status": 429}},
		"schedule": map[string]any{"firstN": 2},
	}, nil)
	defer emulatorJSON(t, "DELETE", "/_emulator/faults/"+ruleID, nil, nil)

	// Without retries the first call surfaces the fault as OCI's 429.
	_, err := c.secrets.GetSecretBundle(ctx, secrets.GetSecretBundleRequest{SecretId: s.Id})
	expectServiceError(t, err, 429, "TooManyRequests")

	policy := common.NewRetryPolicyWithOptions(
		common.ReplaceWithValuesFromRetryPolicy(common.DefaultRetryPolicyWithoutEventualConsistency()),
		common.WithFixedBackoff(20*time.Millisecond))
	resp, err := c.secrets.GetSecretBundle(ctx, secrets.GetSecretBundleRequest{
		SecretId:        s.Id,
		RequestMetadata: common.RequestMetadata{RetryPolicy: &policy},
	})
	must(t, err)
	if !bytes.Equal(bundleContent(t, resp.SecretBundle), content) {
		t.Errorf("bundle content after retries differs")
	}

	var view faultView
	emulatorJSON(t, "GET", "/_emulator/faults", nil, &view)
	found := false
	for _, r := range view.Rules {
		if r.ID == ruleID {
			found = true
			eq(t, "rule fired", r.Fired, 2)
			eq(t, "rule matched", r.Matched, 3)
		}
	}
	if !found {
		t.Fatalf("rule %s not in GET /_emulator/faults", ruleID)
	}
}

// Every field the Go SDK's models mark mandatory (what OCI always sends) is in
// the emulator's answers, for every implemented read of the three APIs.
func TestResponsesCarryEveryMandatoryField(t *testing.T) {
	c := clientsFor(t, "DEFAULT")
	v := makeVault(t, c)
	assertMandatory(t, "CreateVault", v)
	k := makeKey(t, c, v)
	assertMandatory(t, "CreateKey", k)
	mgmt := c.management(t, v)
	cr := c.crypto(t, v)

	gv, err := c.kms.GetVault(ctx, keymanagement.GetVaultRequest{VaultId: v.Id})
	must(t, err)
	assertMandatory(t, "GetVault", gv.Vault)
	lv, err := c.kms.ListVaults(ctx, keymanagement.ListVaultsRequest{CompartmentId: common.String(compartmentID), Limit: common.Int(5)})
	must(t, err)
	assertMandatory(t, "ListVaults", lv.Items)

	gk, err := mgmt.GetKey(ctx, keymanagement.GetKeyRequest{KeyId: k.Id})
	must(t, err)
	assertMandatory(t, "GetKey", gk.Key)
	lk, err := mgmt.ListKeys(ctx, keymanagement.ListKeysRequest{CompartmentId: common.String(compartmentID)})
	must(t, err)
	assertMandatory(t, "ListKeys", lk.Items)
	lkv, err := mgmt.ListKeyVersions(ctx, keymanagement.ListKeyVersionsRequest{KeyId: k.Id})
	must(t, err)
	assertMandatory(t, "ListKeyVersions", lkv.Items)
	gkv, err := mgmt.GetKeyVersion(ctx, keymanagement.GetKeyVersionRequest{KeyId: k.Id, KeyVersionId: k.CurrentKeyVersion})
	must(t, err)
	assertMandatory(t, "GetKeyVersion", gkv.KeyVersion)
	eq(t, "key version keyId", *gkv.KeyId, *k.Id)
	eq(t, "key version vaultId", *gkv.VaultId, *v.Id)
	eq(t, "key version origin", gkv.Origin, keymanagement.KeyVersionOriginInternal)
	eq(t, "key version lifecycleState", gkv.LifecycleState, keymanagement.KeyVersionLifecycleStateEnabled)
	// "By default, a key's protection mode is set to HSM" (CreateKeyDetails).
	eq(t, "key protectionMode", gk.ProtectionMode, keymanagement.KeyProtectionModeHsm)

	enc, err := cr.Encrypt(ctx, keymanagement.EncryptRequest{EncryptDataDetails: keymanagement.EncryptDataDetails{
		KeyId: k.Id, Plaintext: common.String(base64.StdEncoding.EncodeToString([]byte("x")))}})
	must(t, err)
	assertMandatory(t, "Encrypt", enc.EncryptedData)
	dec, err := cr.Decrypt(ctx, keymanagement.DecryptRequest{DecryptDataDetails: keymanagement.DecryptDataDetails{KeyId: k.Id, Ciphertext: enc.Ciphertext}})
	must(t, err)
	assertMandatory(t, "Decrypt", dec.DecryptedData)
	gen, err := cr.GenerateDataEncryptionKey(ctx, keymanagement.GenerateDataEncryptionKeyRequest{GenerateKeyDetails: keymanagement.GenerateKeyDetails{
		KeyId: k.Id, IncludePlaintextKey: common.Bool(false),
		KeyShape: &keymanagement.KeyShape{Algorithm: keymanagement.KeyShapeAlgorithmAes, Length: common.Int(16)}}})
	must(t, err)
	assertMandatory(t, "GenerateDataEncryptionKey", gen.GeneratedKey)

	s := makeSecret(t, c, v, k, unique("mandatory"), randomBytes(t, 8), "")
	assertMandatory(t, "CreateSecret", s)
	gs, err := c.vaults.GetSecret(ctx, vault.GetSecretRequest{SecretId: s.Id})
	must(t, err)
	assertMandatory(t, "GetSecret", gs.Secret)
	ls, err := c.vaults.ListSecrets(ctx, vault.ListSecretsRequest{CompartmentId: common.String(compartmentID), VaultId: v.Id})
	must(t, err)
	assertMandatory(t, "ListSecrets", ls.Items)
	lsv, err := c.vaults.ListSecretVersions(ctx, vault.ListSecretVersionsRequest{SecretId: s.Id})
	must(t, err)
	assertMandatory(t, "ListSecretVersions", lsv.Items)
	gsv, err := c.vaults.GetSecretVersion(ctx, vault.GetSecretVersionRequest{SecretId: s.Id, SecretVersionNumber: common.Int64(1)})
	must(t, err)
	assertMandatory(t, "GetSecretVersion", gsv.SecretVersion)

	b, err := c.secrets.GetSecretBundle(ctx, secrets.GetSecretBundleRequest{SecretId: s.Id})
	must(t, err)
	assertMandatory(t, "GetSecretBundle", b.SecretBundle)
	lb, err := c.secrets.ListSecretBundleVersions(ctx, secrets.ListSecretBundleVersionsRequest{SecretId: s.Id})
	must(t, err)
	assertMandatory(t, "ListSecretBundleVersions", lb.Items)
}
