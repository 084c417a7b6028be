//! Request middleware: who is calling (session, client address), the
//! cross-site request check, and FHIR's words for refusals under /fhir.

use app::server::auth::{resolve_session, token_from_cookie_header};
use app::server::ctx::ClientAddr;
use app::server::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Resolves the session cookie into a `Session` in the request extensions
/// (absent when there is none or it expired) and records the client address.
pub async fn session(
    State(state): State<AppState>,
    mut req: Request<Body>,
    next: Next,
) -> Response {
    let path = req.uri().path();
    // Static assets need no identity; spare them the lookup.
    if path.starts_with("/pkg/")
        || path == "/favicon.ico"
        || path == "/healthz"
        || path == "/metrics"
    {
        return next.run(req).await;
    }
    let addr = client_addr(&state, &req);
    req.extensions_mut().insert(ClientAddr(addr));
    let token = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_cookie_header)
        .map(str::to_string);
    if let Some(token) = token {
        match resolve_session(&state.db, &state.config.session, &token, state.now()).await {
            Ok(Some(s)) => {
                req.extensions_mut().insert(s);
            }
            Ok(None) => {}
            Err(_) => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service is temporarily unavailable.",
                )
                    .into_response()
            }
        }
    }
    next.run(req).await
}

fn client_addr(state: &AppState, req: &Request<Body>) -> String {
    if state.config.trust_proxy {
        // The last entry is the one our proxy added; earlier ones are
        // whatever the client sent, and would dodge the per-address limit.
        if let Some(nearest) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
        {
            return nearest.trim().to_string();
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into())
}

/// Refuses state-changing requests that a browser says come from another
/// site (`Sec-Fetch-Site: cross-site`) or whose `Origin` is not ours. This
/// backs up the SameSite cookie against cross-site request forgery.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    req: Request<Body>,
    next: Next,
) -> Response {
    if is_safe(req.method()) || api_client_call(&req) {
        return next.run(req).await;
    }
    if let Some(reason) = cross_site_reason(&state, &req) {
        tracing::warn!(reason, "cross-site request refused");
        return (
            StatusCode::FORBIDDEN,
            "Cross-site requests are not allowed. Reload the page and try again.",
        )
            .into_response();
    }
    next.run(req).await
}

/// A FHIR API call that carries a bearer token and no cookie: a browser
/// never adds an `Authorization` header by itself, so another site cannot
/// forge one; and API clients are not browsers (no Origin to match). A
/// request with a cookie is checked like any other.
fn api_client_call(req: &Request<Body>) -> bool {
    let h = req.headers();
    req.uri().path().starts_with("/fhir/")
        && h.contains_key(header::AUTHORIZATION)
        && !h.contains_key(header::COOKIE)
}

fn cross_site_reason(state: &AppState, req: &Request<Body>) -> Option<&'static str> {
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site == "cross-site" || site == "same-site" {
            return Some("sec-fetch-site");
        }
    }
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok())?;
    if origin == "null" {
        return Some("null origin");
    }
    let ok = match state.config.public_url.as_deref() {
        Some(public) => origin.eq_ignore_ascii_case(public),
        None => {
            // Without a configured public URL, the origin must be the scheme
            // and Host the request came in with: plain http (the server does
            // not speak TLS itself) unless a trusted proxy says otherwise.
            let host = h
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let scheme = state
                .config
                .trust_proxy
                .then(|| h.get("x-forwarded-proto").and_then(|v| v.to_str().ok()))
                .flatten()
                .map(|p| p.rsplit(',').next().unwrap_or(p).trim())
                .unwrap_or("http");
            origin.split_once("://").is_some_and(|(s, rest)| {
                s.eq_ignore_ascii_case(scheme) && rest.eq_ignore_ascii_case(host)
            })
        }
    };
    (!ok).then_some("origin mismatch")
}

