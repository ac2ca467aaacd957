//! The `enchufe` binary.
fn main() {}
