//! A captured command, read back and given to a client again.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::client::{CAPTURE_NS, Client, Error};
use crate::features::roster::Roster;
use crate::features::vcard::Vcard;
use crate::jid::Jid;
use crate::negotiation::auth::Credentials;
use crate::negotiation::register::RegistrationForm;
use crate::negotiation::sasl::{ChannelBinding, ChannelBindingKind};
use crate::ns;
use crate::stanza::{IqType, Stanza, StanzaError};
use crate::time::Instant;
use crate::xml::Element;

/// Why a command record could not be given to the client.
pub(crate) type Unreadable = String;

/// Runs the command `el` describes on `client` at `now`; its own outcome is `Ok(result)`
/// (the client's answer, refusal included), `Err` when the record makes no command.
pub(crate) fn apply(
    client: &mut Client,
    now: Instant,
    el: &Element,
) -> Result<Result<(), Error>, Unreadable> {
    if el.ns() != CAPTURE_NS {
        return Err(format!("<{}/> is not a capture command", el.name()));
    }
    let first_child = || {
        el.children()
            .next()
            .map(|c| c.to_element())
            .ok_or_else(|| format!("<{}/> without its payload", el.name()))
    };
    let attr = |name: &str| {
        el.attr(name)
            .ok_or_else(|| format!("<{}/> without '{name}'", el.name()))
    };
    let jid = |name: &str| -> Result<Jid, Unreadable> {
        Jid::parse(attr(name)?).map_err(|e| format!("bad '{name}': {e}"))
    };
    Ok(match el.name() {
        "login" => {
            let password = el
                .child("password", ns::IQ_AUTH)
                .map(|p| p.text().into_owned())
                .unwrap_or_default();
            let creds = Credentials::new(attr("username")?, &password, attr("resource")?);
            client.login(now, creds)
        }
        "resume" => {
            let password = el
                .child("password", ns::IQ_AUTH)
                .map(|p| p.text().into_owned())
                .unwrap_or_default();
            let creds = Credentials::new(attr("username")?, &password, attr("resource")?);
            let r = el
                .child("resumption", CAPTURE_NS)
                .ok_or("<resume/> without its resumption")?;
            let num = |name: &str| -> Result<u32, Unreadable> {
                r.attr(name)
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("<resumption/> without a valid '{name}'"))
            };
            let resumption = crate::features::stream_management::Resumption {
                id: r
                    .attr("id")
                    .ok_or("<resumption/> without 'id'")?
                    .to_string(),
                location: r.attr("location").map(String::from),
                jid: Jid::parse(r.attr("jid").ok_or("<resumption/> without 'jid'")?)
                    .map_err(|e| format!("bad 'jid': {e}"))?,
                handled: num("handled")?,
                acked: num("acked")?,
                unacked: r
                    .children()
                    .filter(|c| c.ns() != CAPTURE_NS)
                    .map(|c| c.to_element())
                    .collect(),
                in_flight: r
                    .children()
                    .filter(|c| c.ns() == CAPTURE_NS && c.name() == "in-flight")
                    .map(|c| {
                        let to = match c.attr("to") {
                            Some(to) => Some(Jid::parse(to).map_err(|e| format!("bad 'to': {e}"))?),
                            None => None,
                        };
                        let n = c.attr("n").and_then(|v| v.parse().ok());
                        let ms = c.attr("ms").and_then(|v| v.parse().ok());
                        let (Some(wire), Some(n), Some(ms), Some(owner)) =
                            (c.attr("wire"), n, ms, c.attr("owner"))
                        else {
                            return Err(String::from("<in-flight/> incomplete"));
                        };
                        crate::client::InFlightIq::from_parts(
                            wire,
                            n,
                            to,
                            core::time::Duration::from_millis(ms),
                            owner,
                        )
                        .ok_or_else(|| String::from("<in-flight/> of an unknown owner"))
                    })
                    .collect::<Result<_, _>>()?,
                // Absent from captures made before it was recorded.
                iq_handles: r
                    .attr("iq-handles")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
                rooms: r
                    .children()
                    .filter(|c| c.is("room", CAPTURE_NS))
                    .map(crate::features::conference::capture::read_room)
                    .collect::<Result<_, _>>()?,
            };
            client.resume(now, creds, resumption)
        }
        "request-registration" => client.request_registration(now),
        "submit-registration" => {
            let query = el
                .child("query", ns::IQ_REGISTER)
                .ok_or("<submit-registration/> without its form")?;
            client.submit_registration(now, &RegistrationForm::from_query(query))
        }
        "change-password" => {
            let password = el
                .child("password", ns::IQ_REGISTER)
                .map(|p| p.text().into_owned())
                .unwrap_or_default();
            client.change_password(now, &password)
        }
        "remove-account" => client.remove_account(now),
        "roster-set" => {
            let query = el
                .child("query", ns::IQ_ROSTER)
                .ok_or("<roster-set/> without its query")?;
            let item = Roster::from_query(query)
                .items
                .into_iter()
                .next()
                .ok_or("<roster-set/> without an item")?;
            client.roster_set(now, &item).map(drop)
        }
        "roster-remove" => client.roster_remove(now, &jid("jid")?).map(drop),
        "send" => client.send(now, first_child()?),
        "send-iq" => {
            let kind = IqType::from_name(attr("type")?).ok_or("bad IQ type")?;
            let to = match el.attr("to") {
                Some(_) => Some(jid("to")?),
                None => None,
            };
            client
                .send_iq(now, to.as_ref(), kind, first_child()?)
                .map(drop)
        }
        "respond" => {
            let Ok(Stanza::Iq(request)) = Stanza::try_from(first_child()?) else {
                return Err("<respond/> without the request".to_string());
            };
            let response = match el.child("result", CAPTURE_NS) {
                Some(result) => Ok(result.children().next().map(|p| p.to_element())),
                None => Err(StanzaError::from_stanza(el.root())
                    .ok_or("<respond/> without a result or an error")?),
            };
            client.respond(now, &request, response)
        }
        "tls-ready" => client.handle_tls_ready(now, bindings(el)?),
        "channel-binding" => {
            client.handle_channel_binding(now, bindings(el)?);
            Ok(())
        }
        "subscription" => {
            let to = jid("to")?;
            match attr("type")? {
                "subscribe" => client.subscribe(now, &to),
                "unsubscribe" => client.unsubscribe(now, &to),
                "subscribed" => client.approve_subscription(now, &to),
                "unsubscribed" => client.deny_subscription(now, &to),
                other => return Err(format!("unknown subscription {other:?}")),
            }
        }
        "set-utc" => {
            let utc = crate::time::Timestamp::parse(attr("utc")?).ok_or("bad UTC time")?;
            client.set_utc(now, utc);
            Ok(())
        }
        "new-thread" => {
            client.new_thread();
            Ok(())
        }
        "vcard-get" => {
            let of = match el.attr("of") {
                Some(_) => Some(jid("of")?),
                None => None,
            };
            client.vcard_get(now, of.as_ref()).map(drop)
        }
        "vcard-set" => {
            let card = el
                .child("vCard", ns::VCARD)
                .ok_or("<vcard-set/> without its card")?;
            client.vcard_set(now, &Vcard::from_element(card)).map(drop)
        }
        "private-get" => client
            .private_get(now, attr("name")?, attr("ns")?)
            .map(drop),
        "private-set" => client.private_set(now, &first_child()?).map(drop),
        "check-update" => client.check_update(now, &jid("agent")?).map(drop),
        "blocklist-get" => client.blocklist_get(now).map(drop),
        "block" | "unblock" => {
            let jids = el
                .children()
                .filter(|c| c.is("item", CAPTURE_NS))
                .map(|c| {
                    let jid = c.attr("jid").ok_or("an <item/> without 'jid'")?;
                    Jid::parse(jid).map_err(|e| format!("bad 'jid': {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if el.name() == "block" {
                client.block(now, &jids).map(drop)
            } else {
                client.unblock(now, &jids).map(drop)
            }
        }
        "unblock-all" => client.unblock_all(now).map(drop),
        "set-block-policy" => {
            let policy = el
                .child("policy", crate::features::block_policy::POLICY_NS)
                .and_then(crate::features::block_policy::BlockPolicy::from_element)
                .ok_or("<set-block-policy/> without its policy")?;
            client.set_block_policy(now, policy).map(drop)
        }
        "load-block-policy" => client.load_block_policy(now).map(drop),
        "disco-info" => client
            .disco_info(now, &jid("to")?, el.attr("node"))
            .map(drop),
        "disco-items" => client
            .disco_items(now, &jid("to")?, el.attr("node"))
            .map(drop),
        "oob-offer" => {
            let query = el
                .child("query", ns::IQ_OOB)
                .ok_or("<oob-offer/> without its query")?;
            // As recorded, untrimmed: the offer is re-issued byte for byte.
            let raw = |name| {
                query
                    .child(name, ns::IQ_OOB)
                    .map(|c| String::from(c.text()))
            };
            let oob = crate::stanza::ext::Oob {
                url: raw("url").ok_or("<oob-offer/> without a URL")?,
                desc: raw("desc"),
            };
            match el.attr("timeout-ms") {
                Some(ms) => {
                    let ms = ms.parse().map_err(|_| "bad 'timeout-ms'")?;
                    let timeout = core::time::Duration::from_millis(ms);
                    client.offer_oob_within(now, &jid("to")?, &oob, timeout)
                }
                None => client.offer_oob(now, &jid("to")?, &oob),
            }
            .map(drop)
        }
        "find-upload-service" => client.find_upload_service(now).map(drop),
        "upload-slot" => {
            let request = el
                .child("request", ns::HTTP_UPLOAD)
                .ok_or("<upload-slot/> without its request")?;
            let file = crate::features::files::UploadFile::from_request(request)
                .ok_or("<upload-slot/> with an unreadable request")?;
            client
                .request_upload_slot(now, &jid("service")?, &file)
                .map(drop)
        }
        "close" => {
            client.close(now);
            Ok(())
        }
        other if crate::features::conference::capture::is_command(other) => {
            crate::features::conference::capture::apply(client, now, el.root())?
        }
        other => return Err(format!("unknown command <{other}/>")),
    })
}

/// The channel bindings a TLS command names, with zeros for their (unrecorded) data.
fn bindings(el: &Element) -> Result<alloc::vec::Vec<ChannelBinding>, Unreadable> {
    el.children()
        .filter(|c| c.is("binding", CAPTURE_NS))
        .map(|c| {
            let kind = match c.attr("kind") {
                Some("tls-exporter") => ChannelBindingKind::TlsExporter,
                Some("tls-server-end-point") => ChannelBindingKind::TlsServerEndPoint,
                other => return Err(format!("unknown channel binding {other:?}")),
            };
            let bytes: usize = c
                .attr("bytes")
                .and_then(|b| b.parse().ok())
                .ok_or("a binding without its size")?;
            Ok(ChannelBinding {
                kind,
                data: alloc::vec![0; bytes.min(1024)],
            })
        })
        .collect()
}
