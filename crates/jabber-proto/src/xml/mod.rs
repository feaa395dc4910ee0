//! XML values: the element tree the stream layer produces and the writer consumes, and
//! its serialisation.
//!
//! One representation serves both directions. An [`Element`] keeps all of its strings in a
//! single buffer and its nodes in a single vector, so a parsed stanza costs two allocations
//! however many children and attributes it has, and building one by hand validates every
//! name and character up front: a built element can always be written.

mod builder;
pub mod chars;
mod element;
pub(crate) mod serialize;

pub use builder::{BuildError, ChildResult, ElementBuilder};
pub use element::{Attribute, Children, Element, ElementRef, Node, Nodes};
pub(crate) use element::{Ns, RawNode, Span};
