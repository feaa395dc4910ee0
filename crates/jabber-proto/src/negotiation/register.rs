//! In-band registration, `jabber:iq:register` (XEP-0077, the seed protocol's §9).
//!
//! On a fresh stream the client asks for the form (`get`), the application fills in the
//! fields the server listed, and the client sends it back (`set`) with the server's
//! `<key>`. Logged in, the same namespace changes the password and removes the account.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::ns;
use crate::stanza::StanzaError;
use crate::stanza::form::DataForm;
use crate::xml::{BuildError, Element, ElementRef};

crate::names::named_enum! {
    /// A registration field the classic protocol defines.
    #[non_exhaustive]
    pub enum Field {
        /// Account name (local part).
        Username => "username",
        /// Nickname.
        Nick => "nick",
        /// Password.
        Password => "password",
        /// Full name.
        Name => "name",
        /// First name.
        First => "first",
        /// Last name.
        Last => "last",
        /// E-mail address.
        Email => "email",
        /// Street address.
        Address => "address",
        /// City.
        City => "city",
        /// State or province.
        State => "state",
        /// Postal code.
        Zip => "zip",
        /// Telephone number.
        Phone => "phone",
        /// Web page.
        Url => "url",
        /// A date.
        Date => "date",
        /// Anything else.
        Misc => "misc",
        /// Free text.
        Text => "text",
    }
}

/// The registration form a server sent, to be filled in and submitted with
/// [`Client::submit_registration`](crate::client::Client::submit_registration).
///
/// ```
/// use jabber_proto::negotiation::register::{Field, RegistrationForm};
/// # let mut form = RegistrationForm::with_fields(&[Field::Username, Field::Password]);
/// assert!(form.set(Field::Username, "alice"));
/// assert!(form.set(Field::Password, "secret"));
/// assert!(!form.set(Field::Email, "a@example.com")); // not asked for
/// assert_eq!(form.get(Field::Username), Some("alice"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrationForm {
    instructions: Option<String>,
    key: Option<String>,
    registered: bool,
    fields: Vec<(Field, String)>,
    /// The data form the server sent beside (or instead of) the classic fields
    /// (XEP-0077 §6); boxed: most forms have none.
    data: Option<alloc::boxed::Box<DataForm>>,
}

impl RegistrationForm {
    /// A form asking for `fields`, all empty (for tests and for servers known in advance).
    pub fn with_fields(fields: &[Field]) -> RegistrationForm {
        RegistrationForm {
            instructions: None,
            key: None,
            registered: false,
            fields: fields.iter().map(|f| (*f, String::new())).collect(),
            data: None,
        }
    }

    /// Reads a `<query xmlns='jabber:iq:register'>`: the classic fields, and the data
    /// form if the server sent one ([`data_form`](Self::data_form)). Unknown children
    /// are skipped; values the server pre-filled are kept.
    pub fn from_query(query: ElementRef<'_>) -> RegistrationForm {
        let mut form = RegistrationForm::with_fields(&[]);
        for child in query.children().filter(|c| c.ns() == ns::IQ_REGISTER) {
            match child.name() {
                "instructions" => form.instructions = Some(child.text().into_owned()),
                "key" => form.key = Some(child.text().into_owned()),
                "registered" => form.registered = true,
                name => {
                    if let Some(field) = Field::from_name(name) {
                        if form.get(field).is_none() {
                            form.fields.push((field, child.text().into_owned()));
                        }
                    }
                }
            }
        }
        form.data = DataForm::find_in(query).map(alloc::boxed::Box::new);
        form
    }

    /// The data form (XEP-0004) the server sent in the query, if any (XEP-0077 §6):
    /// ejabberd and prosody send one with the fields they want, possibly more than the
    /// classic ones (a CAPTCHA, say). When there is one, the submission is that form
    /// ([`to_query`](Self::to_query)); [`set`](Self::set) fills both.
    pub fn data_form(&self) -> Option<&DataForm> {
        self.data.as_deref()
    }

    /// The data form, to fill in fields the classic ones do not cover
    /// ([`DataForm::set_value`]).
    pub fn data_form_mut(&mut self) -> Option<&mut DataForm> {
        self.data.as_deref_mut()
    }

    /// Replaces the data form (`None` submits the classic fields).
    pub fn set_data_form(&mut self, form: Option<DataForm>) {
        self.data = form.map(alloc::boxed::Box::new);
    }

    /// Whether the submission carries a secret: a password, or a value of a private
    /// field of the data form.
    pub fn carries_secret(&self) -> bool {
        let private = |d: &DataForm| {
            d.fields.iter().any(|f| {
                (f.is_private() || f.var.as_deref() == Some("password")) && !f.values.is_empty()
            })
        };
        self.get(Field::Password).is_some_and(|p| !p.is_empty())
            || self.data.as_deref().is_some_and(private)
    }

    /// The server's instructions for the user.
    pub fn instructions(&self) -> Option<&str> {
        self.instructions.as_deref()
    }

