//! The HTTP client side of file transfer against a scripted responder on loopback: what
//! counts as an upload stored or a file downloaded, which redirects are followed, and
//! the size limit whatever the framing. Plain HTTP, no XMPP.

use std::path::PathBuf;

use jabber_proto::features::files::UploadSlot;
use jabber_tests::http_script::HttpScript;
use jabber_tokio::files::TransferError;

fn folder() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("jabber-tokio-http-{}", jabber_tokio::fresh_seed()));
    std::fs::create_dir_all(&dir).expect("folder");
    dir
}

fn answer(status: &str, headers: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\nConnection: close\r\n{headers}\r\n{body}")
}

async fn upload_to(script: &HttpScript) -> Result<(), TransferError> {
    let dir = folder();
    let path = dir.join("up.bin");
    std::fs::write(&path, b"hello").expect("file");
    let slot = UploadSlot {
        put_url: script.url("/put/up.bin"),
        put_headers: Vec::new(),
        get_url: script.url("/get/up.bin"),
    };
    let tls = jabber_tokio::Tls::default();
    let result = jabber_tokio::upload(&slot, &path, None, &tls, |_| {}).await;
    let _ = std::fs::remove_dir_all(dir);
    result
}

async fn download_from(
    script: &HttpScript,
    limit: u64,
) -> (Result<u64, TransferError>, Option<Vec<u8>>) {
    let dir = folder();
    let dest = dir.join("down.bin");
    let tls = jabber_tokio::Tls::default();
    let result = jabber_tokio::download(&script.url("/f"), &dest, limit, &tls, |_| {}).await;
    let got = std::fs::read(&dest).ok();
    assert!(
        !dir.join("down.bin.part").exists(),
        "no partial file is left"
    );
    let _ = std::fs::remove_dir_all(dir);
    (result, got)
}

#[tokio::test]
async fn a_put_is_stored_only_on_200_or_201_and_never_redirected() {
    for ok in ["200 OK", "201 Created"] {
        let script = HttpScript::start(vec![answer(ok, "Content-Length: 0\r\n", "")]);
        upload_to(&script).await.expect("stored");
        assert!(script.heads()[0].starts_with("PUT /put/up.bin HTTP/1.1\r\n"));
    }
    let script = HttpScript::start(vec![
        answer(
            "307 Temporary Redirect",
            "Location: /elsewhere\r\nContent-Length: 0\r\n",
            "",
        ),
        answer("201 Created", "Content-Length: 0\r\n", ""),
    ]);
    match upload_to(&script).await {
        Err(TransferError::Status(307)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(script.heads().len(), 1, "the redirect is not followed");
    let script = HttpScript::start(vec![answer("204 No Content", "", "")]);
    assert!(matches!(
        upload_to(&script).await,
        Err(TransferError::Status(204))
    ));
}

#[tokio::test]
async fn only_a_200_is_the_file() {
    for status in ["204 No Content", "304 Not Modified", "302 Found"] {
        let script = HttpScript::start(vec![answer(status, "Content-Length: 0\r\n", "")]);
        let (result, got) = download_from(&script, 100).await;
        assert!(
            matches!(result, Err(TransferError::Status(_))),
            "{status}: {result:?}"
        );
        assert_eq!(got, None, "{status}: nothing left behind");
    }
}

#[tokio::test]
async fn redirects_are_followed_within_bounds_and_checked() {
    let script = HttpScript::start(vec![
        answer("302 Found", "Location: /g\r\nContent-Length: 0\r\n", ""),
        answer(
            "301 Moved Permanently",
            "Location: http://{addr}/h\r\nContent-Length: 0\r\n",
            "",
        ),
        answer("200 OK", "Content-Length: 3\r\n", "abc"),
    ]);
    let (result, got) = download_from(&script, 100).await;
    assert_eq!(result.expect("downloaded"), 3);
    assert_eq!(got.as_deref(), Some(&b"abc"[..]));
    let heads = script.heads();
    assert!(heads[1].starts_with("GET /g "), "{heads:?}");
    assert!(heads[2].starts_with("GET /h "), "{heads:?}");

    let script = HttpScript::start(vec![answer(
        "302 Found",
        "Location: file:///etc/passwd\r\nContent-Length: 0\r\n",
        "",
    )]);
    // Not followed (reqwest stops at a scheme it does not fetch, before the policy).
    let (result, got) = download_from(&script, 100).await;
    assert!(
        matches!(
            result,
            Err(TransferError::Http(_) | TransferError::Status(302))
        ),
        "{result:?}"
    );
    assert_eq!(got, None);

    let hop = answer("302 Found", "Location: /again\r\nContent-Length: 0\r\n", "");
    let script = HttpScript::start(vec![hop; 7]);
    assert!(matches!(
        download_from(&script, 100).await.0,
        Err(TransferError::Http(_))
    ));
    assert_eq!(
        script.heads().len(),
        6,
        "the first request and five redirects"
    );
}

#[tokio::test]
async fn the_limit_holds_whatever_the_framing() {
    let big = "x".repeat(5000);
    // Announced too large: refused before the body.
    let script = HttpScript::start(vec![answer("200 OK", "Content-Length: 5000\r\n", &big)]);
    let (result, got) = download_from(&script, 4000).await;
    assert!(matches!(
        result,
        Err(TransferError::TooLarge { limit: 4000 })
    ));
    assert_eq!(got, None);
    // No length: the body runs to the close.
    let script = HttpScript::start(vec![answer("200 OK", "", &big)]);
    let (result, got) = download_from(&script, 4000).await;
    assert!(
        matches!(result, Err(TransferError::TooLarge { limit: 4000 })),
        "{result:?}"
    );
    assert_eq!(got, None);
    // Chunked.
    let chunked = format!("{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let script = HttpScript::start(vec![answer(
        "200 OK",
        "Transfer-Encoding: chunked\r\n",
        &chunked,
    )]);
    let (result, got) = download_from(&script, 4000).await;
    assert!(
        matches!(result, Err(TransferError::TooLarge { limit: 4000 })),
        "{result:?}"
    );
    assert_eq!(got, None);
    // A length that promises more than comes.
    let script = HttpScript::start(vec![answer("200 OK", "Content-Length: 3000\r\n", "short")]);
    let (result, got) = download_from(&script, 4000).await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(got, None);
    // Within the limit, without a length.
    let script = HttpScript::start(vec![answer("200 OK", "", &big)]);
    assert_eq!(
        download_from(&script, 5000).await.0.expect("downloaded"),
        5000
    );
}
