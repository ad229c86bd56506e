//! The UI's static files, compiled into the binary so a deployment needs nothing else and
//! the browser fetches nothing from the internet. htmx and signature_pad come from the npm
//! registry (packages `htmx.org` and `signature_pad`, versions and checksums in
//! docs/dependencies.md); `signpad.js` is trestle's own glue between the pad and the form, and
//! `trestle.js` what every page does beyond htmx (live regions rest in hidden tabs).

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

const HTMX: &str = include_str!("../assets/htmx.min.js");
const SIGNATURE_PAD: &str = include_str!("../assets/signature_pad.umd.min.js");
const SIGNPAD: &str = include_str!("../assets/signpad.js");
const TRESTLE: &str = include_str!("../assets/trestle.js");
const CSS: &str = include_str!("../assets/trestle.css");

pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "signature_pad.umd.min.js" => (SIGNATURE_PAD, "text/javascript; charset=utf-8"),
        "signpad.js" => (SIGNPAD, "text/javascript; charset=utf-8"),
        "trestle.js" => (TRESTLE, "text/javascript; charset=utf-8"),
        "trestle.css" => (CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (CONTENT_TYPE, kind),
            // Assets change only with the binary; an hour spares a phone on a site the
            // round trips without keeping an old UI for long after an upgrade.
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
