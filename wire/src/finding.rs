//! Findings: what the lenient decoder says about a frame that breaks a rule.
//!
//! A tester must describe broken packets, not refuse them, so no parser in
//! this crate returns an error for a malformed field. It reports a
//! [`Finding`] through a [`Diag`] and goes on decoding where it can.

use core::fmt;

/// One violation of a format rule, located in the frame.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Stable rule identifier, e.g. `RFC4140-5-length` (see [`crate::rules`]).
    pub rule: &'static str,
    /// What was found, against what was expected.
    pub message: String,
    /// Byte offset of the offending field from the start of the frame.
    pub offset: usize,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] at byte {}: {}",
            self.rule, self.offset, self.message
        )
    }
}

/// A findings sink positioned at some byte offset of the frame.
///
/// Parsers receive a `Diag` whose base is the absolute offset of the first
/// byte they were handed, report with offsets relative to their own input,
/// and hand nested parsers a child made with [`Diag::at`].
#[derive(Debug)]
pub struct Diag<'a> {
    base: usize,
    out: &'a mut Vec<Finding>,
}

impl<'a> Diag<'a> {
    /// A sink at offset 0 of a frame.
    pub fn new(out: &'a mut Vec<Finding>) -> Self {
        Diag { base: 0, out }
    }

    /// Report a finding `offset` bytes into this parser's input.
    pub fn report(&mut self, offset: usize, rule: &'static str, message: impl Into<String>) {
        self.out.push(Finding {
            rule,
            message: message.into(),
            offset: self.base + offset,
        });
    }

    /// Report that a header needed `needed` octets and only `available` were there.
    pub fn truncated(&mut self, offset: usize, what: &str, needed: usize, available: usize) {
        self.report(
            offset,
            crate::rules::TRUNCATED,
            format!("{what} truncated: needs {needed} octets, {available} present"),
        );
    }

    /// A child sink for a nested parser whose input starts `offset` bytes into ours.
    pub fn at(&mut self, offset: usize) -> Diag<'_> {
        Diag {
            base: self.base + offset,
            out: self.out,
        }
    }

    /// Absolute offset of this sink's first byte in the frame.
    pub fn base(&self) -> usize {
        self.base
    }

    /// Findings reported so far (through this sink and any other on the same list).
    pub fn findings(&self) -> &[Finding] {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_offsets_are_absolute() {
        let mut out = Vec::new();
        let mut d = Diag::new(&mut out);
        let mut c = d.at(14);
        let mut g = c.at(40);
        g.report(3, crate::rules::TRUNCATED, "x");
        assert_eq!(out[0].offset, 57);
    }
}
