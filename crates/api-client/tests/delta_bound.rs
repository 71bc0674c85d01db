//! `fetch_delta` against a fake primary on a real socket that serves an oversized delta: the
//! client refuses it having read no more than the bound (issue #17).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use api_client::Client;
use register_sync::{Fetched, Remote as _};

/// 1 MiB: what the client may read of a delta in these tests.
const BOUND: u64 = 1 << 20;

/// A server that answers one request with `head` and then `line` over and over until the
/// client goes away; the bytes of body it managed to send, through the channel.
fn fake_primary(head: &'static str, line: &'static [u8]) -> (String, mpsc::Receiver<u64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (sent, report) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut request_line = String::new();
        while reader.read_line(&mut request_line).is_ok_and(|n| n > 2) {
            request_line.clear();
        }
        let mut stream = stream;
        let _ = stream.write_all(head.as_bytes());
        let mut body = 0u64;
        // 4 GiB at most, so that a client that reads everything still ends the test.
        while body < 4 << 30 && stream.write_all(line).is_ok() {
            body += line.len() as u64;
        }
        let _ = sent.send(body);
    });
    (url, report)
}

fn fetch(url: &str) -> Result<Fetched, api_client::ClientError> {
    let client = Client::new(url, "acme", "secret");
    client.fetch_delta(uuid::Uuid::nil(), 0, 100_000, BOUND)
}

/// Socket buffers hold some megabytes beyond what the client read; a client that read the
/// whole body would have taken gigabytes.
fn assert_stopped_early(report: &mpsc::Receiver<u64>) {
    let sent = report
        .recv_timeout(Duration::from_secs(60))
        .expect("the fake primary stops when the client goes away");
    assert!(sent < 64 << 20, "the fake primary sent {sent} bytes");
}

#[test]
fn a_declared_length_over_the_bound_is_refused_unread() {
    let (url, report) = fake_primary(
        "HTTP/1.1 200 OK\r\ncontent-type: application/uk-gov-rsf\r\n\
         content-length: 1610612736\r\n\r\n",
        b"add-item\t{\"name\":\"x\"}\n",
    );
    assert!(matches!(fetch(&url), Ok(Fetched::OverBound)));
    assert_stopped_early(&report);
}

#[test]
fn an_undeclared_length_is_read_only_up_to_the_bound() {
    let (url, report) = fake_primary(
        "HTTP/1.1 200 OK\r\ncontent-type: application/uk-gov-rsf\r\nconnection: close\r\n\r\n",
        b"add-item\t{\"name\":\"x\"}\n",
    );
    assert!(matches!(fetch(&url), Ok(Fetched::OverBound)));
    assert_stopped_early(&report);
}

#[test]
fn a_line_longer_than_rsf_allows_is_refused_where_it_grows_too_long() {
    let (url, report) = fake_primary(
        "HTTP/1.1 200 OK\r\ncontent-type: application/uk-gov-rsf\r\nconnection: close\r\n\r\n",
        &[b'a'; 4096],
    );
    let client = Client::new(&url, "acme", "secret");
    match client.fetch_delta(uuid::Uuid::nil(), 0, 1, u64::MAX) {
        Err(e) => assert!(
            e.to_string()
                .contains("line 1 of the delta is longer than 16777216 bytes"),
            "{e}"
        ),
        Ok(other) => panic!("{other:?}"),
    }
    assert_stopped_early(&report);
}
