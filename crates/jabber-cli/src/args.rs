//! The command line: options every command shares, and the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// What `jabber --help` shows after the usage and the option list.
const AFTER_HELP: &str = "\
Exit status: 0 when the command did what it was asked, 1 on any error (one line on
standard error), 2 when `listen` timed out before it had seen --count items.

Examples:
  jabber --jid alice@example.com send bob@example.com 'hello'
  JABBER_PASSWORD=secret jabber --jid bob@example.com listen --count 1 --timeout 30
  jabber --jid alice@example.com --json roster list";

/// Send, receive and manage a Jabber/XMPP account from the command line.
///
/// Every command logs in as --jid, does its work, and logs out. The server is found
/// through the domain's SRV records (else the domain itself, port 5222) unless --server
/// or --port name it; the stream is encrypted with STARTTLS, and a server that does
/// not offer it is refused (see --tls).
#[derive(Debug, Parser)]
#[command(name = "jabber", version, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// What every command shares.
    #[command(flatten)]
    pub(crate) common: Common,
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes (before or after the command's name).
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// The account, e.g. alice@example.com (a /resource part is used as the resource)
    #[arg(long, global = true, env = "JABBER_JID", value_name = "JID")]
    pub(crate) jid: Option<String>,

    /// The password; else $JABBER_PASSWORD, else a prompt when on a terminal
    #[arg(
        long,
        global = true,
        env = "JABBER_PASSWORD",
        hide_env_values = true,
        value_name = "PASS"
    )]
    pub(crate) password: Option<String>,

    /// Connect to this host instead of looking the domain up (SRV records)
    #[arg(long, global = true, env = "JABBER_SERVER", value_name = "HOST")]
    pub(crate) server: Option<String>,

    /// Connect to this port (default 5222, 5223 with --tls direct)
    #[arg(long, global = true, env = "JABBER_PORT", value_name = "N")]
    pub(crate) port: Option<u16>,

    /// How the stream is encrypted
    #[arg(long, global = true, value_enum, default_value_t = TlsMode::Starttls)]
    pub(crate) tls: TlsMode,

    /// How the password is proven
    #[arg(long, global = true, value_enum, default_value_t = AuthMode::Auto)]
    pub(crate) auth: AuthMode,

    /// Send a plaintext password even on an unencrypted stream
    #[arg(long, global = true)]
    pub(crate) allow_plaintext: bool,

    /// Also trust the CA certificate(s) in FILE (PEM or DER)
    #[arg(long, global = true, env = "JABBER_CA", value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,

    /// The resource to bind (default: jabber- and a random suffix)
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) resource: Option<String>,

    /// Log in the classic way (jabber:iq:auth on a version-less stream, which has no
    /// STARTTLS: give --tls direct or none)
    #[arg(long, global = true)]
    pub(crate) legacy: bool,

    /// Print one JSON object per line instead of text
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Log the XML exchanged on standard error (passwords masked)
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
}

/// `--tls`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum TlsMode {
    /// Plain TCP upgraded with STARTTLS, which the server must offer
    Starttls,
    /// TLS from the first byte (the port 5223 style)
    Direct,
    /// No encryption at all (refuses a server that offers STARTTLS)
    None,
}

/// `--auth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuthMode {
    /// The strongest method the server offers
    Auto,
    /// SASL SCRAM only: the password never leaves
    Scram,
    /// The classic SHA-1 digest (implies --legacy, so --tls direct or none)
    Digest,
    /// The password itself (SASL PLAIN, or the classic field): over TLS only, unless
    /// --allow-plaintext
    Plain,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Send one message, wait until the server has it, and log out
    Send(Send),
    /// Print incoming messages, presence and subscription requests
    Listen(Listen),
    /// Show or change the roster (contact list)
    Roster(Roster),
    /// Ask to see a contact's presence
    Subscribe(Target),
    /// Let a contact see our presence (answers its request)
    Approve(Target),
    /// Block all traffic from an address
    Block(Target),
    /// Lift a block
    Unblock(Target),
    /// Create the account --jid on its server (in-band registration)
    Register(Register),
    /// Change the account's password
    Passwd(Passwd),
    /// Delete the account from its server
    Unregister,
    /// Chat with JID: typed lines are sent, incoming lines shown as they arrive
    Chat(Target),
    /// Join a conference room; typed lines go to the room (/me works, /nick NEW)
    Join(Join),
    /// Send a file: uploaded to the server's HTTP upload service, or served from here
    Sendfile(Sendfile),
    /// Wait for a file and download it
    Receive(Receive),
    /// Show a vCard (ours by default)
    Vcard(Optional),
    /// Ask an address what it is and holds (our server by default)
    Disco(Optional),
    /// Ping an address (our server by default) and show the round trip
    Ping(Optional),
}

