//! Runs the `stream-dump` example on whole streams: exact output for a valid one, the
//! `error` verdict and exit status for bad ones, and the same output for every `--chunk`.
//!
//! Cargo gives integration tests no path to an example, so the first test to need it
//! builds it (`cargo build --example stream-dump`, same profile and target directory as
//! this test) and takes the binary's path from Cargo's JSON messages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The chunk sizes every input is dumped with; `None` feeds each read as it comes.
const CHUNKS: &[Option<usize>] = &[
    None,
    Some(1),
    Some(2),
    Some(3),
    Some(7),
    Some(64),
    Some(1460),
];

/// The example binary, built on first use.
fn example() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(build_example)
}

fn build_example() -> PathBuf {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "build",
        "--quiet",
        "--message-format=json-render-diagnostics",
        "-p",
        "jabber-proto",
        "--example",
        "stream-dump",
        "--manifest-path",
        concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
    ]);
    // This test runs from <target>/<profile>/deps/: build into the same place.
    let exe = std::env::current_exe().expect("path of the test binary");
    if let Some(profile_dir) = exe.parent().and_then(Path::parent) {
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                cmd.arg("--release");
            }
            Some(other) => {
                cmd.args(["--profile", other]);
            }
        }
        if let Some(target_dir) = profile_dir.parent() {
            if target_dir.join("CACHEDIR.TAG").exists() {
                cmd.arg("--target-dir").arg(target_dir);
            }
        }
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build --example stream-dump failed"
    );
    let messages = String::from_utf8(out.stdout).expect("cargo output is UTF-8");
    messages
        .lines()
        .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
        .filter(|l| l.contains(r#""name":"stream-dump""#))
        .find_map(|l| json_string_field(l, "executable"))
        .map(PathBuf::from)
        .expect("cargo reported no stream-dump executable")
}

/// The value of `"field":"..."` in one line of Cargo's JSON, unescaped.
fn json_string_field(line: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\":\"");
    let rest = &line[line.find(&key)? + key.len()..];
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    value.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

/// What one run printed and how it exited.
#[derive(Debug, PartialEq)]
struct Run {
    stdout: String,
    code: Option<i32>,
}

fn run_with_args(args: &[String], input: &[u8]) -> Output {
    let mut child = Command::new(example())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start stream-dump");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // Written from another thread so a large input cannot deadlock against full pipes.
    // The dumper stops reading at the first error, so a broken pipe is expected there.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for stream-dump");
    writer.join().expect("stdin writer thread");
    out
}

fn run(input: &[u8], chunk: Option<usize>) -> Run {
    let args: Vec<String> = match chunk {
        Some(n) => vec!["--chunk".into(), n.to_string()],
        None => Vec::new(),
    };
    let out = run_with_args(&args, input);
    Run {
        stdout: String::from_utf8(out.stdout).expect("output is UTF-8"),
        code: out.status.code(),
    }
}

/// Runs `input` with every chunk size, asserts they agree, and returns the common run.
fn run_all_chunks(input: &[u8]) -> Run {
    let first = run(input, CHUNKS[0]);
    for &chunk in &CHUNKS[1..] {
        assert_eq!(run(input, chunk), first, "--chunk {chunk:?} differs");
    }
    first
}

/// Asserts a bad input: exit status 1, every line an item but the last, which is `error`.
fn assert_error(input: &[u8], expected_last: &str) -> Vec<String> {
    let run = run_all_chunks(input);
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<String> = run.stdout.lines().map(String::from).collect();
    assert_eq!(lines.last().map(String::as_str), Some(expected_last));
    let (last, items) = lines.split_last().expect("at least the error line");
    assert!(last.starts_with("error "));
    assert!(!items.iter().any(|l| l.starts_with("error ")));
    lines
}

const HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' \
    id='c2s-4f1a' version='1.0' xml:lang='en'>";

/// A valid stream as a server might send it, with UTF-8, entities, CDATA, and newlines,
/// carriage returns and tabs in text and attribute values.
fn valid_stream() -> String {
    [
        "<?xml version='1.0' encoding='UTF-8'?>",
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'",
        "\n  from='example.com' id='c2s-4f1a' version='1.0' xml:lang='en'>\n",
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>",
        "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>",
        "</stream:features>\n",
        "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat'",
        " id='m1'><body>Café ☕ &amp; &lt;b&gt; &#x1F600; &apos;q&apos; &#233;\n",
        "line two\tand\r\nthree</body><thread>e0ffe42b</thread></message>",
        "<message to='romeo@example.net'><body><![CDATA[<b>bold</b> & ]]]></body>",
        "<x xmlns='jabber:x:oob' note='a\tb\nc' kept='&#9;&#10;&#13;' q=\"it's\"/></message>",
        "\n\n\t ",
        "<presence from='nurse@example.com/ℵ'><show>away</show><status>Ζζ 日本 𝄞</status>",
        "<d:delay xmlns:d='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/></presence>",
        "<iq type='result' id='roster_1'><query xmlns='jabber:iq:roster' ver='ver7'>",
        "<item jid='nurse@example.com' name='Nurse &amp; co' subscription='both'>",
        "<group>Servants</group></item><item jid='mercutio@example.com'/></query></iq>",
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Replaced</text>",
        "</stream:error>",
        "</stream:stream>\n",
    ]
    .concat()
}

fn valid_lines() -> Vec<String> {
    [
        format!("header {HEADER}"),
        "stanza <stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
         <mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>\
         </stream:features>"
            .into(),
        "stanza <message from='juliet@example.com/balcony' to='romeo@example.net' \
         type='chat' id='m1'><body>Café ☕ &amp; &lt;b&gt; 😀 'q' é&#10;line two&#9;and\
         &#10;three</body><thread>e0ffe42b</thread></message>"
            .into(),
        "stanza <message to='romeo@example.net'><body>&lt;b&gt;bold&lt;/b&gt; &amp; ]\
         </body><x xmlns='jabber:x:oob' note='a b c' kept='&#9;&#10;&#13;' q='it&apos;s'/>\
         </message>"
            .into(),
        "stanza <presence from='nurse@example.com/ℵ'><show>away</show>\
         <status>Ζζ 日本 𝄞</status><delay xmlns='urn:xmpp:delay' \
         stamp='2002-09-10T23:08:25Z'/></presence>"
            .into(),
        "stanza <iq type='result' id='roster_1'><query xmlns='jabber:iq:roster' ver='ver7'>\
         <item jid='nurse@example.com' name='Nurse &amp; co' subscription='both'>\
         <group>Servants</group></item><item jid='mercutio@example.com'/></query></iq>"
            .into(),
        "stanza <stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Replaced</text>\
         </stream:error>"
            .into(),
        "close".into(),
    ]
    .into()
}

#[test]
fn valid_stream_is_dumped_exactly() {
    let run = run_all_chunks(valid_stream().as_bytes());
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines, valid_lines());
    assert!(run.stdout.ends_with("close\n"));
}

