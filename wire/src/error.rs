//! Errors of the checked zero-copy views.
//!
//! Only the views (`Foo::new_checked`) return errors; the lenient `Repr`
//! parsers report [`Finding`](crate::Finding)s instead.

use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The buffer is shorter than the header's fixed part or its own length field.
    Truncated,
    /// A length field is inconsistent in a way the view cannot represent.
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("buffer too short for the header"),
            Error::Malformed => f.write_str("inconsistent length field"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = core::result::Result<T, Error>;
