//! The stream layer: bytes in any chunking → items (header, top-level elements, close),
//! and items → bytes.
//!
//! ```text
//!  socket bytes ─► framer ─► tokenizer ─► Item::{Header, Element, Close}
//!                  (byte     (xmlparser,
//!                  limits)   namespaces, references)
//! ```
//!
//! Inbound, [`StreamParser`] takes bytes in whatever pieces they arrive and yields
//! [`Item`]s; outbound, [`Writer`] serialises them.

mod condition;
mod error;
mod framer;
pub mod framing;
mod header;
mod limits;
mod parser;
mod references;
mod stream_error;
mod tokenizer;
mod writer;

pub use condition::Condition;
pub use error::ParseError;
pub use framing::Framing;
pub use header::StreamHeader;
pub use limits::Limits;
pub use parser::{Item, StreamParser};
pub use stream_error::StreamError;
pub use writer::Writer;
