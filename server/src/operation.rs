//! The single table of OCI operations this emulator knows.
//!
//! Every OCI API call is one [`Operation`], named exactly as in the OCI SDKs
//! (`GetSecretBundle`, `Encrypt`, ...). Routing, and later authorisation,
//! fault injection, rate limits and audit, all key on it. The table below was
//! generated from `shared/reference/oci-operations.tsv`, which was itself
//! extracted from the `oci` Python SDK 2.189.0 client sources; a route table
//! test in this file checks the request lines against it.
//!
//! An operation that is routed but has no handler yet answers OCI's 501
//! `MethodNotImplemented` naming the operation (see `services::dispatch`).

use axum::http::Method;

/// The OCI API family an operation belongs to; the names are the first
/// column of `oci-operations.tsv` and are what fault rules match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// KMS vault management, regional `kms` host (`KmsVaultClient`).
    KmsVault,
    /// KMS key management, at a vault's `managementEndpoint` (`KmsManagementClient`).
    KmsManagement,
    /// KMS crypto, at a vault's `cryptoEndpoint` (`KmsCryptoClient`).
    KmsCrypto,
    /// Secret management, regional `vaults` host (`VaultsClient`).
    VaultSecrets,
    /// Secret retrieval, regional `secrets.vaults` host (`SecretsClient`).
    Secrets,
    /// Audit API, regional `audit` host (`AuditClient`).
    Audit,
}

impl Service {
    /// The service's name as in `oci-operations.tsv` (`kms-vault`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Service::KmsVault => "kms-vault",
            Service::KmsManagement => "kms-management",
            Service::KmsCrypto => "kms-crypto",
            Service::VaultSecrets => "vault-secrets",
            Service::Secrets => "secrets",
            Service::Audit => "audit",
        }
    }
}

