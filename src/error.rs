//! The crate-wide error type.
//!
//! Each module owns one error enum; [`Error`] gathers them so that callers can match on the
//! module that failed, and [`ErrorCode`] gives every error a stable code that crosses to
//! JavaScript unchanged. Messages never contain keys, personal data or payload bytes.

use core::fmt;

/// A stable, machine-readable error code. JavaScript receives it as the `code` property of
/// the thrown `Error`; integrators branch on it, so a code is never renamed or reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The host lacks a platform feature the call needs (for example Web Bluetooth).
    Unsupported,
    /// An argument passed by the caller is invalid.
    InvalidArgument,
    /// The consent ledger rejected an operation or failed verification; the
    /// [`LedgerError::code`](crate::consent::LedgerError::code) says exactly why.
    Consent,
}

impl ErrorCode {
    /// The code's stable name, as JavaScript sees it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unsupported => "Unsupported",
            Self::InvalidArgument => "InvalidArgument",
            Self::Consent => "Consent",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Any error the SDK reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A platform feature is missing; the message says which and what to do instead.
    Unsupported(&'static str),
    /// An argument is invalid; the message names the argument, never its value.
    InvalidArgument(&'static str),
    /// A consent ledger error.
    Consent(crate::consent::LedgerError),
}

impl Error {
    /// The stable code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Unsupported(_) => ErrorCode::Unsupported,
            Self::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Self::Consent(_) => ErrorCode::Consent,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported(what) => write!(f, "not supported here: {what}"),
            Self::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Self::Consent(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::consent::LedgerError> for Error {
    fn from(e: crate::consent::LedgerError) -> Self {
        Self::Consent(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_the_code_javascript_branches_on() {
        assert_eq!(Error::Unsupported("x").code().as_str(), "Unsupported");
        assert_eq!(
            Error::InvalidArgument("x").code().as_str(),
            "InvalidArgument"
        );
    }

    #[test]
    fn display_names_the_problem_without_values() {
        let shown = Error::InvalidArgument("relay URL").to_string();
        assert_eq!(shown, "invalid argument: relay URL");
    }
}
