//! The glue: the page's WebSocket, timer and callback around a [`Driver`].
//!
//! Every entry — a socket callback, the timer, a page command — makes one call on the
//! driver, then performs its actions: messages go to the socket, the timer is re-armed
//! from the driver's deadline, and only then, with nothing borrowed, the records go to
//! the page's callback, which may call commands in turn (each drains the same way).

mod convert;
mod host;

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{ArrayBuffer, Function, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsError, JsValue, wasm_bindgen};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::driver::{Action, CommandError, Driver, SUBPROTOCOL};
use crate::options::Options;

/// An XMPP session in the page: `new JabberClient({url, jid, password, resource,
/// allowInsecure})`.
#[wasm_bindgen]
pub struct JabberClient {
    shared: Rc<Shared>,
}

struct Shared {
    options: Options,
    session: RefCell<Option<Session>>,
    /// The session a `connect()` replaced, kept until the next one: the page may call
    /// `connect()` from its callback while one of that session's closures runs, and a
    /// closure must not be dropped while it runs.
    retired: RefCell<Option<Session>>,
    listener: RefCell<Option<Function>>,
}

/// One connection: the driver and the browser objects serving it.
struct Session {
    driver: Driver,
    socket: WebSocket,
    /// Kept alive as long as the socket may call them.
    _on_open: Closure<dyn FnMut() -> Result<(), JsValue>>,
    _on_message: Closure<dyn FnMut(MessageEvent) -> Result<(), JsValue>>,
    _on_close: Closure<dyn FnMut(CloseEvent) -> Result<(), JsValue>>,
    on_timer: Closure<dyn FnMut() -> Result<(), JsValue>>,
    /// The armed `setTimeout`, if any.
    timer: Option<i32>,
}

