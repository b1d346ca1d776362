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

/// Starts the emulator with `config` on a free port: its address and the
/// sender that stops it (and the task to await).
async fn start(
    config: ServeConfig,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let app = Application::build(config).await.unwrap();
    let addr = app.local_addr_display();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        stopped.await.ok();
    }));
    (addr, stop, server)
}

/// Reads one HTTP/1.1 response (head and `content-length` body) from
/// `stream`: (status line, head, body).
async fn read_response(stream: &mut TcpStream) -> (String, String, Vec<u8>) {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(
            n > 0,
            "closed mid-response: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed mid-body");
        body.extend_from_slice(&chunk[..n]);
    }
    let status = head.lines().next().unwrap().to_owned();
    (status, head, body)
}

const HEALTH: &[u8] = b"GET /_emulator/health HTTP/1.1\r\nHost: emulator.test\r\n\r\n";

/// Waits (up to 10 s, a deadline for a hung server, not a timing
/// assertion) for the server to close `stream`; the bytes it sent first.
async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    match tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await {
        Err(_) => panic!("the connection is still open after 10 s"),
        // A reset is a close too.
        Ok(_) => rest,
    }
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_header_read_timeout() {
    let mut config = ServeConfig::for_tests("127.0.0.1:0".parse().unwrap());
    config.header_read_timeout_secs = 1;
    let (addr, stop, server) = start(config).await;

    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    // A keep-alive connection idle after its first request.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(HEALTH).await.unwrap();
    let (status, head, _) = read_response(&mut kept).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );

    assert_eq!(closed_by_server(&mut silent).await, b"");
    assert_eq!(closed_by_server(&mut kept).await, b"");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn past_the_connection_limit_a_client_gets_a_503_and_the_others_are_served() {
    let mut config = ServeConfig::for_tests("127.0.0.1:0".parse().unwrap());
    config.max_connections = Some(2);
    let (addr, stop, server) = start(config).await;

    // Two connections, each answered once (so both are accepted and held).
    let mut first = TcpStream::connect(&addr).await.unwrap();
    let mut second = TcpStream::connect(&addr).await.unwrap();
    for conn in [&mut first, &mut second] {
        conn.write_all(HEALTH).await.unwrap();
        assert_eq!(read_response(conn).await.0, "HTTP/1.1 200 OK");
    }

    // The third is answered at once, before its request is even sent.
    let mut third = TcpStream::connect(&addr).await.unwrap();
    let (status, head, body) = read_response(&mut third).await;
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("\r\nconnection: close\r\n"), "{head}");
    assert!(
        head.contains("\r\ncontent-type: application/json\r\n"),
        "{head}"
    );
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "code": "ServiceUnavailable",
            "message": "The emulator is serving its maximum of 2 connections (--max-connections); retry later."
        })
    );
    // Sending the request afterwards changes nothing: the server closes.
    let _ = third.write_all(HEALTH).await;
    assert_eq!(closed_by_server(&mut third).await, b"");

    // The first two still work.
    for conn in [&mut first, &mut second] {
        conn.write_all(HEALTH).await.unwrap();
        assert_eq!(read_response(conn).await.0, "HTTP/1.1 200 OK");
    }

    // Once one of them closes, its place is served again (the server sees
    // the close asynchronously: retry until then, within a deadline).
    drop(first);
    let served = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let mut next = TcpStream::connect(&addr).await.unwrap();
            next.write_all(HEALTH).await.unwrap();
            let (status, _, _) = read_response(&mut next).await;
            if status == "HTTP/1.1 200 OK" {
                break next;
            }
            assert_eq!(status, "HTTP/1.1 503 Service Unavailable");
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(served.is_ok(), "the freed place was not served within 10 s");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
