//! XEP-0156 discovery of a domain's WebSocket endpoint: what `host-meta` (XML, RFC 6415)
//! and `host-meta.json` say. Reading the documents is here, for every adapter; fetching
//! them over HTTPS is the adapter's (jabber-tokio's `discover_websocket`).
//!
//! ```
//! let xml = br#"<?xml version='1.0' encoding='utf-8'?>
//! <XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
//!   <Link rel="urn:xmpp:alt-connections:xbosh" href="https://example.com/bosh"/>
//!   <Link rel="urn:xmpp:alt-connections:websocket" href="wss://example.com/ws"/>
//! </XRD>"#;
//! assert_eq!(jabber_net::host_meta::websocket_from_xml(xml), ["wss://example.com/ws"]);
//! let json = br#"{"links": [{"rel": "urn:xmpp:alt-connections:websocket",
//!                            "href": "wss://example.com/ws"}]}"#;
//! assert_eq!(jabber_net::host_meta::websocket_from_json(json), ["wss://example.com/ws"]);
//! ```

use jabber_proto::Limits;
use jabber_proto::stream::{Item, StreamParser};

/// The link relation of a WebSocket endpoint (XEP-0156 §3).
pub const WEBSOCKET_REL: &str = "urn:xmpp:alt-connections:websocket";
/// The namespace of `host-meta`'s XML form (XRD 1.0).
pub const XRD_NS: &str = "http://docs.oasis-open.org/ns/xri/xrd-1.0";
/// Where the XML form is published, below `https://` and the domain.
pub const XML_PATH: &str = "/.well-known/host-meta";
/// Where the JSON form is published.
pub const JSON_PATH: &str = "/.well-known/host-meta.json";

/// The WebSocket endpoints (`ws:`/`wss:` URLs, in document order) a `host-meta` XML
/// document lists; none when it is not one (or not well-formed, or beyond the core's
/// default stanza limit). Read with the core's parser, so the same restricted XML:
/// nothing but an optional XML declaration around one element.
pub fn websocket_from_xml(document: &[u8]) -> Vec<String> {
    let Some(root) = parse_document(document) else {
        return Vec::new();
    };
    if !root.is("XRD", XRD_NS) {
        return Vec::new();
    }
    let links = root
        .children()
        .filter(|link| link.is("Link", XRD_NS) && link.attr("rel") == Some(WEBSOCKET_REL))
        .filter_map(|link| link.attr("href"));
    websocket_urls(links)
}

/// The WebSocket endpoints a `host-meta.json` document lists (in order); none when it
/// is not one.
pub fn websocket_from_json(document: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(document) else {
        return Vec::new();
    };
    let Some(links) = value.get("links").and_then(|l| l.as_array()) else {
        return Vec::new();
    };
    let hrefs = links
        .iter()
        .filter(|link| link.get("rel").and_then(|r| r.as_str()) == Some(WEBSOCKET_REL))
        .filter_map(|link| link.get("href").and_then(|h| h.as_str()));
    websocket_urls(hrefs)
}

/// Only WebSocket URLs count: a `rel` pointing at anything else is a broken document.
fn websocket_urls<'a>(hrefs: impl Iterator<Item = &'a str>) -> Vec<String> {
    hrefs
        .filter(|h| h.starts_with("wss://") || h.starts_with("ws://"))
        .map(String::from)
        .collect()
}

/// One standalone element, after an optional XML declaration.
fn parse_document(document: &[u8]) -> Option<jabber_proto::xml::Element> {
    let document = document.trim_ascii_start();
    let body = if document.starts_with(b"<?xml") {
        let end = document.windows(2).position(|w| w == b"?>")?;
        &document[end + 2..]
    } else {
        document
    };
    // The WebSocket framing's parser takes exactly one complete element; it wants the
    // framing's `<open/>` first.
    let mut parser = StreamParser::websocket(Limits::default());
    parser.push(b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
    let Some(Ok(Item::Header(_))) = parser.next_item() else {
        return None;
    };
    parser.push(body);
    match parser.next_item() {
        Some(Ok(Item::Element(root))) => Some(root),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_websocket_links_of_a_real_document_count() {
        let xml = br#"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
            <Link rel='urn:xmpp:alt-connections:websocket' href='https://not.ws/'/>
            <Link rel='urn:xmpp:alt-connections:websocket' href='ws://127.0.0.1:5280/ws'/>
            <Link rel='urn:xmpp:alt-connections:websocket' href='wss://b/ws'/></XRD>"#;
        assert_eq!(
            websocket_from_xml(xml),
            ["ws://127.0.0.1:5280/ws", "wss://b/ws"]
        );
        // Another namespace, another root, two roots, not XML, a comment: nothing.
        assert!(
            websocket_from_xml(
                br#"<XRD><Link rel='urn:xmpp:alt-connections:websocket' href='wss://a/'/></XRD>"#
            )
            .is_empty()
        );
        assert!(
            websocket_from_xml(b"<x xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/>")
                .is_empty()
        );
        assert!(
            websocket_from_xml(b"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/><a/>")
                .is_empty()
        );
        assert!(websocket_from_xml(b"{}").is_empty());
        assert!(
            websocket_from_xml(
                b"<!-- x --><XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/>"
            )
            .is_empty()
        );
        assert!(websocket_from_json(br#"{"links": {"rel": "x"}}"#).is_empty());
        assert!(websocket_from_json(b"<XRD/>").is_empty());
        assert_eq!(
            websocket_from_json(
                br#"{"links":[{"rel":"urn:xmpp:alt-connections:xbosh","href":"https://a/"},
                {"rel":"urn:xmpp:alt-connections:websocket","href":"wss://a/ws"}]}"#
            ),
            ["wss://a/ws"]
        );
    }
}
