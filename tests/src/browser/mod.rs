//! The browser test's harness: the demo page's wasm module built for the test
//! ([`bundle`]), served on loopback ([`static_files`]), and headless Chromium driven over
//! WebDriver ([`webdriver`]).

pub mod bundle;
pub mod static_files;
pub mod webdriver;
