//! The binary's `print-config`: where it writes the key, and errors that
//! name the path they failed on.

use std::path::PathBuf;
use std::process::Command;

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "oci-vault-emulator-cli-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn print_config(args: &[&str], tmpdir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_oci-vault-emulator"))
        .arg("print-config")
        .args(args)
        .env("TMPDIR", tmpdir)
        .output()
        .unwrap()
}

#[test]
fn print_config_writes_the_key_under_tmpdir_by_default() {
    let dir = scratch_dir("default");
    let out = print_config(&["--profile", "developer"], &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = std::fs::canonicalize(&dir)
        .unwrap()
        .join("oci-vault-emulator/developer.pem");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(&format!("\nkey_file={}\n", key.display())),
        "{stdout}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn print_config_names_the_directory_it_cannot_create() {
    let dir = scratch_dir("blocked");
    // A regular file where a parent directory should be: fails for root too.
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, b"").unwrap();
    let key_dir = blocker.join("keys");
    let out = print_config(&["--key-dir", key_dir.to_str().unwrap()], &dir);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot create the key directory {}",
            key_dir.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--key-dir"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
