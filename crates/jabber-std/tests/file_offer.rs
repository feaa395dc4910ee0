//! `send_file_served` against a scripted peer: the wait for the receiver's answer (which
//! comes after its download) is not cut by unrelated events arriving meanwhile.

use jabber_std::files::ServeOutcome;
use jabber_std::{Connection, Event, FileServer, Options, StanzaEvent};
use jabber_tests::scripted;

#[test]
fn many_events_during_an_offer_stay_queued_and_do_not_fail_it() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        let offer = peer.read_until("</iq>");
        assert!(offer.contains("jabber:iq:oob"), "{offer}");
        let id = scripted::id_of(&offer);
        for n in 0..10 {
            peer.write(&format!(
                "<message from='carol@example.com/pad'><body>{n}</body></message>"
            ));
        }
        peer.write(&format!(
            "<iq type='result' id='{id}' from='bob@example.com/phone'/>"
        ));
        peer.answer_close();
    });
    let mut config = scripted::lite_config();
    config.max_events = 4;
    let mut conn =
        Connection::connect_with(peer.addr(), config, Options::plain()).expect("connect");
    conn.login(scripted::creds()).expect("login");

    let dir = std::env::temp_dir().join(format!("jabber-std-offer-{}", jabber_std::fresh_seed()));
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("f.bin");
    std::fs::write(&path, b"data").expect("file");
    let server = FileServer::start("127.0.0.1:0", &path).expect("serving");
    let bob = "bob@example.com/phone".parse().expect("jid");
    let outcome = conn
        .send_file_served(&bob, server, None)
        .expect("the answer came");
    assert_eq!(outcome, ServeOutcome::Stopped, "nobody downloaded");
    let mut bodies = Vec::new();
    while bodies.len() < 10 {
        match conn.next_event().expect("alive") {
            Some(Event::Stanza(StanzaEvent::Message(m))) => {
                bodies.push(m.body().expect("body").to_string())
            }
            Some(_) => {}
            None => panic!("ended"),
        }
    }
    assert_eq!(bodies, (0..10).map(|n| n.to_string()).collect::<Vec<_>>());
    conn.close().expect("closed");
    peer.finish();
    let _ = std::fs::remove_dir_all(dir);
}