    /// The server's session key, echoed back on submission.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Whether the account is already registered (the form of a logged-in session).
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// The fields the server asks for, in its order, with their current values.
    pub fn fields(&self) -> impl Iterator<Item = (Field, &str)> + '_ {
        self.fields.iter().map(|(f, v)| (*f, v.as_str()))
    }

    /// The value of `field`, if the server asks for it: the classic field's, else the
    /// data form's field of the same name (XEP-0077 §6 registers the classic names for
    /// the form).
    pub fn get(&self, field: Field) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
            .or_else(|| {
                let data = self.data.as_deref()?;
                let f = data.field(field.as_str())?;
                Some(f.value().unwrap_or_default())
            })
    }

    /// Fills in `field`, in the classic fields and in the data form's field of the
    /// same name. Returns false (and changes nothing) when the server asked for it in
    /// neither.
    pub fn set(&mut self, field: Field, value: &str) -> bool {
        let classic = match self.fields.iter_mut().find(|(f, _)| *f == field) {
            Some((_, v)) => {
                v.clear();
                v.push_str(value);
                true
            }
            None => false,
        };
        let data = self
            .data
            .as_deref_mut()
            .is_some_and(|d| d.set_value(field.as_str(), value));
        classic || data
    }

    /// The payload of the submission: with a data form that asks for something (a
    /// field besides `FORM_TYPE`), that form submitted ([`DataForm::to_submit`],
    /// XEP-0077 §6: a client that understands the form submits it); otherwise every
    /// classic field asked for that has a value, and the key.
    pub fn to_query(&self) -> Result<Element, BuildError> {
        if let Some(data) = self.data.as_deref().filter(|d| has_named_fields(d)) {
            return Element::builder("query", ns::IQ_REGISTER)
                .child(data.to_submit().to_element()?)
                .build();
        }
        let mut b = Element::builder("query", ns::IQ_REGISTER);
        for (field, value) in self.fields.iter().filter(|(_, v)| !v.is_empty()) {
            b = b.child(Element::builder(field.as_str(), ns::IQ_REGISTER).text(value));
        }
        if let Some(key) = &self.key {
            b = b.child(Element::builder("key", ns::IQ_REGISTER).text(key));
        }
        b.build()
    }
}

/// Whether `form` asks for anything: a named field besides `FORM_TYPE`.
fn has_named_fields(form: &DataForm) -> bool {
    form.fields.iter().any(|f| {
        f.var
            .as_deref()
            .is_some_and(|v| v != crate::stanza::form::FORM_TYPE)
    })
}

impl fmt::Debug for RegistrationForm {
    // The password stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| {
                let shown = if *k == Field::Password && !v.is_empty() {
                    "<hidden>"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("RegistrationForm")
            .field("instructions", &self.instructions)
            .field("key", &self.key)
            .field("registered", &self.registered)
            .field("fields", &fields)
            .field("data", &self.data)
            .finish()
    }
}

/// The payload asking for the form: `<query xmlns='jabber:iq:register'/>`.
pub fn form_query() -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_REGISTER).build()
}

/// The payload changing the password of the logged-in account `username`.
pub fn password_change_query(username: &str, password: &str) -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_REGISTER)
        .child(Element::builder("username", ns::IQ_REGISTER).text(username))
        .child(Element::builder("password", ns::IQ_REGISTER).text(password))
        .build()
}

/// The payload removing the logged-in account: `<query><remove/></query>`.
pub fn remove_query() -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_REGISTER)
        .child(Element::builder("remove", ns::IQ_REGISTER))
        .build()
}

/// Which registration request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationStep {
    /// Asking for the form.
    Form,
    /// Submitting the filled form.
    Submit,
    /// Changing the password.
    ChangePassword,
    /// Removing the account.
    Remove,
}

impl fmt::Display for RegistrationStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegistrationStep::Form => "registration form request",
            RegistrationStep::Submit => "registration",
            RegistrationStep::ChangePassword => "password change",
            RegistrationStep::Remove => "account removal",
        })
    }
}

/// Why a registration request failed; reported by
/// [`AccountEvent::RegistrationFailed`](crate::client::AccountEvent::RegistrationFailed). A
/// username conflict on submission is reported separately, by
/// [`AccountEvent::RegistrationConflict`](crate::client::AccountEvent::RegistrationConflict).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The server refused (e.g. 406 `not-acceptable` for a missing field, 405
    /// `not-allowed` when registration is off).
    Refused(StanzaError),
    /// The server answered with something that is neither success nor an error.
    UnexpectedReply,
    /// No answer within [`Config::iq_timeout`](crate::client::Config).
    Timeout,
    /// [`Config::require_tls`](crate::client::Config::require_tls) is on and the XMPP
    /// 1.0 stream is unencrypted with no STARTTLS offered: nothing was asked.
    TlsRequired,
    /// The server answered the `<starttls/>` sent before the form with `<failure/>`.
    TlsRefused,
}

impl fmt::Display for RegistrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistrationError::Refused(e) => write!(f, "refused: {e}"),
            RegistrationError::UnexpectedReply => f.write_str("unexpected reply"),
            RegistrationError::Timeout => f.write_str("no reply"),
            RegistrationError::TlsRequired => {
                f.write_str("TLS is required and the server did not offer it")
            }
            RegistrationError::TlsRefused => f.write_str("the server refused STARTTLS"),
        }
    }
}

impl core::error::Error for RegistrationError {}