#[wasm_bindgen]
impl JabberClient {
    /// Checks the options; nothing connects before [`connect`](Self::connect).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JabberClient, JsError> {
        let options = convert::options(&options)?;
        // Refuse bad options here rather than at connect().
        options.session(host::seed())?;
        let shared = Shared {
            options,
            session: RefCell::new(None),
            retired: RefCell::new(None),
            listener: RefCell::new(None),
        };
        Ok(JabberClient {
            shared: Rc::new(shared),
        })
    }

    /// Sets the callback that receives every record: `{kind: 'online' | 'roster' |
    /// 'message' | 'presence' | 'subscription' | 'loginFailed' | 'error' | 'closed',
    /// ...}`.
    #[wasm_bindgen(js_name = onEvent)]
    pub fn on_event(&self, listener: Function) {
        *self.shared.listener.borrow_mut() = Some(listener);
    }

    /// Opens the WebSocket and logs in; `online` (or `loginFailed`, then `closed`)
    /// follows. A new connection after `closed` is allowed.
    pub fn connect(&self) -> Result<(), JsError> {
        if self
            .shared
            .session
            .borrow()
            .as_ref()
            .is_some_and(|s| !s.driver.is_done())
        {
            return Err(JsError::new("already connected"));
        }
        let now = host::now();
        let mut driver = Driver::new(&self.shared.options, host::seed(), now)?;
        if let Some(utc) = host::utc() {
            driver.command(now, |c, now| c.set_utc(now, utc));
        }
        let socket = WebSocket::new_with_str(&self.shared.options.url, SUBPROTOCOL)
            .map_err(|e| JsError::new(&format!("cannot open the WebSocket: {e:?}")))?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let weak = Rc::downgrade(&self.shared);
        let on_open = Closure::<dyn FnMut() -> Result<(), JsValue>>::new({
            let weak = weak.clone();
            let socket = socket.clone();
            // The server must have agreed to `xmpp`; the driver refuses anything else.
            move || enter(&weak, |d| d.on_open_with(host::now(), &socket.protocol()))
        });
        let on_message = Closure::<dyn FnMut(MessageEvent) -> Result<(), JsValue>>::new({
            let weak = weak.clone();
            move |event: MessageEvent| {
                let data = event.data();
                // RFC 7395 sends text; a binary message is taken as its UTF-8 bytes.
                let bytes = match data.as_string() {
                    Some(text) => text.into_bytes(),
                    None => match data.dyn_into::<ArrayBuffer>() {
                        Ok(buffer) => Uint8Array::new(&buffer).to_vec(),
                        Err(_) => return Ok(()),
                    },
                };
                enter(&weak, |d| d.on_message(host::now(), &bytes))
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent) -> Result<(), JsValue>>::new({
            let weak = weak.clone();
            move |event: CloseEvent| enter(&weak, |d| d.on_close(host::now(), event.was_clean()))
        });
        let on_timer = Closure::<dyn FnMut() -> Result<(), JsValue>>::new({
            let weak = weak.clone();
            move || enter(&weak, |d| d.on_timer(host::now()))
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let session = Session {
            driver,
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            on_timer,
            timer: None,
        };
        if let Some(old) = self.shared.session.replace(Some(session)) {
            old.detach();
            *self.shared.retired.borrow_mut() = Some(old);
        }
        // What the driver decided at its start (a login refused locally, say).
        enter(&weak, |_| {}).map_err(thrown)
    }

    /// Sends a chat message to `to`.
    pub fn send(&self, to: &str, body: &str) -> Result<(), JsError> {
        self.command(|d| d.send_message(host::now(), to, body))
    }

    /// Broadcasts our presence: `show` is `''` (available), `away`, `chat`, `dnd`,
    /// `xa` or `unavailable`; `status` an optional text.
    #[wasm_bindgen(js_name = setPresence)]
    pub fn set_presence(&self, show: &str, status: Option<String>) -> Result<(), JsError> {
        self.command(|d| d.set_presence(host::now(), show, status.as_deref()))
    }

    /// Asks to see `contact`'s presence.
    pub fn subscribe(&self, contact: &str) -> Result<(), JsError> {
        self.command(|d| d.subscribe(host::now(), contact))
    }

    /// Lets `contact` see our presence (the answer to its subscription `request`).
    pub fn approve(&self, contact: &str) -> Result<(), JsError> {
        self.command(|d| d.approve(host::now(), contact))
    }

    /// Logs out; `closed` follows.
    pub fn close(&self) -> Result<(), JsError> {
        self.command(|d| {
            d.close(host::now());
            Ok(())
        })
    }

    /// Our full address once `online`.
    #[wasm_bindgen(getter)]
    pub fn jid(&self) -> Option<String> {
        let session = self.shared.session.borrow();
        session
            .as_ref()
            .and_then(|s| s.driver.client().jid().map(|j| j.to_string()))
    }
}

impl JabberClient {
    /// Runs a page command on the driver, then performs its actions.
    fn command(
        &self,
        f: impl FnOnce(&mut Driver) -> Result<(), CommandError>,
    ) -> Result<(), JsError> {
        if self.shared.session.borrow().is_none() {
            return Err(JsError::new("not connected: call connect() first"));
        }
        let mut outcome = Ok(());
        enter(&Rc::downgrade(&self.shared), |d| outcome = f(d)).map_err(thrown)?;
        Ok(outcome?)
    }
}

/// An exception the page's callback threw, passed on to the page's call.
fn thrown(e: JsValue) -> JsError {
    JsError::new(&e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

impl Drop for Session {
    fn drop(&mut self) {
        self.detach();
    }
}

impl Session {
    /// Unhooks the socket's callbacks and the timer (a replaced or dropped session):
    /// the browser must never call a closure that is gone.
    fn detach(&self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
        if let (Some(id), Some(window)) = (self.timer, web_sys::window()) {
            window.clear_timeout_with_handle(id);
        }
    }

    /// Performs the driver's actions but the records, which are returned for the page.
    fn perform(&mut self) -> Vec<JsValue> {
        let mut records = Vec::new();
        for action in self.driver.take_actions() {
            match action {
                // A send fails only on a socket that is not open, which the driver
                // never sends to; its close event ends the session anyway.
                Action::Send(text) => {
                    let _ = self.socket.send_with_str(&text);
                }
                Action::Notify(notice) => records.push(convert::notice(&notice)),
                Action::CloseSocket => {
                    let _ = self.socket.close();
                }
            }
        }
        self.arm();
        records
    }

    /// Re-arms the one timer from the driver's deadline.
    fn arm(&mut self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(id) = self.timer.take() {
            window.clear_timeout_with_handle(id);
        }
        let Some(deadline) = self.driver.deadline() else {
            return;
        };
        let wait = deadline.saturating_duration_since(host::now()).as_millis();
        let wait = i32::try_from(wait).unwrap_or(i32::MAX);
        let callback = self.on_timer.as_ref().unchecked_ref();
        self.timer = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(callback, wait)
            .ok();
    }
}

/// One entry: `f` on the driver, the actions performed, then the records delivered
/// with nothing borrowed. The first exception the page's callback threw is returned
/// (after every record was delivered).
fn enter(shared: &Weak<Shared>, f: impl FnOnce(&mut Driver)) -> Result<(), JsValue> {
    let Some(shared) = shared.upgrade() else {
        return Ok(());
    };
    let records = {
        let mut session = shared.session.borrow_mut();
        let Some(session) = session.as_mut() else {
            return Ok(());
        };
        f(&mut session.driver);
        session.perform()
    };
    let listener = shared.listener.borrow().clone();
    let mut thrown = Ok(());
    if let Some(listener) = listener {
        for record in records {
            if let Err(e) = listener.call1(&JsValue::NULL, &record) {
                thrown = thrown.and(Err(e));
            }
        }
    }
    thrown
}
