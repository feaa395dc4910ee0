//! The demo page's wasm module, built for the test: `cargo build -p jabber-wasm
//! --target wasm32-unknown-unknown`, then `wasm-bindgen --target web` (installed by
//! scripts/install-browser at the version Cargo.lock pins).

use std::env;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// The workspace's root folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// The workspace's target folder.
pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from)
}

/// The demo page's static files (`index.html`, `app.js`, `style.css`).
pub fn www() -> PathBuf {
    workspace().join("crates/jabber-wasm/www")
}

/// Builds the module once per test process and returns the folder holding
/// `jabber_wasm.js` and `jabber_wasm_bg.wasm` (the page's `./pkg/`).
pub fn build() -> io::Result<PathBuf> {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(dir) = built.as_ref() {
        return Ok(dir.clone());
    }
    let target = target_dir();
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .current_dir(workspace())
        .args(["build", "--quiet", "-p", "jabber-wasm"])
        .args(["--target", "wasm32-unknown-unknown"])
        .arg("--target-dir")
        .arg(&target))?;
    let module = target.join("wasm32-unknown-unknown/debug/jabber_wasm.wasm");
    let out = target.join("browser-demo/pkg");
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&out)
        .arg(&module))?;
    *built = Some(out.clone());
    Ok(out)
}

fn run(command: &mut Command) -> io::Result<()> {
    let output = command.output().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot run {:?} ({e}): run scripts/install-browser",
                command.get_program()
            ),
        )
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{:?} failed: {}",
            command,
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}
