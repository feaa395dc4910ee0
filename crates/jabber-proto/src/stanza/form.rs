//! Data forms (`jabber:x:data`, XEP-0004) as typed values: a form to fill in, its
//! submission, a cancellation, or a result with reported columns and items.
//!
//! Forms come inside other payloads — a registration query (XEP-0077), extended
//! discovery information (XEP-0128, hashed into entity capabilities), room
//! configuration — so this module only reads and writes the `<x/>` element; who sends it
//! is the payload's business. A form that names its purpose does so with a hidden
//! `FORM_TYPE` field ([`DataForm::form_type`], XEP-0068).
//!
//! The values of a `text-private` field are secrets: [`Debug`](core::fmt::Debug) hides
//! them, and the console masks them ([`console::is_secret_value`](crate::console)).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::ns::DATA_FORMS as NS;
use crate::xml::{BuildError, Element, ElementBuilder, ElementRef};

/// The `var` of the hidden field naming a form's purpose (XEP-0068).
pub const FORM_TYPE: &str = "FORM_TYPE";

crate::names::named_enum! {
    /// What a form is for: its `type` attribute.
    pub enum FormKind {
        /// Asks the receiver to fill it in.
        Form => "form",
        /// The filled form sent back.
        Submit => "submit",
        /// Filling in was abandoned.
        Cancel => "cancel",
        /// Data returned (search results, a room's configuration, extended info).
        Result => "result",
    }
}

crate::names::named_enum! {
    /// A field's `type`.
    pub enum FieldType {
        /// Yes or no (`1`/`true`, `0`/`false`).
        Boolean => "boolean",
        /// Text shown to the user, not a value to submit.
        Fixed => "fixed",
        /// Kept from the form to the submission, not shown (`FORM_TYPE`, a session key).
        Hidden => "hidden",
        /// Several addresses.
        JidMulti => "jid-multi",
        /// One address.
        JidSingle => "jid-single",
        /// Several of the options.
        ListMulti => "list-multi",
        /// One of the options.
        ListSingle => "list-single",
        /// Several lines of text.
        TextMulti => "text-multi",
        /// A secret (a password): its values are masked wherever the crate shows them.
        TextPrivate => "text-private",
        /// One line of text (what a field without `type` is).
        TextSingle => "text-single",
    }
}

/// One option of a list field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldOption {
    /// What the user sees.
    pub label: Option<String>,
    /// What is submitted.
    pub value: String,
}

impl FieldOption {
    /// An option submitting `value`, shown as `label`.
    pub fn new(label: Option<&str>, value: &str) -> FieldOption {
        FieldOption {
            label: label.map(String::from),
            value: String::from(value),
        }
    }
}

/// One field of a form.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormField {
    /// Its name (absent only for `fixed` fields).
    pub var: Option<String>,
    /// Its type; `None` when absent (a submission may leave it out) or not one of
    /// XEP-0004's, both read as `text-single`.
    pub kind: Option<FieldType>,
    /// What the user sees.
    pub label: Option<String>,
    /// A longer description.
    pub desc: Option<String>,
    /// Whether the form cannot be submitted without it.
    pub required: bool,
    /// The choices of a list field.
    pub options: Vec<FieldOption>,
    /// Its values, in order (one for single fields, any number for multi fields).
    pub values: Vec<String>,
}

impl FormField {
    /// An empty field named `var` of type `kind`.
    pub fn new(var: &str, kind: FieldType) -> FormField {
        FormField {
            var: Some(String::from(var)),
            kind: Some(kind),
            label: None,
            desc: None,
            required: false,
            options: Vec::new(),
            values: Vec::new(),
        }
    }

    /// The hidden `FORM_TYPE` field naming the form's purpose.
    pub fn form_type(namespace: &str) -> FormField {
        FormField::new(FORM_TYPE, FieldType::Hidden).with_value(namespace)
    }

    /// With one more value.
    #[must_use]
    pub fn with_value(mut self, value: &str) -> FormField {
        self.values.push(String::from(value));
        self
    }