#[test]
fn input_may_end_right_after_the_close() {
    let mut input = valid_stream();
    input.truncate(input.trim_end().len());
    assert!(input.ends_with("</stream:stream>"));
    let run = run_all_chunks(input.as_bytes());
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), valid_lines());
}

/// `<stream:stream/>`: a header and a close at once.
#[test]
fn empty_stream_header_is_header_and_close() {
    let run = run_all_chunks(
        b"<stream:stream xmlns='jabber:client' \
          xmlns:stream='http://etherx.jabber.org/streams'/>",
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "header <stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams'>\nclose\n"
    );
}

#[test]
fn truncated_inside_an_element() {
    let input = valid_stream();
    let cut = input.find("<presence").expect("presence") + 20;
    let lines = assert_error(
        &input.as_bytes()[..cut],
        "error not-well-formed: input ended inside an element",
    );
    // Everything before the cut was dumped.
    assert_eq!(lines[..lines.len() - 1], valid_lines()[..4]);
}

#[test]
fn truncated_inside_a_multibyte_character() {
    let input = valid_stream();
    let cut = input.find('ℵ').expect("aleph") + 1;
    assert_error(
        &input.as_bytes()[..cut],
        "error not-well-formed: input ended inside an element",
    );
}

#[test]
fn truncated_before_the_close() {
    let input = valid_stream();
    let cut = input.find("</stream:stream>").expect("close");
    let lines = assert_error(
        &input.as_bytes()[..cut],
        "error not-well-formed: input ended before the stream was closed",
    );
    assert_eq!(lines[..lines.len() - 1], valid_lines()[..7]);
}

