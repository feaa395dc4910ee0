//! probe
#![allow(clippy::unwrap_used, missing_docs)]
use jabber_proto::stream::*;
use jabber_proto::Limits;
fn run(s: &[u8]) {
    let mut p = StreamParser::new(Limits::default());
    p.push(s);
    p.push_eof();
    while let Some(i) = p.next_item() { println!("{:?}", i); }
    println!("---");
}
#[test]
fn probe() {
    let h = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    run(format!("{h}>").as_bytes());
    run(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'/>");
    run(b"<?xml version='1.1'?>");
    run(b"<?xml version='1.0' encoding='ISO-8859-1'?>");
}
