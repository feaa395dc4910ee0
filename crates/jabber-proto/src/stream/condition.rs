//! Stream error conditions, RFC 6120 §4.9.3.

crate::names::named_enum! {
    /// A defined stream error condition (RFC 6120 §4.9.3), sent inside `<stream:error>`.
    #[non_exhaustive]
    pub enum Condition {
    /// XML that cannot be processed.
    BadFormat => "bad-format",
    /// An unsupported or missing namespace prefix.
    BadNamespacePrefix => "bad-namespace-prefix",
    /// A new stream conflicts with this one.
    Conflict => "conflict",
    /// No traffic for too long.
    ConnectionTimeout => "connection-timeout",
    /// The domain is no longer served.
    HostGone => "host-gone",
    /// The domain is not served.
    HostUnknown => "host-unknown",
    /// A stanza lacks a required address.
    ImproperAddressing => "improper-addressing",
    /// The server failed internally.
    InternalServerError => "internal-server-error",
    /// The `from` address is not allowed.
    InvalidFrom => "invalid-from",
    /// The stream or content namespace is wrong.
    InvalidNamespace => "invalid-namespace",
    /// Invalid XML (schema violation).
    InvalidXml => "invalid-xml",
    /// Not authorized to do that yet.
    NotAuthorized => "not-authorized",
    /// XML that is not well-formed (XML or XML Namespaces).
    NotWellFormed => "not-well-formed",
    /// A local policy was violated (e.g. a size limit).
    PolicyViolation => "policy-violation",
    /// The server could not reach a remote server.
    RemoteConnectionFailed => "remote-connection-failed",
    /// The stream is being reset.
    Reset => "reset",
    /// Not enough resources.
    ResourceConstraint => "resource-constraint",
    /// XML features XMPP forbids (comments, PIs, DTDs, entity references).
    RestrictedXml => "restricted-xml",
    /// Reconnect to another host.
    SeeOtherHost => "see-other-host",
    /// The server is shutting down.
    SystemShutdown => "system-shutdown",
    /// Another condition; the text or an application element says which.
    UndefinedCondition => "undefined-condition",
    /// Not UTF-8, or an encoding that is not supported.
    UnsupportedEncoding => "unsupported-encoding",
    /// A required feature is not supported.
    UnsupportedFeature => "unsupported-feature",
    /// A top-level element that is not supported.
    UnsupportedStanzaType => "unsupported-stanza-type",
    /// A stream version that is not supported.
    UnsupportedVersion => "unsupported-version",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(Condition::ALL.len(), 25);
        for c in Condition::ALL {
            assert_eq!(Condition::from_name(c.as_str()), Some(*c));
        }
        assert_eq!(Condition::from_name("nope"), None);
    }
}