#[test]
fn empty_input() {
    let lines = assert_error(
        b"",
        "error not-well-formed: input ended before the stream was closed",
    );
    assert_eq!(lines.len(), 1);
}

#[test]
fn malformed_inputs() {
    let cases: &[(&str, &str)] = &[
        (
            "<message><body>hi</bdy></message>",
            "error not-well-formed: end tag does not match the open element",
        ),
        (
            "<message><body>&nbsp;</body></message>",
            "error restricted-xml: entity reference &nbsp; is not allowed in XMPP",
        ),
        (
            "<message><!-- hi --></message>",
            "error restricted-xml: comments are not allowed in XMPP",
        ),
        (
            "<message a='1' a='2'/>",
            "error not-well-formed: attribute \"a\" appears twice",
        ),
        (
            "<p:message/>",
            "error not-well-formed: namespace prefix \"p\" is not declared",
        ),
        ("hello", "error bad-format: text between top-level elements"),
        (
            "<message>\u{1}</message>",
            "error not-well-formed: character U+0001 is not allowed in XML",
        ),
    ];
    for (body, expected) in cases {
        let input = format!("{HEADER}<presence/>{body}<presence/></stream:stream>");
        let lines = assert_error(input.as_bytes(), expected);
        assert_eq!(lines.len(), 3, "{body}: {lines:?}");
        assert_eq!(lines[1], "stanza <presence/>");
    }
}

#[test]
fn invalid_utf8() {
    let mut input = format!("{HEADER}<message><body>").into_bytes();
    input.extend_from_slice(b"caf\xE9</body></message></stream:stream>");
    let lines = assert_error(
        &input,
        "error unsupported-encoding: input is not valid UTF-8",
    );
    assert_eq!(lines.len(), 2);
}

#[test]
fn bad_root() {
    let lines = assert_error(
        b"<html xmlns='jabber:client'><body/></html>",
        "error invalid-namespace: root element is not <stream> in \
         http://etherx.jabber.org/streams",
    );
    assert_eq!(lines.len(), 1);
}

#[test]
fn data_after_close() {
    let input = format!("{}<message/>", valid_stream());
    let lines = assert_error(
        input.as_bytes(),
        "error bad-format: data after the end of the stream",
    );
    assert_eq!(lines[..lines.len() - 1], valid_lines()[..]);
}

#[test]
fn whitespace_after_close_is_fine() {
    let input = format!("{}\n \t\r\n  ", valid_stream());
    let run = run_all_chunks(input.as_bytes());
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), valid_lines());
}

/// More than one 64 KiB read, with items straddling the read boundaries.
#[test]
fn large_stream_across_reads() {
    let mut input = String::from(HEADER);
    let mut expected = vec![format!("header {HEADER}")];
    for i in 0..3_000 {
        let pad = "é".repeat(i % 37);
        input.push_str(&format!(
            "<message id='m{i}'><body>n°{i} &amp; {pad}\n</body></message>\n"
        ));
        expected.push(format!(
            "stanza <message id='m{i}'><body>n°{i} &amp; {pad}&#10;</body></message>"
        ));
    }
    input.push_str("</stream:stream>");
    expected.push("close".into());
    assert!(input.len() > 3 * 64 * 1024);
    let dumped = run_all_chunks(input.as_bytes());
    assert_eq!(dumped.code, Some(0));
    assert_eq!(dumped.stdout.lines().collect::<Vec<_>>(), expected);
    // A chunk larger than one read.
    assert_eq!(run(input.as_bytes(), Some(100_000)), dumped);
}