    /// The first value, if any.
    pub fn value(&self) -> Option<&str> {
        self.values.first().map(String::as_str)
    }

    /// Whether the values are secret (`text-private`).
    pub fn is_private(&self) -> bool {
        self.kind == Some(FieldType::TextPrivate)
    }

    /// A boolean field's value: `1`/`true` or `0`/`false`; `None` when absent or neither.
    pub fn bool_value(&self) -> Option<bool> {
        match self.value()? {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        }
    }

    /// Reads a `<field/>`.
    pub fn from_element(el: ElementRef<'_>) -> FormField {
        let mut field = FormField {
            var: el.attr("var").map(String::from),
            kind: el.attr("type").and_then(FieldType::from_name),
            label: el.attr("label").map(String::from),
            desc: None,
            required: false,
            options: Vec::new(),
            values: Vec::new(),
        };
        for child in el.children().filter(|c| c.ns() == NS) {
            match child.name() {
                "value" => field.values.push(child.text().into_owned()),
                "desc" => field.desc = Some(child.text().into_owned()),
                "required" => field.required = true,
                "option" => {
                    if let Some(value) = child.child("value", NS) {
                        field.options.push(FieldOption {
                            label: child.attr("label").map(String::from),
                            value: value.text().into_owned(),
                        });
                    }
                }
                _ => {}
            }
        }
        field
    }

    /// The `<field/>` element.
    pub fn to_element(&self) -> ElementBuilder {
        let mut b = Element::builder("field", NS);
        if let Some(var) = &self.var {
            b = b.attr("var", var);
        }
        if let Some(kind) = self.kind {
            b = b.attr("type", kind.as_str());
        }
        if let Some(label) = &self.label {
            b = b.attr("label", label);
        }
        if let Some(desc) = &self.desc {
            b = b.child(Element::builder("desc", NS).text(desc));
        }
        if self.required {
            b = b.child(Element::builder("required", NS));
        }
        for value in &self.values {
            b = b.child(Element::builder("value", NS).text(value));
        }
        for option in &self.options {
            let mut o = Element::builder("option", NS);
            if let Some(label) = &option.label {
                o = o.attr("label", label);
            }
            b = b.child(o.child(Element::builder("value", NS).text(&option.value)));
        }
        b
    }
}

impl fmt::Debug for FormField {
    // A private field's values stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = ["<hidden>"];
        // As the console masks them (`console::is_secret_value`).
        let secret = self.is_private() || self.var.as_deref() == Some("password");
        let values: &dyn fmt::Debug = if secret && !self.values.is_empty() {
            &hidden
        } else {
            &self.values
        };
        f.debug_struct("FormField")
            .field("var", &self.var)
            .field("kind", &self.kind)
            .field("label", &self.label)
            .field("desc", &self.desc)
            .field("required", &self.required)
            .field("options", &self.options)
            .field("values", values)
            .finish()
    }
}

/// A data form.
///
/// ```
/// use jabber_proto::stanza::form::{DataForm, FieldType, FormField, FormKind};
/// let mut form = DataForm::new(FormKind::Form);
/// form.title = Some("Sign up".into());
/// form.fields.push(FormField::form_type("jabber:iq:register"));
/// form.fields.push(FormField::new("password", FieldType::TextPrivate));
/// assert!(form.set_value("password", "s3cret"));
/// let submit = form.to_submit();
/// assert_eq!(
///     submit.to_element().unwrap().to_string(),
///     "<x xmlns='jabber:x:data' type='submit'>\
///      <field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>\
///      <field var='password' type='text-private'><value>s3cret</value></field></x>"
/// );
/// assert!(!format!("{submit:?}").contains("s3cret"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataForm {
    /// What it is for.
    pub kind: FormKind,
    /// Its title.
    pub title: Option<String>,
    /// Instructions, a paragraph each.
    pub instructions: Vec<String>,
    /// Its fields, in order.
    pub fields: Vec<FormField>,
    /// A result's columns: the fields each item has (`None` when there is no
    /// `<reported/>`).
    pub reported: Option<Vec<FormField>>,
    /// A result's rows, each a list of fields.
    pub items: Vec<Vec<FormField>>,
}

