//! otprig command line: parses arguments and runs the app.
fn main() {}
