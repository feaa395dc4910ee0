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

#[test]
fn received_offers_are_declined_when_too_large_refused_when_failed_accepted_when_whole() {
    use jabber_std::files::TransferError;
    use jabber_tests::http_script::HttpScript;
    let http = HttpScript::start(vec![
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5000\r\n\r\n".into(),
        "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".into(),
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc".into(),
    ]);
    let urls = [http.url("/big"), http.url("/broken"), http.url("/a.txt")];
    let peer = scripted::serve(move |mut peer| {
        peer.login();
        for (n, (url, answer)) in urls
            .iter()
            .zip(["code='406'", "code='404'", "type='result'"])
            .enumerate()
        {
            peer.write(&format!(
                "<iq type='set' id='o{n}' from='bob@example.com/phone' \
                 to='alice@example.com/laptop'><query xmlns='jabber:iq:oob'>\
                 <url>{url}</url></query></iq>"
            ));
            // A result is empty (`/>`), a refusal carries its error.
            let end = if n == 2 { "/>" } else { "</iq>" };
            let got = peer.read_until(end);
            assert!(got.contains(&format!("id='o{n}'")), "{got}");
            assert!(got.contains(answer), "{answer}: {got}");
        }
        peer.answer_close();
    });
    let mut config = scripted::lite_config();
    config.oob_offers = true;
    let mut conn =
        Connection::connect_with(peer.addr(), config, Options::plain()).expect("connect");
    conn.login(scripted::creds()).expect("login");
    let dir = std::env::temp_dir().join(format!("jabber-std-recv-{}", jabber_std::fresh_seed()));
    std::fs::create_dir_all(&dir).expect("folder");
    let tls = jabber_std::Tls::default();
    let mut results = Vec::new();
    while results.len() < 3 {
        match conn.next_event().expect("alive") {
            Some(Event::Transfer(jabber_proto::client::TransferEvent::Offer(offer))) => {
                results.push(conn.receive_offer(&offer, &dir, 4000, &tls, |_| {}));
            }
            Some(_) => {}
            None => panic!("ended"),
        }
    }
    assert!(matches!(
        results[0],
        Err(TransferError::TooLarge { limit: 4000 })
    ));
    assert!(matches!(results[1], Err(TransferError::Status(500))));
    let path = results[2].as_ref().expect("downloaded");
    assert_eq!(path, &dir.join("a.txt"));
    assert_eq!(std::fs::read(path).expect("file"), b"abc");
    let left: Vec<_> = std::fs::read_dir(&dir).expect("folder").collect();
    assert_eq!(left.len(), 1, "nothing left of the failed downloads");
    conn.close().expect("closed");
    peer.finish();
    let _ = std::fs::remove_dir_all(dir);
}

/// A peer flooding us while we wait for an offer's answer meets a bound (16 times the
/// core's event bound), not our memory.
#[test]
fn a_flood_during_an_offer_meets_a_bound() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        let offer = peer.read_until("</iq>");
        assert!(offer.contains("jabber:iq:oob"), "{offer}");
        for n in 0..100 {
            peer.write(&format!(
                "<message from='carol@example.com/pad'><body>{n}</body></message>"
            ));
        }
        peer.answer_close();
    });
    let mut config = scripted::lite_config();
    config.max_events = 2;
    let mut conn =
        Connection::connect_with(peer.addr(), config, Options::plain()).expect("connect");
    conn.login(scripted::creds()).expect("login");
    let dir = std::env::temp_dir().join(format!("jabber-std-flood-{}", jabber_std::fresh_seed()));
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("f.bin");
    std::fs::write(&path, b"data").expect("file");
    let server = FileServer::start("127.0.0.1:0", &path).expect("serving");
    let bob = "bob@example.com/phone".parse().expect("jid");
    let err = conn
        .send_file_served(&bob, server, None)
        .expect_err("no answer, and the queue is bounded");
    assert!(
        format!("{err:?}").contains("EventQueueFull"),
        "the bound ends the wait: {err:?}"
    );
    let _ = conn.close();
    peer.finish();
    let _ = std::fs::remove_dir_all(dir);
}

/// An offer we cannot store (no such folder) is refused at once: the sender is not left
/// waiting for its timeout.
#[test]
fn an_offer_with_nowhere_to_go_is_refused_at_once() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        peer.write(
            "<iq type='set' id='o1' from='bob@example.com/phone' \
             to='alice@example.com/laptop'><query xmlns='jabber:iq:oob'>\
             <url>http://127.0.0.1:9/a.txt</url></query></iq>",
        );
        let got = peer.read_until("</iq>");
        assert!(
            got.contains("id='o1'") && got.contains("type='error'"),
            "{got}"
        );
        peer.answer_close();
    });
    let mut config = scripted::lite_config();
    config.oob_offers = true;
    let mut conn =
        Connection::connect_with(peer.addr(), config, Options::plain()).expect("connect");
    conn.login(scripted::creds()).expect("login");
    let dir = std::env::temp_dir().join(format!(
        "jabber-std-missing-{}/no/such/folder",
        jabber_std::fresh_seed()
    ));
    let tls = jabber_std::Tls::default();
    loop {
        match conn.next_event().expect("alive") {
            Some(Event::Transfer(jabber_proto::client::TransferEvent::Offer(offer))) => {
                let result = conn.receive_offer(&offer, &dir, 4000, &tls, |_| {});
                assert!(result.is_err(), "nowhere to store it");
                break;
            }
            Some(_) => {}
            None => panic!("ended"),
        }
    }
    conn.close().expect("closed");
    peer.finish();
}
