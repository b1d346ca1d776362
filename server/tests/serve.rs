//! The real listener: a client that never finishes its headers is
//! disconnected after the header-read timeout, while others are served.

use std::time::Duration;

use oci_vault_emulator::{Application, ServeConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let mut config = ServeConfig::for_tests("127.0.0.1:0".parse().unwrap());
    config.header_read_timeout_secs = 1;
    let app = Application::build(config).await.unwrap();
    let addr = app.local_addr_display();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        stopped.await.ok();
    }));

    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: emulator.test\r\n")
        .await
        .unwrap();

    let mut fast = TcpStream::connect(&addr).await.unwrap();
    fast.write_all(
        b"GET /_emulator/health HTTP/1.1\r\nHost: emulator.test\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    fast.read_to_end(&mut answer).await.unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // Closed by the server (end of stream, or a reset), well before the
    // deadline; never answered as if its request had arrived.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest))
        .await
        .expect("the slow connection is still open after 10 s");
    if closed.is_ok() {
        assert!(
            !rest.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&rest)
        );
    }

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
