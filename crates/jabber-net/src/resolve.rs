//! Server lookup: the SRV queries of RFC 6120 §3.2 and XEP-0368 and the address queries
//! of their targets, with hickory's resolver. The ordering rules are
//! [`srv`]'s; this file only asks the DNS.

use std::io;
use std::net::{IpAddr, SocketAddr};

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    NameServerConfig, NameServerConfigGroup, ResolverConfig, ResolverOpts,
};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;

use crate::Options;
use crate::srv::{self, Endpoint, SrvRecord};

/// The SRV service of direct TLS (XEP-0368).
const DIRECT_TLS_SERVICE: &str = "_xmpps-client._tcp";
/// The SRV service of plain TCP with STARTTLS (RFC 6120 §3.2.1).
const STARTTLS_SERVICE: &str = "_xmpp-client._tcp";

/// Asks the DNS where an XMPP domain's clients connect (async, on tokio).
///
/// It asks [`Options::dns_servers`], or the system's servers (`/etc/resolv.conf`) when
/// that is empty. For the blocking adapters, [`BlockingResolver`] wraps it.
#[derive(Clone)]
pub struct Resolver {
    inner: TokioResolver,
}

impl Resolver {
    /// A resolver asking the servers `options` name.
    pub fn new(options: &Options) -> io::Result<Resolver> {
        let provider = TokioConnectionProvider::default();
        let builder = if options.dns_servers.is_empty() {
            TokioResolver::builder(provider).map_err(io::Error::other)?
        } else {
            let mut servers = NameServerConfigGroup::with_capacity(options.dns_servers.len() * 2);
            for addr in &options.dns_servers {
                // UDP first; TCP for answers too big for a datagram.
                servers.push(NameServerConfig::new(*addr, Protocol::Udp));
                servers.push(NameServerConfig::new(*addr, Protocol::Tcp));
            }
            let config = ResolverConfig::from_parts(None, Vec::new(), servers);
            TokioResolver::builder_with_config(config, provider)
        };
        let mut opts = ResolverOpts::default();
        // Bounded by the connect timeout: a dead DNS server must not hang the connect.
        opts.timeout = opts.timeout.min(options.connect_timeout);
        Ok(Resolver {
            inner: builder.with_options(opts).build(),
        })
    }

    /// The endpoints of `domain` in the order to try them ([`srv::endpoints`]): both SRV
    /// queries, with `seed` for the weighted order. A query that finds nothing or fails
    /// counts as no records, so a domain without SRV records (or an unreachable DNS) ends
    /// in the fallback `domain:5222`, whose address lookup then tells.
    pub async fn endpoints(&self, domain: &str, seed: u64) -> Vec<Endpoint> {
        let direct_tls = self.srv(DIRECT_TLS_SERVICE, domain).await;
        let starttls = self.srv(STARTTLS_SERVICE, domain).await;
        srv::endpoints(domain, direct_tls.as_deref(), starttls.as_deref(), seed)
    }

    async fn srv(&self, service: &str, domain: &str) -> Option<Vec<SrvRecord>> {
        let name = format!("{service}.{}", absolute(domain));
        let found = self.inner.srv_lookup(name).await.ok()?;
        let records: Vec<SrvRecord> = found
            .iter()
            .map(|r| SrvRecord::new(r.priority(), r.weight(), r.port(), &r.target().to_ascii()))
            .collect();
        (!records.is_empty()).then_some(records)
    }

    /// The socket addresses of one endpoint (A and AAAA records, or the host itself when
    /// it is an IP address).
    pub async fn addresses(&self, endpoint: &Endpoint) -> io::Result<Vec<SocketAddr>> {
        if let Ok(ip) = endpoint.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, endpoint.port)]);
        }
        let found = self
            .inner
            .lookup_ip(absolute(&endpoint.host))
            .await
            .map_err(|e| io::Error::new(io::ErrorKind::NotFound, e))?;
        Ok(found
            .iter()
            .map(|ip| SocketAddr::new(ip, endpoint.port))
            .collect())
    }
}

/// [`Resolver`] for blocking code: each call runs the query on a small current-thread
/// tokio runtime of its own. Not for use inside an async runtime (it would block it).
pub struct BlockingResolver {
    runtime: tokio::runtime::Runtime,
    resolver: Resolver,
}

impl BlockingResolver {
    /// A resolver asking the servers `options` name.
    pub fn new(options: &Options) -> io::Result<BlockingResolver> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let resolver = runtime.block_on(async { Resolver::new(options) })?;
        Ok(BlockingResolver { runtime, resolver })
    }

    /// See [`Resolver::endpoints`].
    pub fn endpoints(&self, domain: &str, seed: u64) -> Vec<Endpoint> {
        self.runtime.block_on(self.resolver.endpoints(domain, seed))
    }

    /// See [`Resolver::addresses`].
    pub fn addresses(&self, endpoint: &Endpoint) -> io::Result<Vec<SocketAddr>> {
        self.runtime.block_on(self.resolver.addresses(endpoint))
    }
}

impl Options {
    /// The options for one endpoint of a server lookup: direct TLS with [`tls`](Self::tls)
    /// (or, when that is `None`, the [`starttls`](Self::starttls) settings) for an
    /// `_xmpps-client` endpoint, plain TCP with STARTTLS for the others. `None` when the
    /// endpoint needs TLS from the first byte and these options have no TLS settings at
    /// all: it is skipped.
    pub fn for_endpoint(&self, endpoint: &Endpoint) -> Option<Options> {
        let mut options = self.clone();
        if endpoint.direct_tls {
            options.tls = Some(self.tls.clone().or_else(|| self.starttls.clone())?);
        } else {
            options.tls = None;
        }
        Some(options)
    }
}

/// A seed for the weighted SRV order from a connection's config seed, so that one seed
/// gives one reproducible session while the order does not reuse the id stream's values.
pub fn lookup_seed(config: &jabber_proto::client::Config) -> u64 {
    config.seed.get().rotate_left(29) ^ 0x5256_5f6f_7264_6572
}

/// `name` as an absolute DNS name, so that no search domain is appended.
fn absolute(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// The error of a lookup that left nothing to connect to.
pub fn no_endpoint(domain: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{domain}: no XMPP client service (its SRV records refuse it)"),
    )
}
