#![recursion_limit = "256"]
//! The Slotwise HTTP server: router, middleware, live stream, health check.
//!
//! `router(state)` builds the whole app so tests can drive it with
//! `tower::ServiceExt::oneshot`, without a socket; `main.rs` only reads the
//! configuration, prepares the state and serves.

pub mod assets;
pub mod http1;
pub mod metrics;
pub mod middleware;
pub mod sse;
pub mod telemetry;

use app::server::state::AppState;
use app::{shell, App};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

/// The app's routes, worked out once per process. Route generation runs
/// the app with resource loading suppressed by a process-wide flag, and a
/// resource first polled anywhere while that flag is up never loads, so
/// its page never finishes (leptos-rs/leptos#4773). A server builds one
/// router before serving, but the tests build many while others render:
/// generating once, before any router exists, keeps every render clear of it.
fn routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = routes();
    let ctx = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let page_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    let mut router = Router::new()
        .nest_service("/pkg", assets::pkg(&state.leptos_options.site_root))
        .route("/healthz", get(healthz));
    // With an address of its own, the metrics are served there only (main.rs).
    if state.config.metrics_addr.is_none() {
        router = router.route("/metrics", get(metrics::scrape));
    }
    let router = router
        .route("/calendar/{file}", get(calendar_feed))
        .route(
            app::api::audit::AUDIT_CSV_PATH,
            get(app::api::audit::audit_csv),
        )
        .route(
            app::api::audit::MY_RECORD_PATH,
            get(app::api::audit::my_record_csv),
        )
        .route(
            app::model::BOOKINGS_CSV_PATH,
            get(app::api::exports::bookings_csv),
        )
        .nest("/fhir", app::api::fhir::router())
        .route(
            "/r/{token}",
            get(app::api::reminders::link::show).post(app::api::reminders::link::act),
        )
        .leptos_routes_with_context(&state, routes, ctx.clone(), page_shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(ctx, shell))
        // Innermost, so that it can leave out the live stream, added below
        // it: its response body is sized for the largest encoder (about
        // 5.8 KB, brotli's state) even when it compresses nothing, and a
        // live stream holds its body for hours (heaptrack, issue 16).
        .layer(assets::compression())
        .route("/api/live", get(sse::live))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::session,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::read_body_within_limit,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            state.config.max_body_bytes,
        ))
        // Around every layer that may refuse a /fhir request, so their
        // refusals reach a FHIR client as OperationOutcomes too.
        .layer(axum::middleware::from_fn(middleware::fhir_errors))
        .layer(axum::middleware::from_fn(
            middleware::redirect_refused_form_posts,
        ))
        .layer(axum::middleware::from_fn(assets::default_cache_control))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(state);
    telemetry::add_layers(router)
}

/// A provider's calendar feed: `/calendar/<token>.ics`. An unknown or
/// revoked token is a plain 404 (nothing tells it apart from a typo).
async fn calendar_feed(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let token = file.strip_suffix(".ics").unwrap_or("");
    match app::server::service::calendar_feed::feed(&state, token).await {
        Ok(Some(ics)) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/calendar; charset=utf-8",
                ),
                (axum::http::header::CACHE_CONTROL, "private, max-age=300"),
            ],
            ics,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "No such calendar feed.").into_response(),
        Err(e) => {
            tracing::error!(error = %e.message(), "calendar feed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The calendar feed is unavailable.",
            )
                .into_response()
        }
    }
}

/// Liveness and readiness: answers 200 only when the database answers.
async fn healthz(State(state): State<AppState>) -> Response {
    let db = match state.db.kind {
        app::server::db::DbKind::Sqlite => "sqlite",
        app::server::db::DbKind::Postgres => "postgres",
    };
    match state.db.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok", "database": db })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "database": db })),
            )
                .into_response()
        }
    }
}
