//! From the common options to a connection: the account, the password, the core's
//! `Config`, the transport's `Options`, where to connect, and the login.

use std::io::IsTerminal;

use jabber_tokio::jabber_proto::negotiation::sasl::{Mechanism, MechanismSet};
use jabber_tokio::{Config, Connection, Credentials, Jid, Options, Tls};

use crate::args::{AuthMode, Common, TlsMode};
use crate::fail::Failure;
use crate::session::Session;

/// The default port of a stream that starts in plaintext (RFC 6120).
const PORT_STARTTLS: u16 = 5222;
/// The default port of direct TLS (XEP-0368's usual one).
const PORT_DIRECT: u16 = 5223;

/// What a command needs of the session besides the login.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Needs {
    /// The roster, fetched at login.
    pub(crate) roster: bool,
    /// Our presence, sent at login: messages to our bare address and others' presence
    /// reach only available resources.
    pub(crate) presence: bool,
    /// iq:oob offers made to us, as events (`receive`); other commands let the core
    /// refuse them at once rather than leave the sender waiting.
    pub(crate) offers: bool,
}

/// The account named by `--jid`: it must have a local part.
pub(crate) fn account(common: &Common) -> Result<Jid, Failure> {
    let text = common
        .jid
        .as_deref()
        .ok_or_else(|| Failure::new("no account: give --jid USER@DOMAIN (or set JABBER_JID)"))?;
    let jid = Jid::parse(text).map_err(|e| Failure::new(format!("--jid {text}: {e}")))?;
    if jid.local().is_none() {
        return Err(Failure::new(format!(
            "--jid {text}: an account needs a user part (user@{})",
            jid.domain()
        )));
    }
    Ok(jid)
}

/// The password: `--password`, `$JABBER_PASSWORD` (clap reads both), or a prompt
/// without echo when standard input is a terminal.
pub(crate) fn password(common: &Common, jid: &Jid) -> Result<String, Failure> {
    if let Some(p) = &common.password {
        return Ok(p.clone());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            "no password: give --password or set JABBER_PASSWORD (no terminal to ask on)",
        ));
    }
    prompt_secret(&format!("Password for {}: ", jid.to_bare()))
}

/// Asks for a secret on the terminal, without echo.
pub(crate) fn prompt_secret(prompt: &str) -> Result<String, Failure> {
    rpassword::prompt_password(prompt)
        .map_err(|e| Failure::new(format!("cannot read the password: {e}")))
}

/// Refuses option combinations that would quietly give less than they say, before
/// anything is sent.
pub(crate) fn check(common: &Common) -> Result<(), Failure> {
    let classic = common.legacy || common.auth == AuthMode::Digest;
    if classic && common.tls == TlsMode::Starttls {
        // A version-less stream has no STARTTLS: the default would silently be dropped.
        let what = if common.legacy {
            "--legacy"
        } else {
            "--auth digest (a classic login)"
        };
        return Err(Failure::new(format!(
            "{what} has no STARTTLS: use --tls direct, or --tls none to accept an \
             unencrypted stream"
        )));
    }
    if common.legacy && common.auth == AuthMode::Scram {
        return Err(Failure::new(
            "--auth scram is SASL, which a --legacy login does not have",
        ));
    }
    Ok(())
}

/// The core's settings for this account and command.
pub(crate) fn config(common: &Common, jid: &Jid, needs: Needs) -> Config {
    let mut config = Config::new(jid.domain(), jabber_tokio::fresh_seed());
    config.fetch_roster = needs.roster;
    config.initial_presence = needs.presence;
    config.oob_offers = needs.offers;
    config.allow_plaintext = common.allow_plaintext;
    if common.legacy || common.auth == AuthMode::Digest {
        config.version = None;
    }
    if common.tls == TlsMode::None {
        config.require_tls = false;
    }
    match common.auth {
        AuthMode::Auto => {}
        AuthMode::Scram => {
            config.sasl_mechanisms = MechanismSet::ALL.without(Mechanism::Plain);
            // No digest either, should the server offer only the classic login.
            config.use_digest = false;
        }
        AuthMode::Digest => config.use_digest = true,
        AuthMode::Plain => {
            config.sasl_mechanisms = MechanismSet::only(Mechanism::Plain);
            config.use_digest = false;
        }
    }
    config
}

