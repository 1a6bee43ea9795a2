//! The pinned `uniffi-bindgen` (`bash bindings/generate.sh` runs it). It is
//! its own crate because uniffi's `cli` feature more than doubles the build
//! of the library crate.
fn main() {
    uniffi::uniffi_bindgen_main()
}
