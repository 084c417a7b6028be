//! What the browser downloads, and how long it may keep it.
//!
//! - `/pkg/*` (the wasm, js and css that cargo-leptos builds) is served from
//!   the site root with the brotli or gzip copy that `--precompress` wrote
//!   next to each file, chosen by `Accept-Encoding`. Files whose names carry a
//!   content hash (`hash-files`) never change under that name, so browsers
//!   and CDNs keep them for a year without asking again; anything else is
//!   revalidated (`Last-Modified` → 304).
//! - Everything else (HTML, server-function answers) is compressed on the fly
//!   and marked `private, no-cache`: it depends on who is logged in, so no
//!   shared cache may keep it, and the browser must ask before reusing it.
//!   The live stream is left uncompressed (a compressor would hold events
//!   back until its buffer fills).

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use std::path::Path;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// A year: the longest lifetime caches honour.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Revalidate on every use (a 304 costs a round trip, not the body).
pub const REVALIDATE: &str = "no-cache";
/// Pages and data: the browser's own cache only, and always revalidated.
pub const PRIVATE: &str = "private, no-cache";

/// The `/pkg` service: precompressed files by content negotiation, with
/// cache headers by name.
pub fn pkg(site_root: &str) -> Router {
    let dir = ServeDir::new(Path::new(site_root).join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(dir)
        .layer(axum::middleware::from_fn(pkg_headers))
}

async fn pkg_headers(req: Request<Body>, next: Next) -> Response {
    let hashed = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    // A missing file may appear under that name later: never keep a 404.
    let found = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    let hashed = hashed && found;
    let headers = res.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if hashed { IMMUTABLE } else { REVALIDATE }),
    );
    // The same URL has a brotli, a gzip and a plain body.
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

/// Whether a file name carries cargo-leptos' content hash: `name.<hash>.ext`
/// where the hash is 22 base64url characters (an MD5). The split-wasm loader
/// (`__wasm_split.*.js`) is excluded: cargo-leptos 0.3.6 names it before
/// its content is final, so its name does not change with every build that
/// changes it.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    if name.starts_with("__wasm_split") {
        return false;
    }
    let mut parts = name.rsplit('.');
    let (Some(_ext), Some(hash), Some(_stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Responses that did not choose their own caching are private and
/// revalidated.
pub async fn default_cache_control(req: Request<Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(PRIVATE));
    res
}

/// On-the-fly brotli/gzip (the only encodings compiled in) for what is not
/// precompressed (HTML, server
/// functions). tower-http's default predicate already skips tiny bodies,
/// images and `text/event-stream`, and leaves responses that already have a
/// `Content-Encoding` (the precompressed files) alone.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new()
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("/pkg/slotwise.Ab3dEf6hIj9kLmNoPqR_tu.wasm"));
        assert!(is_hashed("/pkg/slotwise.Ab3dEf6hIj9kLmNoPqR-tu.js"));
        assert!(!is_hashed("/pkg/slotwise.wasm"));
        assert!(!is_hashed("/pkg/slotwise.css"));
        assert!(!is_hashed("/pkg/slotwise.short.js"));
        assert!(!is_hashed("/pkg/__wasm_split.Ab3dEf6hIj9kLmNoPqR_tu.js"));
        assert!(!is_hashed("/pkg/slotwise.Ab3dEf6hIj9kLmNoPqR*tu.js"));
    }
}
