//! Plain JavaScript objects in and out: the constructor's options, the records given to
//! the page.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsError, JsValue};

use crate::notice::{Contact, Field, Notice};
use crate::options::Options;

/// `{url, jid, password, resource?, allowInsecure?}` as [`Options`].
pub(crate) fn options(value: &JsValue) -> Result<Options, JsError> {
    if !value.is_object() {
        return Err(JsError::new(
            "JabberClient takes an object: {url, jid, password}",
        ));
    }
    let get = |name: &str| Reflect::get(value, &JsValue::from_str(name)).ok();
    let text = |name: &str| get(name).and_then(|v| v.as_string());
    let required =
        |name: &str| text(name).ok_or_else(|| JsError::new(&format!("{name} is missing")));
    Ok(Options {
        url: required("url")?,
        jid: required("jid")?,
        password: required("password")?,
        resource: text("resource"),
        allow_insecure: get("allowInsecure").and_then(|v| v.as_bool()) == Some(true),
    })
}

/// `{kind, ...fields}` for `notice`.
pub(crate) fn notice(notice: &Notice) -> JsValue {
    let object = Object::new();
    set(&object, "kind", &JsValue::from_str(notice.kind()));
    for (name, value) in notice.fields() {
        let value = match value {
            Field::Text(s) => JsValue::from_str(s),
            Field::Flag(b) => JsValue::from_bool(b),
            Field::Contacts(items) => items.iter().map(contact).collect::<Array>().into(),
        };
        set(&object, name, &value);
    }
    object.into()
}

fn contact(c: &Contact) -> JsValue {
    let object = Object::new();
    set(&object, "jid", &JsValue::from_str(&c.jid));
    if let Some(name) = &c.name {
        set(&object, "name", &JsValue::from_str(name));
    }
    set(&object, "subscription", &JsValue::from_str(c.subscription));
    set(&object, "pending", &JsValue::from_bool(c.pending));
    object.into()
}

fn set(object: &Object, name: &str, value: &JsValue) {
    // Setting a property of a plain new object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}