/// One OCI operation, named as in the OCI SDKs and API reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `POST /20180608/vaults/{vaultId}/actions/backup`
    BackupVault,
    /// `POST /20180608/vaults/{vaultId}/actions/cancelDeletion`
    CancelVaultDeletion,
    /// `POST /20180608/vaults/{vaultId}/actions/changeCompartment`
    ChangeVaultCompartment,
    /// `POST /20180608/vaults`
    CreateVault,
    /// `POST /20180608/vaults/{vaultId}/actions/createReplica`
    CreateVaultReplica,
    /// `POST /20180608/vaults/{vaultId}/actions/deleteReplica`
    DeleteVaultReplica,
    /// `GET /20180608/vaults/{vaultId}`
    GetVault,
    /// `GET /20180608/vaults/{vaultId}/usage`
    GetVaultUsage,
    /// `GET /20180608/vaults/{vaultId}/actions/listReplicas`
    ListVaultReplicas,
    /// `GET /20180608/vaults`
    ListVaults,
    /// `POST /20180608/vaults/actions/restoreFromFile`
    RestoreVaultFromFile,
    /// `POST /20180608/vaults/actions/restoreFromObjectStore`
    RestoreVaultFromObjectStore,
    /// `POST /20180608/vaults/{vaultId}/actions/scheduleDeletion`
    ScheduleVaultDeletion,
    /// `PUT /20180608/vaults/{vaultId}/updateRegisteredVaultForMtls`
    UpdateRegisteredVaultForMtls,
    /// `PUT /20180608/vaults/{vaultId}`
    UpdateVault,
    /// `POST /20180608/keys/{keyId}/actions/backup`
    BackupKey,
    /// `POST /20180608/keys/{keyId}/actions/cancelDeletion`
    CancelKeyDeletion,
    /// `POST /20180608/keys/{keyId}/keyVersions/{keyVersionId}/actions/cancelDeletion`
    CancelKeyVersionDeletion,
    /// `POST /20180608/keys/{keyId}/actions/changeCompartment`
    ChangeKeyCompartment,
    /// `POST /20180608/keys`
    CreateKey,
    /// `POST /20180608/keys/{keyId}/keyVersions`
    CreateKeyVersion,
    /// `POST /20180608/keys/{keyId}/actions/disable`
    DisableKey,
    /// `POST /20180608/keys/{keyId}/actions/enable`
    EnableKey,
    /// `GET /20180608/keys/{keyId}`
    GetKey,
    /// `GET /20180608/keys/{keyId}/keyVersions/{keyVersionId}`
    GetKeyVersion,
    /// `GET /20180608/replicaOperations/{replicationId}/status`
    GetReplicationStatus,
    /// `GET /20180608/wrappingKeys`
    GetWrappingKey,
    /// `POST /20180608/keys/import`
    ImportKey,
    /// `POST /20180608/keys/{keyId}/keyVersions/import`
    ImportKeyVersion,
    /// `GET /20180608/keys/{keyId}/keyVersions`
    ListKeyVersions,
    /// `GET /20180608/keys`
    ListKeys,
    /// `POST /20180608/keys/actions/restoreFromFile`
    RestoreKeyFromFile,
    /// `POST /20180608/keys/actions/restoreFromObjectStore`
    RestoreKeyFromObjectStore,
    /// `POST /20180608/keys/{keyId}/actions/scheduleDeletion`
    ScheduleKeyDeletion,
    /// `POST /20180608/keys/{keyId}/keyVersions/{keyVersionId}/actions/scheduleDeletion`
    ScheduleKeyVersionDeletion,
    /// `PUT /20180608/keys/{keyId}`
    UpdateKey,
    /// `POST /20180608/decrypt`
    Decrypt,
    /// `POST /20180608/encrypt`
    Encrypt,
    /// `POST /20180608/exportKey`
    ExportKey,
    /// `POST /20180608/generateDataEncryptionKey`
    GenerateDataEncryptionKey,
    /// `POST /20180608/sign`
    Sign,
    /// `POST /20180608/verify`
    Verify,
    /// `POST /20180608/secrets/{secretId}/actions/cancelDeletion`
    CancelSecretDeletion,
    /// `POST /20180608/secrets/{secretId}/actions/cancelRotation`
    CancelSecretRotation,
    /// `POST /20180608/secrets/{secretId}/version/{secretVersionNumber}/actions/cancelDeletion`
    CancelSecretVersionDeletion,
    /// `POST /20180608/secrets/{secretId}/actions/changeCompartment`
    ChangeSecretCompartment,
    /// `POST /20180608/secrets`
    CreateSecret,
    /// `GET /20180608/secrets/{secretId}`
    GetSecret,
    /// `GET /20180608/secrets/{secretId}/version/{secretVersionNumber}`
    GetSecretVersion,
    /// `GET /20180608/secrets/{secretId}/versions`
    ListSecretVersions,
    /// `GET /20180608/secrets`
    ListSecrets,
    /// `POST /20180608/secrets/{secretId}/actions/rotate`
    RotateSecret,
    /// `POST /20180608/secrets/{secretId}/actions/scheduleDeletion`
    ScheduleSecretDeletion,
    /// `POST /20180608/secrets/{secretId}/version/{secretVersionNumber}/actions/scheduleDeletion`
    ScheduleSecretVersionDeletion,
    /// `PUT /20180608/secrets/{secretId}`
    UpdateSecret,
    /// `GET /20190301/secretbundles/{secretId}`
    GetSecretBundle,
    /// `POST /20190301/secretbundles/actions/getByName`
    GetSecretBundleByName,
    /// `GET /20190301/secretbundles/{secretId}/versions`
    ListSecretBundleVersions,
    /// `GET /20190901/configuration`
    GetConfiguration,
    /// `GET /20190901/auditEvents`
    ListEvents,
    /// `PUT /20190901/configuration`
    UpdateConfiguration,
}

/// The static description of an operation: its request line and the IAM
/// permissions it needs (from the Vault policy reference; `unknown` in the
/// reference is an empty list here).
#[derive(Debug)]
pub struct OperationSpec {
    /// The operation.
    pub operation: Operation,
    /// The operation's OCI name, e.g. `GetSecretBundle`.
    pub name: &'static str,
    /// The API family, which decides at which endpoint it is served.
    pub service: Service,
    /// The HTTP method.
    pub method: Method,
    /// The path template as in the SDK, e.g. `/20180608/keys/{keyId}`.
    pub path: &'static str,
    /// IAM permissions required, e.g. `["SECRET_BUNDLE_READ"]`.
    pub permissions: &'static [&'static str],
    /// The policy resource-type the operation's target belongs to.
    pub resource_type: &'static str,
    /// Whether this emulator has a handler for it yet.
    pub implemented: bool,
}

