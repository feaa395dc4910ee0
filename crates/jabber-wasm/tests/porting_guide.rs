//! `docs/porting.md` shows the browser glue as its second complete runtime: it must be
//! the file as it is.

#[test]
fn the_porting_guide_shows_the_glue_as_it_is() {
    let guide = include_str!("../../../docs/porting.md");
    let glue = include_str!("../src/browser/mod.rs");
    assert!(
        guide.contains(&format!("```rust\n{glue}```")),
        "docs/porting.md does not show crates/jabber-wasm/src/browser/mod.rs as it is"
    );
}