#[test]
fn usage_errors() {
    for args in [
        &["--chunk", "0"][..],
        &["--chunk", "-3"],
        &["--chunk", "many"],
        &["--chunk"],
        &["--chunk=0"],
        &["--bogus"],
    ] {
        let args: Vec<String> = args.iter().map(|s| String::from(*s)).collect();
        let out = run_with_args(&args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    let args = vec![String::from("--chunk=5")];
    let out = run_with_args(&args, valid_stream().as_bytes());
    assert_eq!(out.status.code(), Some(0));
}

/// A capture of a short scripted session: the server opens its stream and sends a
/// message, the client answers a ping.
fn scripted_capture() -> Vec<u8> {
    use jabber_proto::client::{Client, Config};
    use jabber_proto::replay::{FILE_HEADER, write_record};
    use jabber_proto::time::Instant;
    let mut config = Config::new("example.com", std::num::NonZeroU64::MIN);
    config.capture = true;
    let t = Instant::from_millis;
    let mut client = Client::new(config, t(0));
    let n = client.poll_transmit().map_or(0, <[u8]>::len);
    client.advance_transmit(n);
    for (at, input) in [
        (3, HEADER.as_bytes()),
        (
            9,
            b"<message from='bob@example.com/x'><body>one</body></message>".as_slice(),
        ),
        (
            12,
            b"<iq type='get' id='p' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
        ),
    ] {
        client.handle_input(t(at), input).expect("taken");
        while client.poll_event().is_some() {}
    }
    let mut file = FILE_HEADER.as_bytes().to_vec();
    while let Some(record) = client.poll_capture() {
        write_record(&mut file, &record);
    }
    file
}

fn replay_file(bytes: &[u8], chunk: Option<usize>) -> Run {
    let path = std::env::temp_dir().join(format!(
        "stream-dump-replay-{}-{:?}.jcap",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, bytes).expect("written");
    let mut args = vec!["--replay".to_string(), path.display().to_string()];
    if let Some(n) = chunk {
        args.extend(["--chunk".to_string(), n.to_string()]);
    }
    let out = run_with_args(&args, b"");
    let _ = std::fs::remove_file(&path);
    Run {
        stdout: String::from_utf8(out.stdout).expect("output is UTF-8"),
        code: out.status.code(),
    }
}

#[test]
fn replay_prints_the_events_and_the_verdict_for_every_chunking() {
    let capture = scripted_capture();
    let whole = replay_file(&capture, None);
    assert_eq!(whole.code, Some(0), "{whole:?}");
    let lines: Vec<&str> = whole.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines[0].starts_with("event Stream(Opened("), "{}", lines[0]);
    assert!(lines[1].starts_with("event Stanza(Message(") && lines[1].contains("one"));
    assert!(lines[2].starts_with("same: ") && lines[2].ends_with(" records replayed"));
    for chunk in [1, 2, 7] {
        assert_eq!(replay_file(&capture, Some(chunk)), whole, "--chunk {chunk}");
    }
}

#[test]
fn replay_reports_the_first_difference() {
    let capture = scripted_capture();
    // The ping is answered with its id; a capture that says otherwise differs there.
    let text = String::from_utf8(capture).expect("this capture is text");
    let tampered = text.replace("<iq type='result' id='p'", "<iq type='result' id='q'");
    assert_ne!(tampered, text, "the capture holds the answer to the ping");
    let run = replay_file(tampered.as_bytes(), None);
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("difference at record "))
        .expect("a difference line");
    assert!(lines[at].ends_with("(sent)"), "{}", lines[at]);
    assert!(lines[at + 1].contains("id='q'"), "{}", lines[at + 1]);
    assert!(lines[at + 2].contains("id='p'"), "{}", lines[at + 2]);
    let refused = replay_file(b"not a capture", None);
    assert_eq!(refused.code, Some(2));
}
