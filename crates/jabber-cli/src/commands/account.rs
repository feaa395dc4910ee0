//! `jabber register`, `passwd`, `unregister` (XEP-0077).

use std::io::{BufRead, IsTerminal, Write};

use jabber_tokio::jabber_proto::negotiation::register::{Field, RegistrationForm};
use jabber_tokio::{AccountEvent, Event};

use super::Result;
use crate::args::{Common, Passwd, Register};
use crate::connect::{self, Needs};
use crate::fail::Failure;
use crate::output::Record;
use crate::session::Session;

/// Asks the server for its form, fills it in (`--field`, the account's name and
/// password, a prompt for the rest on a terminal), and submits it.
pub(crate) async fn register(common: &Common, args: Register) -> Result {
    let jid = connect::account(common)?;
    let given = parse_fields(&args.fields)?;
    let config = connect::config(common, &jid, Needs::default());
    let mut conn = connect::connect(common, config).await?;
    conn.with_client(|c, now| c.request_registration(now))??;
    // A fresh connection without a login: the session's waits work all the same.
    let mut session = Session::new(conn, jid.clone(), common.json);
    let mut form = session
        .wait_for(|event| match event {
            Event::Account(AccountEvent::RegistrationForm(form)) => Some(Ok(form)),
            Event::Account(AccountEvent::RegistrationFailed { error, .. }) => Some(Err(error)),
            _ => None,
        })
        .await?
        .map_err(|e| Failure::new(format!("the server gives no registration form: {e}")))?;
    if form.is_registered() {
        // Asked on a fresh stream this means nothing; say it all the same.
        eprintln!("jabber: the server says this connection is registered already");
    }
    if let Some(instructions) = form.instructions() {
        Record::new("instructions", instructions)
            .field("text", Some(instructions))
            .print(session.json)?;
    }
    fill(common, &jid, &mut form, given)?;
    session.command(|c, now| c.submit_registration(now, &form))?;
    let outcome = session
        .wait_for(|event| match event {
            Event::Account(AccountEvent::Registered) => Some(Ok(())),
            Event::Account(AccountEvent::RegistrationConflict(_)) => {
                Some(Err("the username is taken".to_owned()))
            }
            Event::Account(AccountEvent::RegistrationFailed { error, .. }) => {
                Some(Err(error.to_string()))
            }
            _ => None,
        })
        .await?;
    if let Err(why) = outcome {
        return Err(Failure::new(format!("registration refused: {why}")).into());
    }
    let json = session.json;
    session.logout().await?;
    if json {
        Record::new("registered", "")
            .field("jid", Some(jid.to_bare().as_str()))
            .print(true)?;
    }
    Ok(())
}

/// `--field NAME=VALUE`s as pairs.
fn parse_fields(fields: &[String]) -> Result<Vec<(String, String)>, Failure> {
    fields
        .iter()
        .map(|f| match f.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
            _ => Err(Failure::new(format!("--field {f}: expected NAME=VALUE"))),
        })
        .collect()
}

/// Fills the form: the fields given, the username and password, then what is still
/// empty from the terminal.
fn fill(
    common: &Common,
    jid: &jabber_tokio::Jid,
    form: &mut RegistrationForm,
    given: Vec<(String, String)>,
) -> Result<(), Failure> {
    let named = |form: &mut RegistrationForm, name: &str, value: &str| {
        let classic = Field::from_name(name).is_some_and(|f| form.set(f, value));
        classic
            || form
                .data_form_mut()
                .is_some_and(|d| d.set_value(name, value))
    };
    for (name, value) in &given {
        if !named(form, name, value) {
            return Err(Failure::new(format!(
                "--field {name}: the server's form has no such field"
            )));
        }
    }
    if form.get(Field::Username).is_some_and(str::is_empty) {
        form.set(Field::Username, jid.local().unwrap_or_default());
    }
    if form.get(Field::Password).is_some_and(str::is_empty) {
        let password = connect::password(common, jid)?;
        form.set(Field::Password, &password);
    }
    // What is still empty: the classic fields, and the data form's required ones.
    let mut missing: Vec<String> = form
        .fields()
        .filter(|(_, v)| v.is_empty())
        .map(|(f, _)| f.as_str().to_owned())
        .collect();
    if let Some(data) = form.data_form() {
        for field in &data.fields {
            let Some(var) = &field.var else { continue };
            if field.required && field.values.is_empty() && !missing.contains(var) {
                missing.push(var.clone());
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(format!(
            "the server's form also asks for {}: give --field NAME=VALUE",
            missing.join(", ")
        )));
    }
    let stdin = std::io::stdin();
    for name in missing {
        let value = if name == "password" {
            connect::prompt_secret(&format!("{name}: "))?
        } else {
            eprint!("{name}: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            stdin
                .lock()
                .read_line(&mut line)
                .map_err(|e| Failure::new(format!("cannot read {name}: {e}")))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        };
        named(form, &name, &value);
    }
    Ok(())
}

/// Changes the password.
pub(crate) async fn passwd(common: &Common, args: Passwd) -> Result {
    let new = match args.new_password {
        Some(p) => p,
        None => {
            if !std::io::stdin().is_terminal() {
                return Err(Failure::new(
                    "no new password: give --new-password or set JABBER_NEW_PASSWORD",
                )
                .into());
            }
            let first = connect::prompt_secret("New password: ")?;
            let again = connect::prompt_secret("New password again: ")?;
            if first != again {
                return Err(Failure::new("the two new passwords differ").into());
            }
            first
        }
    };
    if new.is_empty() {
        return Err(Failure::new("the new password is empty").into());
    }
    let mut session = connect::login(common, Needs::default()).await?;
    session.command(|c, now| c.change_password(now, &new))?;
    account_answer(&mut session, |a| matches!(a, AccountEvent::PasswordChanged)).await?;
    let jid = session.me.to_bare();
    Ok(session.done("password-changed", jid.as_str()).await?)
}

/// Deletes the account.
pub(crate) async fn unregister(common: &Common) -> Result {
    let mut session = connect::login(common, Needs::default()).await?;
    session.command(|c, now| c.remove_account(now))?;
    account_answer(&mut session, |a| matches!(a, AccountEvent::Removed)).await?;
    let jid = session.me.to_bare();
    Ok(session.done("unregistered", jid.as_str()).await?)
}

/// Waits for the account event `ok` picks, or the refusal.
async fn account_answer(session: &mut Session, ok: impl Fn(&AccountEvent) -> bool) -> Result {
    let outcome = session
        .wait_for(|event| match event {
            Event::Account(a) if ok(&a) => Some(Ok(())),
            Event::Account(AccountEvent::RegistrationFailed { step, error }) => {
                Some(Err(format!("{step} refused: {error}")))
            }
            _ => None,
        })
        .await?;
    outcome.map_err(|e| Failure::new(e).into())
}