/// `jabber send`.
#[derive(Debug, Args)]
pub(crate) struct Send {
    /// The recipient
    pub(crate) to: String,
    /// The message's text
    pub(crate) text: String,
    /// The message type
    #[arg(long = "type", value_enum, default_value_t = SendType::Chat)]
    pub(crate) kind: SendType,
    /// A subject line
    #[arg(long, value_name = "S")]
    pub(crate) subject: Option<String>,
}

/// `jabber send --type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SendType {
    /// A line of a one-to-one conversation
    Chat,
    /// A standalone message
    Normal,
    /// A notification; no reply expected
    Headline,
}

/// `jabber listen`.
#[derive(Debug, Args)]
pub(crate) struct Listen {
    /// Stop after N items (exit 0)
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    /// Stop after SECONDS without the items (exit 2)
    #[arg(long, value_name = "SECONDS")]
    pub(crate) timeout: Option<f64>,
}

/// `jabber roster`.
#[derive(Debug, Args)]
pub(crate) struct Roster {
    /// What to do (default: list)
    #[command(subcommand)]
    pub(crate) action: Option<RosterCommand>,
}

/// `jabber roster ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum RosterCommand {
    /// Print the roster (the default)
    List,
    /// Add a contact or change its name and groups
    Add {
        /// The contact
        #[arg(value_name = "JID")]
        contact: String,
        /// A name for it
        #[arg(long, value_name = "N")]
        name: Option<String>,
        /// A group to put it in (repeat for more)
        #[arg(long = "group", value_name = "G")]
        groups: Vec<String>,
    },
    /// Remove a contact (and the subscriptions both ways)
    Remove {
        /// The contact
        #[arg(value_name = "JID")]
        contact: String,
    },
}

/// A command's one address.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// The address
    #[arg(value_name = "JID")]
    pub(crate) address: String,
}

/// A command's address, with a default.
#[derive(Debug, Args)]
pub(crate) struct Optional {
    /// The address
    #[arg(value_name = "JID")]
    pub(crate) address: Option<String>,
}

/// `jabber register`.
#[derive(Debug, Args)]
pub(crate) struct Register {
    /// Fill in a field of the server's form (repeatable); the username and password
    /// come from --jid and the password unless given here. Fields left empty are asked
    /// for on a terminal
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub(crate) fields: Vec<String>,
}

/// `jabber passwd`.
#[derive(Debug, Args)]
pub(crate) struct Passwd {
    /// The new password; else $JABBER_NEW_PASSWORD, else a prompt (twice)
    #[arg(
        long,
        env = "JABBER_NEW_PASSWORD",
        hide_env_values = true,
        value_name = "PASS"
    )]
    pub(crate) new_password: Option<String>,
}

/// `jabber join`.
#[derive(Debug, Args)]
pub(crate) struct Join {
    /// The room and our nickname in it
    #[arg(value_name = "ROOM@SERVICE/NICK")]
    pub(crate) room: String,
    /// The room's password
    #[arg(long, value_name = "PASS")]
    pub(crate) room_password: Option<String>,
}

/// `jabber sendfile`.
#[derive(Debug, Args)]
pub(crate) struct Sendfile {
    /// The recipient (a full address JID/resource with --serve)
    #[arg(value_name = "JID")]
    pub(crate) to: String,
    /// The file
    pub(crate) path: PathBuf,
    /// Upload it to the server's HTTP upload service and send its URL (the default)
    #[arg(long, conflicts_with = "serve")]
    pub(crate) upload: bool,
    /// Serve it over HTTP from ADDR (e.g. 192.0.2.7:8080, or 0.0.0.0:8080 with
    /// --url-host) until the recipient has it
    #[arg(long, value_name = "ADDR")]
    pub(crate) serve: Option<String>,
    /// With --serve: the host name or address the recipient fetches from (default: the
    /// address --serve listens on, or for 0.0.0.0 and :: the one this computer
    /// reaches the server from)
    #[arg(long, value_name = "HOST", requires = "serve")]
    pub(crate) url_host: Option<String>,
    /// A description sent with it
    #[arg(long, value_name = "TEXT")]
    pub(crate) desc: Option<String>,
}

/// `jabber receive`.
#[derive(Debug, Args)]
pub(crate) struct Receive {
    /// Where to put the files
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Stop after N files (exit 0)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) count: u64,
    /// Stop after SECONDS without them (exit 2)
    #[arg(long, value_name = "SECONDS")]
    pub(crate) timeout: Option<f64>,
    /// Refuse files larger than this many bytes
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    pub(crate) max_size: u64,
    /// Take files only from this sender (repeatable; a bare JID takes any of its
    /// resources); others' offers are declined, their links ignored
    #[arg(long = "from", value_name = "JID")]
    pub(crate) from: Vec<String>,
}