impl DataForm {
    /// An empty form of `kind`.
    pub fn new(kind: FormKind) -> DataForm {
        DataForm {
            kind,
            title: None,
            instructions: Vec::new(),
            fields: Vec::new(),
            reported: None,
            items: Vec::new(),
        }
    }

    /// Reads an `<x xmlns='jabber:x:data'/>`; `None` when `el` is not one or its `type`
    /// is missing or unknown.
    pub fn from_element(el: ElementRef<'_>) -> Option<DataForm> {
        if !el.is("x", NS) {
            return None;
        }
        let mut form = DataForm::new(FormKind::from_name(el.attr("type")?)?);
        let fields = |parent: ElementRef<'_>| -> Vec<FormField> {
            parent
                .children()
                .filter(|c| c.is("field", NS))
                .map(FormField::from_element)
                .collect()
        };
        for child in el.children().filter(|c| c.ns() == NS) {
            match child.name() {
                "title" => form.title = Some(child.text().into_owned()),
                "instructions" => form.instructions.push(child.text().into_owned()),
                "field" => form.fields.push(FormField::from_element(child)),
                "reported" => form.reported = Some(fields(child)),
                "item" => form.items.push(fields(child)),
                _ => {}
            }
        }
        Some(form)
    }

    /// The first data form among `el`'s children, if any (as a payload carries it).
    pub fn find_in(el: ElementRef<'_>) -> Option<DataForm> {
        el.children().find_map(DataForm::from_element)
    }

    /// The `<x/>` element.
    pub fn to_element(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder("x", NS).attr("type", self.kind.as_str());
        if let Some(title) = &self.title {
            b = b.child(Element::builder("title", NS).text(title));
        }
        for text in &self.instructions {
            b = b.child(Element::builder("instructions", NS).text(text));
        }
        if let Some(reported) = &self.reported {
            b = b.child(
                Element::builder("reported", NS).children(reported.iter().map(|f| f.to_element())),
            );
        }
        for item in &self.items {
            b = b.child(Element::builder("item", NS).children(item.iter().map(|f| f.to_element())));
        }
        b.children(self.fields.iter().map(|f| f.to_element()))
            .build()
    }

    /// The value of the hidden `FORM_TYPE` field, if the form has one.
    pub fn form_type(&self) -> Option<&str> {
        self.field(FORM_TYPE)
            .filter(|f| f.kind.is_none_or(|k| k == FieldType::Hidden))
            .and_then(FormField::value)
    }

    /// The field named `var`.
    pub fn field(&self, var: &str) -> Option<&FormField> {
        self.fields.iter().find(|f| f.var.as_deref() == Some(var))
    }

    /// The field named `var`, to change.
    pub fn field_mut(&mut self, var: &str) -> Option<&mut FormField> {
        self.fields
            .iter_mut()
            .find(|f| f.var.as_deref() == Some(var))
    }

    /// The first value of the field named `var`.
    pub fn value(&self, var: &str) -> Option<&str> {
        self.field(var).and_then(FormField::value)
    }

    /// Sets the field named `var` to the single value `value`. Returns false (and
    /// changes nothing) when the form has no such field.
    pub fn set_value(&mut self, var: &str, value: &str) -> bool {
        match self.field_mut(var) {
            Some(field) => {
                field.values.clear();
                field.values.push(String::from(value));
                true
            }
            None => false,
        }
    }

    /// The submission of this form as filled in: every named field but the `fixed`
    /// ones, with its type (so a private value stays marked as one) and values, without
    /// labels, descriptions and options (XEP-0004 §3.2).
    pub fn to_submit(&self) -> DataForm {
        let mut submit = DataForm::new(FormKind::Submit);
        submit.fields = self
            .fields
            .iter()
            .filter(|f| f.var.is_some() && f.kind != Some(FieldType::Fixed))
            .map(|f| FormField {
                var: f.var.clone(),
                kind: f.kind,
                label: None,
                desc: None,
                required: false,
                options: Vec::new(),
                values: f.values.clone(),
            })
            .collect();
        submit
    }
}
