# Sourced by scripts/test and scripts/demo: makes `cargo` available.
# rustup's default home, in case the caller's PATH lacks it (a bare CI environment).
[ -d "${CARGO_HOME:-$HOME/.cargo}/bin" ] && export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! command -v cargo >/dev/null 2>&1; then
    # Debian 13 packages rustup; Debian 12's own cargo is too old for this workspace.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
        && apt-get update -q && apt-get install -y -q rustup; then
        rustup default stable
    else
        echo "cargo not found: install a current stable Rust with rustup (https://rustup.rs)" >&2
        exit 1
    fi
fi