/// Reads a state-changing request's body up front, within the size limit,
/// so an oversized body is answered 413 whether or not it declared its
/// length (a chunked one would otherwise fail inside the server function's
/// decoding and look like a server fault).
pub async fn read_body_within_limit(
    State(state): State<AppState>,
    req: Request<Body>,
    next: Next,
) -> Response {
    if is_safe(req.method()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(bytes) if has_nul(&bytes) => (
            StatusCode::BAD_REQUEST,
            axum::Json(app::error::AppError::validation(
                "Text cannot contain NUL characters.",
            )),
        )
            .into_response(),
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.").into_response(),
    }
}

/// Whether a body carries a NUL character, raw, form-encoded (`%00`) or as
/// a JSON escape: no form needs one, and PostgreSQL cannot store it in text
/// (the insert failed with a 500 there while SQLite kept it).
fn has_nul(body: &[u8]) -> bool {
    body.contains(&0)
        || body.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00"))
        || body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

/// Methods that change nothing (and carry no body worth reading).
fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A form the browser posted by itself (before the app's code loaded, or
/// without it) that a server function refused: server_fn sends the browser
/// back to the page with the error in the URL (`Location`, `?__err=`), but
/// keeps the error's own status (401, 409, …), and browsers follow a
/// `Location` only on a redirect status — the person would see raw JSON.
/// Such answers become `303 See Other`, so the page shows the message.
pub async fn redirect_refused_form_posts(req: Request<Body>, next: Next) -> Response {
    let plain_form = req.method() == Method::POST
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    let mut res = next.run(req).await;
    if plain_form
        && (res.status().is_client_error() || res.status().is_server_error())
        && res.headers().contains_key(header::LOCATION)
        && res.headers().contains_key("serverfnerror")
    {
        *res.status_mut() = StatusCode::SEE_OTHER;
    }
    res
}

/// Headers every response carries: no MIME sniffing, no referrer beyond our
/// origin, never framed (`X-Frame-Options` for browsers that predate CSP's
/// `frame-ancestors`). A page sets its own Content-Security-Policy (with
/// its nonce, `app::shell`); any other HTML gets one that runs no script.
pub async fn security_headers(req: Request<Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    if html {
        h.entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(header::HeaderValue::from_static(
                "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            ));
    }
    res
}

/// Every answer under `/fhir` with an error status is an `OperationOutcome`
/// (`application/fhir+json`), whoever refused: the FHIR handlers answer
/// so themselves, but the layers around them (body size, cross-site check,
/// session store) and the router's own 404/405 speak plain text or HTML.
/// Outside those layers, so it sees their refusals.
pub async fn fhir_errors(req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path();
    let fhir = path == "/fhir" || path.starts_with("/fhir/");
    let res = next.run(req).await;
    let status = res.status();
    let is_fhir_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(app::domain::fhir::CONTENT_TYPE));
    if !fhir || status.as_u16() < 400 || is_fhir_json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // A compressed body (were compression inside this layer) is not read.
    let plain = !parts.headers.contains_key(header::CONTENT_ENCODING)
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"));
    // A short plain-text reason is kept; anything else (HTML, the app's
    // JSON) is replaced by the status's own words.
    let said = match axum::body::to_bytes(body, 4096).await {
        Ok(b) if plain && !b.is_empty() => String::from_utf8_lossy(&b).trim().to_string(),
        _ => String::new(),
    };
    let diagnostics = if said.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_string()
    } else {
        said
    };
    let code = app::domain::fhir::Refusal::code_for(status.as_u16());
    let outcome = app::domain::fhir::operation_outcome("error", code, &diagnostics);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(app::domain::fhir::CONTENT_TYPE),
    );
    Response::from_parts(parts, Body::from(outcome.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn nul_is_found_raw_form_encoded_and_json_escaped() {
        assert!(super::has_nul(b"name=a\0b"));
        assert!(super::has_nul(b"name=a%00b"));
        assert!(super::has_nul(b"{\"name\":\"a\\u0000b\"}"));
        assert!(!super::has_nul(b"name=a%2500b&n=100"));
        assert!(!super::has_nul(b"{\"name\":\"a\\u00e9\"}"));
    }
}
