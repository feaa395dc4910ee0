//! The jabber XMPP client in the browser.
//!
//! Browsers open no TCP sockets; they reach XMPP servers over WebSocket (RFC 7395). This
//! crate drives the sans-IO core, `jabber-proto`, from the page's own event loop: the
//! socket's callbacks are its inputs, `setTimeout` its timer, `performance.now()` its
//! clock and `crypto.getRandomValues` its seed. Built for `wasm32-unknown-unknown` and
//! bound with `wasm-bindgen --target web`, it gives JavaScript one class:
//!
//! ```js
//! import init, { JabberClient } from './pkg/jabber_wasm.js';
//! await init();
//! const client = new JabberClient({ url: 'wss://example.com/ws',
//!                                   jid: 'alice@example.com', password: '...' });
//! client.onEvent((e) => console.log(e.kind, e));   // {kind: 'message', from, body, ...}
//! client.connect();
//! // once {kind: 'online'}:
//! client.send('bob@example.com', 'hello');
//! client.setPresence('away', 'lunch');
//! client.close();
//! ```
//!
//! The records the page gets are [`Notice`]s; the decisions are all in [`Driver`],
//! which has no browser in it and is tested natively. The glue that binds it to the
//! browser exists on `wasm32` only.

pub mod driver;
pub mod notice;
pub mod options;

#[cfg(target_arch = "wasm32")]
mod browser;

pub use driver::{Action, CommandError, Driver};
pub use notice::{Contact, Field, Notice};
pub use options::{Options, OptionsError};
