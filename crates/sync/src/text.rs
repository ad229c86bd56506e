//! Procore text fields as trestle keeps them.

/// A field with its surrounding spaces trimmed, or `None` when that leaves nothing: Procore
/// sends absent values as missing, `null` or `""` alike, and the app treats them all as unset.
pub(crate) fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|v| !v.is_empty()).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::non_empty;

    #[test]
    fn blank_and_missing_text_are_both_unset() {
        assert_eq!(non_empty(None), None);
        assert_eq!(non_empty(Some("  ")), None);
        assert_eq!(non_empty(Some(" P-1 ")), Some("P-1".into()));
    }
}
