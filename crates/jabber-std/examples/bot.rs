//! An echo bot: prints every event and sends each chat message's body back.
//!
//! `cargo run -p jabber-std --example bot -- HOST:PORT USER@DOMAIN PASSWORD [--no-tls] [--plaintext]`
//!
//! The connection is direct TLS (port 5223 on most servers) unless `--no-tls` is given;
//! `--plaintext` allows sending the password in the clear over plain TCP when the server
//! offers no digest.

use jabber_std::{
    Config, Connection, Credentials, Event, Jid, Message, MessageType, Options, StanzaEvent,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let plaintext = args.iter().any(|a| a == "--plaintext");
    let no_tls = args.iter().any(|a| a == "--no-tls");
    args.retain(|a| a != "--plaintext" && a != "--no-tls");
    let [addr, user, password] = args.as_slice() else {
        eprintln!("usage: bot HOST:PORT USER@DOMAIN PASSWORD [--no-tls] [--plaintext]");
        std::process::exit(2);
    };
    let user = Jid::parse(user)?;
    let mut config = Config::new(user.domain(), jabber_std::fresh_seed());
    config.allow_plaintext = plaintext;
    let options = if no_tls {
        Options::plain()
    } else {
        Options::default()
    };
    let mut conn = Connection::connect_with(addr, config, options)?;
    let local = user.local().unwrap_or_default();
    let me = conn.login(Credentials::new(local, password, "echo-bot"))?;
    println!("logged in as {}", me.jid);
    while let Some(event) = conn.next_event()? {
        println!("{event:?}");
        if let Event::Stanza(StanzaEvent::Message(m)) = &event {
            if let (MessageType::Chat, Some(from), Some(body)) = (m.kind(), m.from(), m.body()) {
                conn.send(Message::new(MessageType::Chat, &Jid::from(from), &body)?)?;
            }
        }
    }
    Ok(())
}