/// Every operation of the five OCI APIs (plus audit), in the order of the
/// reference table.
pub static OPERATIONS: &[OperationSpec] = &[
    OperationSpec {
        operation: Operation::BackupVault,
        name: "BackupVault",
        service: Service::KmsVault,
        method: Method::POST,
        path: "/20180608/vaults/{vaultId}/actions/backup",
        permissions: &["VAULT_BACKUP"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CancelVaultDeletion,
        name: "CancelVaultDeletion",
        service: Service::KmsVault,
        method: Method::POST,
        path: "/20180608/vaults/{vaultId}/actions/cancelDeletion",
        permissions: &["VAULT_DELETE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ChangeVaultCompartment,
        name: "ChangeVaultCompartment",
        service: Service::KmsVault,
        method: Method::POST,
        path: "/20180608/vaults/{vaultId}/actions/changeCompartment",
        permissions: &["VAULT_MOVE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CreateVault,
        name: "CreateVault",
        service: Service::KmsVault,
        method: Method::POST,
        path: "/20180608/vaults",
        permissions: &["VAULT_CREATE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CreateVaultReplica,
        name: "CreateVaultReplica",
        service: Service::KmsVault,
        method: Method::POST,
        path: "/20180608/vaults/{vaultId}/actions/createReplica",
        permissions: &["VAULT_REPLICATE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::DeleteVaultReplica,
        name: "DeleteVaultReplica",
        service: Service::KmsVault,
        method: Method::POST,
        path: "/20180608/vaults/{vaultId}/actions/deleteReplica",
        permissions: &["VAULT_REPLICATE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetVault,
        name: "GetVault",
        service: Service::KmsVault,
        method: Method::GET,
        path: "/20180608/vaults/{vaultId}",
        permissions: &["VAULT_READ"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetVaultUsage,
        name: "GetVaultUsage",
        service: Service::KmsVault,
        method: Method::GET,
        path: "/20180608/vaults/{vaultId}/usage",
        permissions: &["VAULT_READ"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ListVaultReplicas,
        name: "ListVaultReplicas",
        service: Service::KmsVault,
        method: Method::GET,
        path: "/20180608/vaults/{vaultId}/actions/listReplicas",
        permissions: &["VAULT_INSPECT"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ListVaults,
        name: "ListVaults",
        service: Service::KmsVault,
        method: Method::GET,
        path: "/20180608/vaults",
        permissions: &["VAULT_INSPECT"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::RestoreVaultFromFile,
        name: "RestoreVaultFromFile",
        service: Service::KmsVault,
        method: Method::POST,
        path: "/20180608/vaults/actions/restoreFromFile",
        permissions: &["VAULT_RESTORE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::RestoreVaultFromObjectStore,
        name: "RestoreVaultFromObjectStore",
        service: Service::KmsVault,
        method: Method::POST,
        path: "/20180608/vaults/actions/restoreFromObjectStore",
        permissions: &["VAULT_RESTORE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ScheduleVaultDeletion,
        name: "ScheduleVaultDeletion",
        service: Service::KmsVault,
        method: Method::POST,
        path: "/20180608/vaults/{vaultId}/actions/scheduleDeletion",
        permissions: &["VAULT_DELETE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::UpdateRegisteredVaultForMtls,
        name: "UpdateRegisteredVaultForMtls",
        service: Service::KmsVault,
        method: Method::PUT,
        path: "/20180608/vaults/{vaultId}/updateRegisteredVaultForMtls",
        permissions: &["VAULT_UPDATE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::UpdateVault,
        name: "UpdateVault",
        service: Service::KmsVault,
        method: Method::PUT,
        path: "/20180608/vaults/{vaultId}",
        permissions: &["VAULT_UPDATE"],
        resource_type: "vaults",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::BackupKey,
        name: "BackupKey",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/actions/backup",
        permissions: &["KEY_BACKUP"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CancelKeyDeletion,
        name: "CancelKeyDeletion",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/actions/cancelDeletion",
        permissions: &["KEY_DELETE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CancelKeyVersionDeletion,
        name: "CancelKeyVersionDeletion",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/keyVersions/{keyVersionId}/actions/cancelDeletion",
        // Not in Oracle's per-API table; KEY_DELETE, as for CancelKeyDeletion.
        permissions: &["KEY_DELETE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ChangeKeyCompartment,
        name: "ChangeKeyCompartment",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/actions/changeCompartment",
        permissions: &["KEY_MOVE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CreateKey,
        name: "CreateKey",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys",
        permissions: &["KEY_CREATE", "VAULT_CREATE_KEY"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CreateKeyVersion,
        name: "CreateKeyVersion",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/keyVersions",
        permissions: &["KEY_ROTATE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::DisableKey,
        name: "DisableKey",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/actions/disable",
        permissions: &["KEY_UPDATE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::EnableKey,
        name: "EnableKey",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/actions/enable",
        permissions: &["KEY_UPDATE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetKey,
        name: "GetKey",
        service: Service::KmsManagement,
        method: Method::GET,
        path: "/20180608/keys/{keyId}",
        permissions: &["KEY_READ"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetKeyVersion,
        name: "GetKeyVersion",
        service: Service::KmsManagement,
        method: Method::GET,
        path: "/20180608/keys/{keyId}/keyVersions/{keyVersionId}",
        permissions: &["KEY_READ"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetReplicationStatus,
        name: "GetReplicationStatus",
        service: Service::KmsManagement,
        method: Method::GET,
        path: "/20180608/replicaOperations/{replicationId}/status",
        permissions: &["VAULT_READ"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetWrappingKey,
        name: "GetWrappingKey",
        service: Service::KmsManagement,
        method: Method::GET,
        path: "/20180608/wrappingKeys",
        // Oracle's policy reference lists no permission for it; reading the
        // vault's public wrapping key is taken as reading keys (`read keys`,
        // which `use`/`manage keys` include, as importers have).
        permissions: &["KEY_READ"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ImportKey,
        name: "ImportKey",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/import",
        permissions: &["KEY_IMPORT", "VAULT_IMPORT_KEY"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ImportKeyVersion,
        name: "ImportKeyVersion",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/keyVersions/import",
        permissions: &["KEY_IMPORT"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ListKeyVersions,
        name: "ListKeyVersions",
        service: Service::KmsManagement,
        method: Method::GET,
        path: "/20180608/keys/{keyId}/keyVersions",
        permissions: &["KEY_INSPECT"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ListKeys,
        name: "ListKeys",
        service: Service::KmsManagement,
        method: Method::GET,
        path: "/20180608/keys",
        permissions: &["KEY_INSPECT"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::RestoreKeyFromFile,
        name: "RestoreKeyFromFile",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/actions/restoreFromFile",
        permissions: &["KEY_RESTORE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::RestoreKeyFromObjectStore,
        name: "RestoreKeyFromObjectStore",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/actions/restoreFromObjectStore",
        permissions: &["KEY_RESTORE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ScheduleKeyDeletion,
        name: "ScheduleKeyDeletion",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/actions/scheduleDeletion",
        permissions: &["KEY_DELETE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ScheduleKeyVersionDeletion,
        name: "ScheduleKeyVersionDeletion",
        service: Service::KmsManagement,
        method: Method::POST,
        path: "/20180608/keys/{keyId}/keyVersions/{keyVersionId}/actions/scheduleDeletion",
        // Not in Oracle's per-API table; KEY_DELETE, as for ScheduleKeyDeletion.
        permissions: &["KEY_DELETE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::UpdateKey,
        name: "UpdateKey",
        service: Service::KmsManagement,
        method: Method::PUT,
        path: "/20180608/keys/{keyId}",
        permissions: &["KEY_UPDATE"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::Decrypt,
        name: "Decrypt",
        service: Service::KmsCrypto,
        method: Method::POST,
        path: "/20180608/decrypt",
        permissions: &["KEY_DECRYPT"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::Encrypt,
        name: "Encrypt",
        service: Service::KmsCrypto,
        method: Method::POST,
        path: "/20180608/encrypt",
        permissions: &["KEY_ENCRYPT"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ExportKey,
        name: "ExportKey",
        service: Service::KmsCrypto,
        method: Method::POST,
        path: "/20180608/exportKey",
        permissions: &["KEY_EXPORT"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GenerateDataEncryptionKey,
        name: "GenerateDataEncryptionKey",
        service: Service::KmsCrypto,
        method: Method::POST,
        path: "/20180608/generateDataEncryptionKey",
        permissions: &["KEY_ENCRYPT"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::Sign,
        name: "Sign",
        service: Service::KmsCrypto,
        method: Method::POST,
        path: "/20180608/sign",
        permissions: &["KEY_SIGN"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::Verify,
        name: "Verify",
        service: Service::KmsCrypto,
        method: Method::POST,
        path: "/20180608/verify",
        permissions: &["KEY_VERIFY"],
        resource_type: "keys",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CancelSecretDeletion,
        name: "CancelSecretDeletion",
        service: Service::VaultSecrets,
        method: Method::POST,
        path: "/20180608/secrets/{secretId}/actions/cancelDeletion",
        permissions: &["SECRET_DELETE"],
        resource_type: "secrets",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CancelSecretRotation,
        name: "CancelSecretRotation",
        service: Service::VaultSecrets,
        method: Method::POST,
        path: "/20180608/secrets/{secretId}/actions/cancelRotation",
        permissions: &["SECRET_ROTATE"],
        resource_type: "secrets",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CancelSecretVersionDeletion,
        name: "CancelSecretVersionDeletion",
        service: Service::VaultSecrets,
        method: Method::POST,
        path: "/20180608/secrets/{secretId}/version/{secretVersionNumber}/actions/cancelDeletion",
        permissions: &["SECRET_VERSION_DELETE", "SECRET_UPDATE"],
        resource_type: "secret-versions",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ChangeSecretCompartment,
        name: "ChangeSecretCompartment",
        service: Service::VaultSecrets,
        method: Method::POST,
        path: "/20180608/secrets/{secretId}/actions/changeCompartment",
        permissions: &["SECRET_MOVE", "SECRET_UPDATE"],
        resource_type: "secrets",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::CreateSecret,
        name: "CreateSecret",
        service: Service::VaultSecrets,
        method: Method::POST,
        path: "/20180608/secrets",
        permissions: &[
            "KEY_ENCRYPT",
            "KEY_DECRYPT",
            "SECRET_CREATE",
            "VAULT_CREATE_SECRET",
        ],
        resource_type: "secrets",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetSecret,
        name: "GetSecret",
        service: Service::VaultSecrets,
        method: Method::GET,
        path: "/20180608/secrets/{secretId}",
        permissions: &["SECRET_READ"],
        resource_type: "secrets",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetSecretVersion,
        name: "GetSecretVersion",
        service: Service::VaultSecrets,
        method: Method::GET,
        path: "/20180608/secrets/{secretId}/version/{secretVersionNumber}",
        permissions: &["SECRET_VERSION_READ"],
        resource_type: "secret-versions",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ListSecretVersions,
        name: "ListSecretVersions",
        service: Service::VaultSecrets,
        method: Method::GET,
        path: "/20180608/secrets/{secretId}/versions",
        permissions: &["SECRET_VERSION_INSPECT"],
        resource_type: "secret-versions",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ListSecrets,
        name: "ListSecrets",
        service: Service::VaultSecrets,
        method: Method::GET,
        path: "/20180608/secrets",
        permissions: &["SECRET_INSPECT"],
        resource_type: "secrets",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::RotateSecret,
        name: "RotateSecret",
        service: Service::VaultSecrets,
        method: Method::POST,
        path: "/20180608/secrets/{secretId}/actions/rotate",
        permissions: &["SECRET_ROTATE"],
        resource_type: "secrets",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ScheduleSecretDeletion,
        name: "ScheduleSecretDeletion",
        service: Service::VaultSecrets,
        method: Method::POST,
        path: "/20180608/secrets/{secretId}/actions/scheduleDeletion",
        permissions: &["SECRET_DELETE"],
        resource_type: "secrets",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ScheduleSecretVersionDeletion,
        name: "ScheduleSecretVersionDeletion",
        service: Service::VaultSecrets,
        method: Method::POST,
        path: "/20180608/secrets/{secretId}/version/{secretVersionNumber}/actions/scheduleDeletion",
        permissions: &["SECRET_VERSION_DELETE", "SECRET_UPDATE"],
        resource_type: "secret-versions",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::UpdateSecret,
        name: "UpdateSecret",
        service: Service::VaultSecrets,
        method: Method::PUT,
        path: "/20180608/secrets/{secretId}",
        permissions: &["SECRET_UPDATE"],
        resource_type: "secrets",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetSecretBundle,
        name: "GetSecretBundle",
        service: Service::Secrets,
        method: Method::GET,
        path: "/20190301/secretbundles/{secretId}",
        permissions: &["SECRET_BUNDLE_READ"],
        resource_type: "secret-bundles",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetSecretBundleByName,
        name: "GetSecretBundleByName",
        service: Service::Secrets,
        method: Method::POST,
        path: "/20190301/secretbundles/actions/getByName",
        permissions: &["SECRET_BUNDLE_READ"],
        resource_type: "secret-bundles",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ListSecretBundleVersions,
        name: "ListSecretBundleVersions",
        service: Service::Secrets,
        method: Method::GET,
        path: "/20190301/secretbundles/{secretId}/versions",
        permissions: &["SECRET_BUNDLE_INSPECT"],
        resource_type: "secret-bundles",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::GetConfiguration,
        name: "GetConfiguration",
        service: Service::Audit,
        method: Method::GET,
        path: "/20190901/configuration",
        permissions: &["TENANCY_INSPECT"],
        resource_type: "tenancies",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::ListEvents,
        name: "ListEvents",
        service: Service::Audit,
        method: Method::GET,
        path: "/20190901/auditEvents",
        permissions: &["AUDIT_EVENT_READ"],
        resource_type: "audit-events",
        implemented: true,
    },
    OperationSpec {
        operation: Operation::UpdateConfiguration,
        name: "UpdateConfiguration",
        service: Service::Audit,
        method: Method::PUT,
        path: "/20190901/configuration",
        permissions: &["TENANCY_UPDATE"],
        resource_type: "tenancies",
        implemented: true,
    },
];

impl Operation {
    /// The static description of this operation.
    pub fn spec(self) -> &'static OperationSpec {
        // The table is in declaration order; the route table test checks it.
        &OPERATIONS[self as usize]
    }

    /// The OCI name of the operation (`GetSecretBundle`).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The API family of the operation.
    pub fn service(self) -> Service {
        self.spec().service
    }
}

/// The path prefix that addresses another region than the emulator's own:
/// `/regions/us-phoenix-1` is the regional endpoint of `us-phoenix-1`
/// (`KmsVaultClient(config, service_endpoint=base + "/regions/us-phoenix-1")`),
/// and a vault's endpoints there are `/regions/us-phoenix-1/kms/<key>/…`.
pub const REGION_PREFIX: &str = "/regions/";

/// Path parameters captured by [`route`], in template order
/// (`{secretId}` → `("secretId", "ocid1.vaultsecret…")`), percent-decoded.
pub type PathParams = Vec<(&'static str, String)>;

/// What [`route`] found for a method and a path (without the query string).
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// An operation matched method and path.
    Found(Operation, PathParams),
    /// The path names operations, but not with this method (405); the
    /// methods it has, for the `Allow` header.
    MethodNotAllowed(Vec<Method>),
    /// No operation has this path (404 `NotFound`).
    NotFound,
}

/// Finds the operation for `method` and `path` (an OCI API path such as
/// `/20190301/secretbundles/ocid1…`, after any per-vault endpoint prefix was
/// removed). Literal segments win over `{param}` segments, so
/// `/20180608/vaults/actions/restoreFromFile` is not taken for a vault id.
pub fn route(method: &Method, path: &str) -> Route {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let mut best: Option<(usize, &OperationSpec, &[Part])> = None;
    let mut allowed: Vec<Method> = Vec::new();
    for (spec, parts) in OPERATIONS.iter().zip(TEMPLATES.iter()) {
        let Some(literals) = literal_matches(parts, &segments) else {
            continue;
        };
        if spec.method != *method {
            if !allowed.contains(&spec.method) {
                allowed.push(spec.method.clone());
            }
            continue;
        }
        if best.as_ref().is_none_or(|(l, _, _)| literals > *l) {
            best = Some((literals, spec, parts));
        }
    }
    match best {
        Some((_, spec, parts)) => match captures(parts, &segments) {
            Some(params) => Route::Found(spec.operation, params),
            None => Route::NotFound,
        },
        None if !allowed.is_empty() => Route::MethodNotAllowed(allowed),
        None => Route::NotFound,
    }
}

/// One segment of a path template.
enum Part {
    /// Must equal the path's segment.
    Literal(&'static str),
    /// `{name}`: captures any non-empty segment.
    Param(&'static str),
}

/// Every operation's path template split into [`Part`]s once, in the order
/// of [`OPERATIONS`] (routing used to split them on every request).
static TEMPLATES: std::sync::LazyLock<Vec<Vec<Part>>> = std::sync::LazyLock::new(|| {
    OPERATIONS
        .iter()
        .map(|spec| {
            spec.path
                .split('/')
                .skip(1)
                .map(
                    |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                        Some(name) => Part::Param(name),
                        None => Part::Literal(part),
                    },
                )
                .collect()
        })
        .collect()
});

/// Whether a template matches path segments, and how many of its literal
/// segments did (more literals win).
fn literal_matches(parts: &[Part], segments: &[&str]) -> Option<usize> {
    if parts.len() != segments.len() {
        return None;
    }
    let mut literals = 0;
    for (part, seg) in parts.iter().zip(segments) {
        match part {
            Part::Param(_) if seg.is_empty() => return None,
            Part::Param(_) => {}
            Part::Literal(lit) if lit == seg => literals += 1,
            Part::Literal(_) => return None,
        }
    }
    Some(literals)
}

/// The parameters a matching template captures, percent-decoded; `None`
/// when one does not decode to UTF-8.
fn captures(parts: &[Part], segments: &[&str]) -> Option<PathParams> {
    parts
        .iter()
        .zip(segments)
        .filter_map(|(part, seg)| match part {
            Part::Param(name) => Some(percent_decode(seg).map(|v| (*name, v))),
            Part::Literal(_) => None,
        })
        .collect()
}

/// Decodes `%XX` escapes in one path segment (the `percent-encoding`
/// crate); `None` for a result that is not UTF-8. A `%` not followed by two
/// hex digits stays as it is, as the WHATWG URL standard decodes.
pub fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// The ids a request names, found by its operation's target rule (DESIGN:
/// "route: the operation and the target ids from path, query or body"):
///
/// - path parameters `vaultId`, `keyId`, `secretId`;
/// - `ListVaults`, `ListKeys`, `ListSecrets`, `RestoreVaultFromFile`,
///   `RestoreVaultFromObjectStore`: the query's `compartmentId`;
/// - `CreateVault`, `CreateKey`, `ImportKey`: the body's `compartmentId`;
/// - `ChangeVaultCompartment`, `ChangeKeyCompartment`,
///   `ChangeSecretCompartment`: the body's
///   `compartmentId`, the compartment the resource moves into;
/// - `CreateSecret`: the body's `compartmentId`, `vaultId`, `keyId` and
///   `secretName`;
/// - crypto calls (`Encrypt`, `Decrypt`, `GenerateDataEncryptionKey`,
///   `ExportKey`, `Sign`, `Verify`): the body's `keyId`;
/// - `GetSecretBundleByName`: the query's `vaultId` and `secretName`;
/// - `RotateSecret`, `CancelSecretRotation`: the path's `secretId` only;
/// - key and crypto calls: the vault endpoint key they came in on;
/// - every call: the region it is addressed to (set by the pipeline from
///   the path, see `pipeline::route::split_region`).
///
/// Only these fields of a body are read (a string value counts; any other
/// type is left to the handler's validation), so plaintext and secret
/// content are never touched here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Named {
    /// The compartment a list reads, a create or restore writes to, or a
    /// move moves into.
    pub compartment_id: Option<String>,
    /// The region the request is addressed to, when it is not the
    /// emulator's own `--region` (a `/regions/<region>/…` path).
    pub region: Option<String>,
    /// A vault OCID.
    pub vault_id: Option<String>,
    /// A key OCID.
    pub key_id: Option<String>,
    /// A secret OCID.
    pub secret_id: Option<String>,
    /// The name of the secret `GetSecretBundleByName` reads (in `vault_id`).
    pub secret_name: Option<String>,
    /// The name `CreateSecret` gives its new secret.
    pub new_secret_name: Option<String>,
    /// The endpoint key of the vault whose management or crypto endpoint
    /// the call came in on.
    pub vault_endpoint: Option<String>,
}

/// The body fields a target rule may read (strings only, see [`Named`]).
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BodyIds {
    compartment_id: Option<serde_json::Value>,
    vault_id: Option<serde_json::Value>,
    key_id: Option<serde_json::Value>,
    secret_name: Option<serde_json::Value>,
}

fn text(value: Option<serde_json::Value>) -> Option<String> {
    match value {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

impl Named {
    /// The ids `operation` names in `params`, the raw `query` string and the
    /// `body`; `vault_endpoint` is the per-vault endpoint the call used.
    pub fn of(
        operation: Operation,
        params: &PathParams,
        query: &str,
        body: &[u8],
        vault_endpoint: Option<&str>,
    ) -> Self {
        use Operation::*;
        let param = |name: &str| {
            params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        };
        let mut named = Named {
            vault_id: param("vaultId"),
            key_id: param("keyId"),
            secret_id: param("secretId"),
            vault_endpoint: vault_endpoint.map(str::to_owned),
            ..Named::default()
        };
        let from_query = |name: &str| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v)
                .filter(|v| !v.is_empty())
        };
        let from_body = || {
            if body.iter().all(u8::is_ascii_whitespace) {
                return BodyIds::default();
            }
            serde_json::from_slice::<BodyIds>(body).unwrap_or_default()
        };
        match operation {
            ListVaults
            | ListKeys
            | ListSecrets
            | RestoreVaultFromFile
            | RestoreVaultFromObjectStore
            | ListEvents
            | GetConfiguration
            | UpdateConfiguration => {
                named.compartment_id = from_query("compartmentId");
            }
            CreateVault
            | CreateKey
            | ImportKey
            | ChangeVaultCompartment
            | ChangeKeyCompartment
            | ChangeSecretCompartment => {
                named.compartment_id = text(from_body().compartment_id);
            }
            CreateSecret => {
                let ids = from_body();
                named.compartment_id = text(ids.compartment_id);
                named.vault_id = text(ids.vault_id);
                named.key_id = text(ids.key_id);
                named.new_secret_name = text(ids.secret_name);
            }
            Encrypt | Decrypt | GenerateDataEncryptionKey | ExportKey | Sign | Verify => {
                named.key_id = text(from_body().key_id);
            }
            GetSecretBundleByName => {
                named.vault_id = from_query("vaultId");
                named.secret_name = from_query("secretName");
            }
            // The path's `secretId` only: neither sends a body.
            RotateSecret | CancelSecretRotation => {}
            _ => {}
        }
        named
    }

    /// The id of the resource the operation itself acts on, as named: the
    /// path's `secretId`, `keyId` or `vaultId` (most specific first), or a
    /// crypto call's `keyId`. `None` for creates and lists, and for
    /// `GetSecretBundleByName`, which names its secret by name (the
    /// resolver finds its id).
    pub fn own_resource_id(&self, operation: Operation) -> Option<&str> {
        use Operation::*;
        match operation {
            CreateSecret | GetSecretBundleByName => None,
            _ => self
                .secret_id
                .as_deref()
                .or(self.key_id.as_deref())
                .or(self.vault_id.as_deref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_declaration_order() {
        for (i, spec) in OPERATIONS.iter().enumerate() {
            assert_eq!(spec.operation as usize, i, "{}", spec.name);
            assert_eq!(format!("{:?}", spec.operation), spec.name);
        }
    }

    /// Request lines as the `oci` Python SDK 2.189.0 sends them.
    #[test]
    fn documented_request_lines_route_to_their_operation() {
        type Case = (
            Method,
            &'static str,
            Operation,
            &'static [(&'static str, &'static str)],
        );
        let cases: &[Case] = &[
            (
                Method::POST,
                "/20180608/vaults",
                Operation::CreateVault,
                &[],
            ),
            (
                Method::GET,
                "/20180608/vaults/ocid1.vault.oc1.iad.x",
                Operation::GetVault,
                &[("vaultId", "ocid1.vault.oc1.iad.x")],
            ),
            (
                Method::POST,
                "/20180608/vaults/actions/restoreFromFile",
                Operation::RestoreVaultFromFile,
                &[],
            ),
            (
                Method::POST,
                "/20180608/vaults/v1/actions/scheduleDeletion",
                Operation::ScheduleVaultDeletion,
                &[("vaultId", "v1")],
            ),
            (
                Method::POST,
                "/20180608/keys/import",
                Operation::ImportKey,
                &[],
            ),
            (
                Method::PUT,
                "/20180608/keys/k1",
                Operation::UpdateKey,
                &[("keyId", "k1")],
            ),
            (
                Method::GET,
                "/20180608/keys/k1/keyVersions/kv1",
                Operation::GetKeyVersion,
                &[("keyId", "k1"), ("keyVersionId", "kv1")],
            ),
            (
                Method::POST,
                "/20180608/keys/k1/keyVersions/import",
                Operation::ImportKeyVersion,
                &[("keyId", "k1")],
            ),
            (Method::POST, "/20180608/encrypt", Operation::Encrypt, &[]),
            (
                Method::GET,
                "/20180608/secrets/s1/version/3",
                Operation::GetSecretVersion,
                &[("secretId", "s1"), ("secretVersionNumber", "3")],
            ),
            (
                Method::GET,
                "/20180608/secrets/s1/versions",
                Operation::ListSecretVersions,
                &[("secretId", "s1")],
            ),
            (
                Method::POST,
                "/20180608/secrets/s1/actions/rotate",
                Operation::RotateSecret,
                &[("secretId", "s1")],
            ),
            (
                Method::POST,
                "/20180608/secrets/s1/actions/cancelRotation",
                Operation::CancelSecretRotation,
                &[("secretId", "s1")],
            ),
            (
                Method::GET,
                "/20190301/secretbundles/s1",
                Operation::GetSecretBundle,
                &[("secretId", "s1")],
            ),
            (
                Method::POST,
                "/20190301/secretbundles/actions/getByName",
                Operation::GetSecretBundleByName,
                &[],
            ),
            (
                Method::GET,
                "/20190301/secretbundles/s%2F1/versions",
                Operation::ListSecretBundleVersions,
                &[("secretId", "s/1")],
            ),
        ];
        for (method, path, op, params) in cases {
            let expected: PathParams = params.iter().map(|(k, v)| (*k, v.to_string())).collect();
            let want = Route::Found(*op, expected);
            assert_eq!(route(method, path), want, "{method} {path}");
        }
    }

    #[test]
    fn unknown_paths_and_methods_are_told_apart() {
        assert_eq!(
            route(&Method::DELETE, "/20180608/vaults/v1"),
            Route::MethodNotAllowed(vec![Method::GET, Method::PUT])
        );
        assert_eq!(route(&Method::GET, "/20180608/nothing"), Route::NotFound);
        assert_eq!(route(&Method::GET, "/"), Route::NotFound);
    }

    #[test]
    fn percent_decoding_keeps_utf8_and_refuses_broken_utf8() {
        assert_eq!(percent_decode("s%2F1").as_deref(), Some("s/1"));
        assert_eq!(percent_decode("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(percent_decode("%FF"), None);
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
    }

    #[test]
    fn rotation_calls_name_the_paths_secret_only() {
        for op in [Operation::RotateSecret, Operation::CancelSecretRotation] {
            let params: PathParams = vec![("secretId", "s1".to_owned())];
            let body = br#"{"compartmentId":"c","vaultId":"v","keyId":"k"}"#;
            let named = Named::of(op, &params, "compartmentId=c", body, None);
            assert_eq!(
                named,
                Named {
                    secret_id: Some("s1".into()),
                    ..Named::default()
                }
            );
        }
    }

    #[test]
    fn every_operation_has_a_known_permission_or_is_unimplemented() {
        for spec in OPERATIONS.iter().filter(|s| s.implemented) {
            assert!(
                !spec.permissions.is_empty(),
                "{} has no permission",
                spec.name
            );
        }
    }
}
