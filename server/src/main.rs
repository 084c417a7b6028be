#![recursion_limit = "256"]
//! Starts Slotwise: configuration from the environment, database and
//! migrations, demo data when asked, then serve.

use app::server::clock::SystemClock;
use app::server::config::Config;
use app::server::state::AppState;
use std::net::SocketAddr;
use std::sync::Arc;

#[tokio::main]
async fn main() {
    server::telemetry::init();
    if let Err(e) = run().await {
        tracing::error!("{e}");
        eprintln!("slotwise: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    // A binary built by cargo-leptos knows its output name (baked in at
    // build time); otherwise read the settings from the workspace
    // Cargo.toml.
    let conf = match leptos::config::get_configuration(None) {
        Ok(c) if !c.leptos_options.output_name.is_empty() => c,
        _ => leptos::config::get_configuration(Some("Cargo.toml"))
            .map_err(|e| format!("cannot read the Leptos configuration: {e}"))?,
    };
    let mut options = conf.leptos_options;
    // cargo-leptos passes `LEPTOS_HASH_FILES` to the compiler but only to
    // the processes it starts itself: a binary run directly (the release
    // server, the end-to-end tests) would otherwise link the unhashed
    // names, which `hash-files` renamed away. The hash file it reads sits
    // next to the binary.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        options.hash_files = option_env!("LEPTOS_HASH_FILES") == Some("true");
    }
    let mut config = Config::from_env()?;
    let addr = config.addr.unwrap_or(options.site_addr);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    // Port 0 asks for any free port: the links name the one given.
    let bound = listener.local_addr().unwrap_or(addr);
    config.listen_url = Some(Config::url_of(bound));
    let demo = config.demo;
    let state = AppState::new(config, Arc::new(SystemClock), options).await?;
    if demo {
        app::server::demo::seed_if_empty(&state)
            .await
            .map_err(|e| format!("cannot load demo data: {}", e.message()))?;
    }
    // Delivers queued email and SMS (or keeps them in the dev mailbox).
    app::server::outbox::spawn(state.clone())?;
    // Reminders, waitlist offers and proposals that fall due.
    app::server::timers::spawn(state.clone());
    if let Some(metrics_addr) = state.config.metrics_addr {
        let listener = tokio::net::TcpListener::bind(metrics_addr)
            .await
            .map_err(|e| format!("cannot listen on {metrics_addr} (metrics): {e}"))?;
        let metrics = server::metrics::dedicated_router(state.clone());
        tracing::info!(%metrics_addr, "metrics are served on their own address");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics).await {
                tracing::error!(error = %e, "metrics server stopped");
            }
        });
    }
    let max_body = state.config.max_body_bytes;
    let router = server::router(state);
    let url = Config::url_of(bound);
    tracing::info!(%url, "Slotwise is running");
    println!("\n  Slotwise is running at {url}\n");
    if demo {
        println!(
            "  Demo logins (password: {}):",
            app::server::demo::DEMO_PASSWORD
        );
        for d in app::server::demo::demo_logins() {
            println!("    {:<28} {}", d.email, d.description);
        }
        println!();
    }
    // HTTP/1.1 connections are served without hyper's per-connection
    // buffers (server/src/http1.rs); what that does not serve goes to hyper.
    let listener = server::http1::listener(listener, router.clone(), max_body)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| format!("server error: {e}"))?;
    // axum waited for hyper's connections; these are the listener's own.
    server::http1::drain(std::time::Duration::from_secs(10)).await;
    Ok(())
}
