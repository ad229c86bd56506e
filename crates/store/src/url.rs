//! Database URLs as people see them: with the password taken out, and the SQLite file they name.
//!
//! The redaction works on the text, not on a parsed URL, because the URLs that most need it are
//! the malformed ones (a `postgress://user:pw@host` typo ends up in an error message).

use std::path::PathBuf;

/// What a password is replaced with.
const REDACTED: &str = "[redacted]";

/// `url` with any password taken out: the one in `user:password@`, and the value of every query
/// parameter whose name contains "password" (`?password=`, `sslpassword=`). Everything else is
/// kept, so the message still says which database was meant.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_query(url);
    };
    // A password may hold '/', '?', '#' or '@' itself, so the user info is everything before
    // the last '@'. When a query holds an '@' of its own, more than the password is hidden:
    // the safe side.
    let (userinfo, after) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let mut out = format!("{scheme}://");
    if let Some(info) = userinfo {
        match info.split_once(':') {
            Some((user, _password)) => {
                out.push_str(user);
                out.push(':');
                out.push_str(REDACTED);
            }
            None => out.push_str(info),
        }
        out.push('@');
    }
    out.push_str(&redact_query(after));
    out
}

/// `text` with the value of every query parameter whose name contains "password" hidden.
fn redact_query(text: &str) -> String {
    let Some((before, query)) = text.split_once('?') else {
        return text.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                format!("{key}={REDACTED}")
            }
            _ => pair.to_string(),
        })
        .collect();
    format!("{before}?{}", pairs.join("&"))
}

/// The file a SQLite URL names (`sqlite://PATH`, `sqlite:PATH`, or a plain path), without its
/// query; `None` for PostgreSQL and for in-memory databases, which have no file.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if crate::Backend::of_url(url).ok()? != crate::Backend::Sqlite {
        return None;
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_user_info_is_redacted() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db.example:5432/trestle"),
            "postgres://app:[redacted]@db.example:5432/trestle"
        );
    }

    #[test]
    fn a_password_in_the_query_is_redacted() {
        let shown = redact_url("postgres://db/trestle?user=app&password=hunter2&sslpassword=p2");
        assert!(
            !shown.contains("hunter2") && !shown.contains("p2"),
            "{shown}"
        );
        assert!(shown.contains("user=app"), "{shown}");
    }

    #[test]
    fn a_misspelt_scheme_still_hides_the_password() {
        let shown = redact_url("postgress://app:hunter2@db/trestle");
        assert_eq!(shown, "postgress://app:[redacted]@db/trestle");
    }

    #[test]
    fn a_password_with_an_at_sign_is_hidden_whole() {
        assert_eq!(
            redact_url("postgres://app:pa@ss@db/x"),
            "postgres://app:[redacted]@db/x"
        );
    }

    #[test]
    fn a_password_holding_url_delimiters_is_hidden_whole() {
        for (url, shown) in [
            (
                "postgres://app:pa/ss@db/x",
                "postgres://app:[redacted]@db/x",
            ),
            (
                "postgres://app:pa?ss@db/x",
                "postgres://app:[redacted]@db/x",
            ),
            (
                "postgres://app:pa#ss@db/x?sslmode=require",
                "postgres://app:[redacted]@db/x?sslmode=require",
            ),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn urls_without_secrets_are_unchanged() {
        for url in [
            "sqlite://.trestle/trestle.sqlite",
            "postgres://postgres@127.0.0.1:5432/test",
            "/var/lib/trestle.sqlite",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn the_sqlite_file_is_read_from_every_spelling() {
        assert_eq!(
            sqlite_file("sqlite://.trestle/t.sqlite?mode=rwc"),
            Some(PathBuf::from(".trestle/t.sqlite"))
        );
        assert_eq!(sqlite_file("sqlite:t.db"), Some(PathBuf::from("t.db")));
        assert_eq!(sqlite_file("/tmp/t.db"), Some(PathBuf::from("/tmp/t.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
