//! Procore text fields as trestle keeps them.

/// A field with its surrounding spaces trimmed, or `None` when that leaves nothing: Procore
/// sends absent values as missing, `null` or `""` alike, and the app treats them all as unset.
/// NUL characters are dropped, as [`kept`] does.
pub(crate) fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(kept).filter(|v| !v.is_empty())
}

/// Procore text as trestle stores it: trimmed, and without NUL characters. PostgreSQL cannot
/// store a NUL in text at all, so one NUL in one Procore name would fail every sync's apply;
/// a NUL carries nothing a person could see, so dropping it loses nothing.
pub(crate) fn kept(s: &str) -> String {
    let s = s.trim();
    if s.contains('\0') {
        s.replace('\0', "").trim().to_string()
    } else {
        s.to_string()
    }
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

    #[test]
    fn nul_characters_are_dropped_from_procore_text() {
        assert_eq!(
            non_empty(Some("Harbor\0 Tower")),
            Some("Harbor Tower".into())
        );
        assert_eq!(non_empty(Some("\0")), None);
        assert_eq!(super::kept(" \0Acme\0 "), "Acme");
    }
}