/// The TLS settings: the usual roots and `--ca`.
fn tls_settings(common: &Common) -> Result<Tls, Failure> {
    let mut tls = Tls::default();
    if let Some(path) = &common.ca {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::new(format!("--ca {}: {e}", path.display())))?;
        // PEM has its "-----BEGIN" line somewhere (after comments, perhaps).
        tls = if bytes.windows(5).any(|w| w == b"-----") {
            tls.trust_pem(&bytes).map_err(|e| {
                Failure::new(format!(
                    "--ca {}: not a PEM certificate: {e}",
                    path.display()
                ))
            })?
        } else {
            // A DER certificate is a SEQUENCE: 0x30.
            if bytes.first() != Some(&0x30) {
                return Err(Failure::new(format!(
                    "--ca {}: neither a PEM nor a DER certificate",
                    path.display()
                )));
            }
            tls.trust(bytes)
        };
    }
    Ok(tls)
}

/// The transport's settings: `--tls` and `--ca`.
pub(crate) fn options(common: &Common) -> Result<Options, Failure> {
    let tls = tls_settings(common)?;
    let mut options = match common.tls {
        TlsMode::Starttls => Options::starttls(tls),
        TlsMode::Direct => {
            let mut o = Options::tls(tls.clone());
            o.starttls = Some(tls);
            o
        }
        TlsMode::None => {
            let mut o = Options::plain();
            o.starttls = None;
            o
        }
    };
    options.capture = None;
    Ok(options)
}

/// Connects as the options say: to `--server`/`--port` when given, else to the
/// domain's SRV endpoints (direct TLS: its `_xmpps-client` ones, else the domain on
/// port 5223).
pub(crate) async fn connect(common: &Common, config: Config) -> Result<Connection, Failure> {
    check(common)?;
    let options = options(common)?;
    let domain = config.domain.clone();
    if common.server.is_none() && common.port.is_none() && common.tls == TlsMode::Direct {
        if let Some(conn) = connect_direct_srv(&domain, &config, &options).await {
            return Ok(conn);
        }
    }
    if common.server.is_some() || common.port.is_some() || common.tls == TlsMode::Direct {
        let host = common.server.clone().unwrap_or_else(|| domain.clone());
        let port = common.port.unwrap_or(match common.tls {
            TlsMode::Direct => PORT_DIRECT,
            _ => PORT_STARTTLS,
        });
        let place = format!("{host}:{port}");
        Connection::connect_with((host.as_str(), port), config, options)
            .await
            .map_err(|e| Failure::unreachable(&place, e))
    } else {
        Connection::connect_domain(&domain, config, options)
            .await
            .map_err(|e| Failure::unreachable(&domain, e))
    }
}

/// `--tls direct` without `--server`/`--port`: the domain's `_xmpps-client._tcp` SRV
/// endpoints (XEP-0368) in order; `None` when it has none or none accepted (the caller
/// falls back to the domain on port 5223).
async fn connect_direct_srv(
    domain: &str,
    config: &Config,
    options: &Options,
) -> Option<Connection> {
    let resolver = jabber_net::resolve::Resolver::new(options).ok()?;
    let seed = jabber_net::resolve::lookup_seed(config);
    for endpoint in resolver.endpoints(domain, seed).await {
        // The STARTTLS endpoints, and the fallback (domain:5222), are not direct TLS.
        if !endpoint.direct_tls {
            continue;
        }
        let Ok(addrs) = resolver.addresses(&endpoint).await else {
            continue;
        };
        if let Ok(conn) =
            Connection::connect_with(&addrs[..], config.clone(), options.clone()).await
        {
            return Some(conn);
        }
    }
    None
}

/// The resource to bind: `--resource`, the one in `--jid`, or a fresh one (two commands
/// of the same account at once must not replace each other's session).
fn resource(common: &Common, jid: &Jid) -> String {
    if let Some(r) = &common.resource {
        return r.clone();
    }
    if let Some(r) = jid.resource() {
        return r.to_owned();
    }
    format!("jabber-{:08x}", jabber_tokio::fresh_seed().get() as u32)
}

/// Connects and logs in as `--jid`.
pub(crate) async fn login(common: &Common, needs: Needs) -> Result<Session, Failure> {
    let jid = account(common)?;
    let password = password(common, &jid)?;
    let mut conn = connect(common, config(common, &jid, needs)).await?;
    let user = jid.local().unwrap_or_default();
    let credentials = Credentials::new(user, &password, &resource(common, &jid));
    let me = conn.login(credentials).await.map_err(Failure::from)?;
    Ok(Session::new(conn, me.jid, common.json))
}

/// The TLS settings for HTTPS transfers: `--ca` included, whatever `--tls` says of the
/// XMPP stream.
pub(crate) fn http_tls(common: &Common) -> Result<Tls, Failure> {
    tls_settings(common)
}
