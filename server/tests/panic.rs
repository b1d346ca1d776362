//! The panic path under the production layers, alone in its own test
//! binary: the assertion reads the log line's span, and `tracing` caches a
//! callsite's interest process-wide, so a test on another thread that
//! reached the same span first (with no subscriber of its own) would leave
//! it disabled here. One test per process means this subscriber is the
//! only one that callsite ever sees.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt as _;

/// A panic below the layers answers OCI's 500 with the request's id, and
/// logs one error line that names that id.
#[tokio::test(flavor = "current_thread")]
async fn a_panicking_handler_answers_an_oci_500_with_its_request_id() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let routes = axum::Router::new().route(
        "/boom",
        axum::routing::get(|| async {
            if true {
                panic!("deliberate test panic");
            }
            "unreachable"
        }),
    );
    let router = oci_vault_emulator::http::with_layers(routes);
    let response = router
        .oneshot(
            Request::builder()
                .uri("/boom")
                .header("opc-request-id", "PANIC-TEST-1")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["opc-request-id"], "PANIC-TEST-1");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value =
        serde_json::from_slice(&to_bytes(response.into_body(), usize::MAX).await.unwrap()).unwrap();
    assert_eq!(body["code"], "InternalServerError");
    assert_eq!(body["message"], "Internal error occurred.");
    let log = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert!(errors[0].contains("PANIC-TEST-1"), "{log}");
    assert!(errors[0].contains("panicked"), "{log}");
}
