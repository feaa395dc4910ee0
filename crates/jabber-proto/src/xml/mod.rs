//! XML values: the element tree the stream layer produces and the writer consumes, and
//! its serialisation.
//!
//! One representation serves both directions. An [`Element`] keeps all of its strings and,
//! behind them, all of its nodes in a single buffer, so a parsed stanza costs one
//! allocation however many children and attributes it has, and building one by hand
//! validates every name and character up front: a built element can always be written.

mod builder;
pub mod chars;
mod element;
mod node_table;
pub(crate) mod serialize;

pub use builder::{BuildError, ChildResult, ElementBuilder};
pub use element::{Attribute, Children, Element, ElementRef, Node, Nodes};
pub(crate) use element::{Ns, RawNode, Span};
