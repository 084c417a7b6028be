//! API clients (issue 16, part 1) on both databases: an admin makes one and
//! sees its token once, only the token's SHA-256 is stored, the token
//! authenticates (scope, clinic, last use) until it is revoked; nobody but
//! the clinic's own admins lists, makes or revokes one, and a refusal
//! changes nothing; bad names and scopes are refused with their reason;
//! every change is in the audit trail.

mod common;

use app::domain::api_client::ApiScope;
use app::error::AppError;
use app::model::Me;
use app::server::auth::token_hash;
use app::server::service::api_clients::{self, ApiCaller};
use axum::http::StatusCode;
use chrono::Duration;
use common::web::{form, json, post, send};
use common::{demo_app, Backend, TestApp};

struct Ctx {
    t: TestApp,
    north: i64,
    harbour: i64,
    admin: Me,
}

async fn ctx(b: Backend) -> Ctx {
    let t = demo_app(b).await;
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let harbour = t.id("SELECT id FROM clinic WHERE slug = 'harbour'").await;
    let admin = t.me("admin@northside.test").await;
    Ctx {
        t,
        north,
        harbour,
        admin,
    }
}

/// An `api_client` row, every column.
type StoredRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// Every stored column of every client, as text: what a copy of the
/// database would reveal.
async fn stored(t: &TestApp) -> String {
    let rows: Vec<StoredRow> = sqlx::query_as(
        "SELECT id, clinic_id, name, scope, token_hash, created_at, last_used_at, revoked_at \
             FROM api_client ORDER BY id",
    )
    .fetch_all(&t.state.db.pool)
    .await
    .unwrap();
    format!("{rows:?}")
}

async fn audits(t: &TestApp, action: &str) -> Vec<(Option<i64>, Option<i64>, String)> {
    sqlx::query_as(
        "SELECT clinic_id, actor_id, after_json FROM audit WHERE action = $1 ORDER BY id",
    )
    .bind(action)
    .fetch_all(&t.state.db.pool)
    .await
    .unwrap()
}

async fn the_token_is_shown_once_and_only_its_hash_is_stored(b: Backend) {
    let c = ctx(b).await;
    let router = server::router(c.t.state.clone());
    let (cookie, _) = c.t.session("admin@northside.test").await;
    let body = form(&[
        ("clinic_id", &c.north.to_string()),
        ("name", "  Front desk PMS "),
        ("scope", "read_write"),
    ]);
    let resp = send(
        &router,
        post("/api/create_api_client", &body, Some(&cookie)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let made = json(resp).await;
    let token = made["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("swk_") && token.len() == 47, "{token}");
    assert_eq!(made["name"], "Front desk PMS");
    assert_eq!(made["scope"], "read_write");
    let id = made["id"].as_i64().unwrap();

    // The row holds the hash, never the token.
    let hash: String = sqlx::query_scalar("SELECT token_hash FROM api_client WHERE id = $1")
        .bind(id)
        .fetch_one(&c.t.state.db.pool)
        .await
        .unwrap();
    assert_eq!(hash, token_hash(&token));
    let all = stored(&c.t).await;
    assert!(!all.contains(&token) && !all.contains(&token[4..]), "{all}");
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM api_client WHERE clinic_id = (SELECT id FROM clinic WHERE slug = 'northside') AND scope = 'read_write' AND revoked_at IS NULL AND last_used_at IS NULL").await,
        1
    );

    // The list never carries the token or its hash.
    let body = form(&[("clinic_id", &c.north.to_string())]);
    let resp = send(&router, post("/api/api_clients", &body, Some(&cookie))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = json(resp).await;
    let listed = page.to_string();
    assert!(
        !listed.contains(&token[4..]) && !listed.contains(&hash),
        "{listed}"
    );
    assert_eq!(page["clients"][0]["name"], "Front desk PMS");
    assert_eq!(page["clients"][0]["created_by"], "Alex Morgan");
    assert_eq!(page["clients"][0]["last_used"], "Never");

    // Audited on the clinic, by the admin, without the token.
    let entries = audits(&c.t, "api_client.create").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, Some(c.north));
    assert_eq!(entries[0].1, Some(c.admin.user_id));
    assert!(entries[0].2.contains("Front desk PMS") && entries[0].2.contains("read_write"));
    assert!(!entries[0].2.contains(&token[4..]) && !entries[0].2.contains(&hash));
}
both_dbs!(
    token_once,
    the_token_is_shown_once_and_only_its_hash_is_stored
);

async fn a_token_works_until_it_is_revoked(b: Backend) {
    let c = ctx(b).await;
    let s = &c.t.state;
    let (id, token) = api_clients::create(s, &c.admin, c.north, "Booker", ApiScope::ReadWrite)
        .await
        .unwrap();
    let (read_id, read_token) = api_clients::create(s, &c.admin, c.north, "Reader", ApiScope::Read)
        .await
        .unwrap();
    let harbour_admin = c.t.me("admin@harbour.test").await;
    let (_, harbour_token) =
        api_clients::create(s, &harbour_admin, c.harbour, "Harbour PMS", ApiScope::Read)
            .await
            .unwrap();

    let caller = api_clients::authenticate(s, &format!("Bearer {token}"))
        .await
        .unwrap();
    assert_eq!(
        caller,
        ApiCaller {
            client_id: id,
            clinic_id: c.north,
            scope: ApiScope::ReadWrite
        }
    );
    assert!(caller.scope.allows_write());
    let reader = api_clients::authenticate(s, &read_token).await.unwrap();
    assert_eq!((reader.client_id, reader.scope), (read_id, ApiScope::Read));
    assert!(!reader.scope.allows_write());
    let harbour = api_clients::authenticate(s, &harbour_token).await.unwrap();
    assert_eq!(harbour.clinic_id, c.harbour);

    // The last use is written down, at most once a minute.
    let last_used = |id: i64| {
        let pool = s.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT last_used_at FROM api_client WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let first = s.now();
    assert_eq!(last_used(id).await, Some(first));
    c.t.clock.advance(Duration::seconds(30));
    api_clients::authenticate(s, &token).await.unwrap();
    assert_eq!(last_used(id).await, Some(first));
    c.t.clock.advance(Duration::seconds(40));
    api_clients::authenticate(s, &token).await.unwrap();
    assert_eq!(last_used(id).await, Some(s.now()));
    let listed = api_clients::list(s, &c.admin, c.north).await.unwrap();
    let row = listed.iter().find(|r| r.id == id).unwrap();
    assert_eq!(row.last_used_at, Some(s.now()));
    assert_ne!(row.last_used, "Never");

    // Unknown and malformed tokens are 401s that say which.
    let unknown = format!("swk_{}", "A".repeat(43));
    match api_clients::authenticate(s, &unknown).await {
        Err(AppError::Unauthorized(m)) => assert!(m.contains("not known"), "{m}"),
        other => panic!("{other:?}"),
    }
    for bad in [
        "",
        "Bearer",
        "Bearer abc",
        &token[4..],
        &format!("{token}x"),
    ] {
        match api_clients::authenticate(s, bad).await {
            Err(AppError::Unauthorized(m)) => assert!(m.contains("Bearer swk_"), "{m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }

    // Revoked: refused at once, listed as revoked, audited; the others work.
    api_clients::revoke(s, &c.admin, id).await.unwrap();
    match api_clients::authenticate(s, &format!("Bearer {token}")).await {
        Err(e @ AppError::Unauthorized(_)) => {
            assert!(e.message().contains("revoked"), "{e:?}");
            assert_eq!(e.status(), 401);
        }
        other => panic!("{other:?}"),
    }
    api_clients::authenticate(s, &read_token).await.unwrap();
    api_clients::authenticate(s, &harbour_token).await.unwrap();
    let listed = api_clients::list(s, &c.admin, c.north).await.unwrap();
    let row = listed.iter().find(|r| r.id == id).unwrap();
    assert_eq!(row.revoked_at, Some(s.now()));
    assert!(!row.is_active() && !row.revoked.is_empty());
    assert_eq!(listed[0].id, read_id, "active clients first");
    let revokes = audits(&c.t, "api_client.revoke").await;
    assert_eq!(revokes.len(), 1);
    assert_eq!(
        (revokes[0].0, revokes[0].1),
        (Some(c.north), Some(c.admin.user_id))
    );
    assert!(revokes[0].2.contains("Booker"));

    // Revoking twice is refused and changes nothing.
    let before = stored(&c.t).await;
    c.t.clock.advance(Duration::seconds(5));
    match api_clients::revoke(s, &c.admin, id).await {
        Err(AppError::Conflict(m)) => assert!(m.contains("already revoked"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(stored(&c.t).await, before);
    assert_eq!(audits(&c.t, "api_client.revoke").await.len(), 1);
    match api_clients::revoke(s, &c.admin, 999_999).await {
        Err(AppError::NotFound(_)) => {}
        other => panic!("{other:?}"),
    }
}
both_dbs!(revocation, a_token_works_until_it_is_revoked);

async fn only_the_clinics_admins_manage_its_clients(b: Backend) {
    let c = ctx(b).await;
    let s = &c.t.state;
    let (id, token) = api_clients::create(s, &c.admin, c.north, "Booker", ApiScope::ReadWrite)
        .await
        .unwrap();
    let router = server::router(s.clone());
    let before = stored(&c.t).await;
    let audit_rows =
        c.t.count("SELECT COUNT(*) FROM audit WHERE action LIKE 'api_client.%'")
            .await;
    for email in [
        "scheduler@northside.test",
        "dr.lee@northside.test",
        "ann@patients.test",
        "admin@harbour.test",
    ] {
        let (cookie, session) = c.t.session(email).await;
        let me = &session.me;
        let forbidden = |r: Result<_, AppError>, what: &str| match r {
            Err(e @ AppError::Forbidden(_)) => {
                assert!(e.message().contains("admins"), "{email} {what}: {e:?}")
            }
            other => panic!("{email} {what}: {other:?}"),
        };
        forbidden(
            api_clients::create(s, me, c.north, "Mine", ApiScope::ReadWrite)
                .await
                .map(|_| ()),
            "create",
        );
        forbidden(api_clients::list(s, me, c.north).await.map(|_| ()), "list");
        forbidden(api_clients::revoke(s, me, id).await, "revoke");
        // Through the server functions: 403, no data.
        let create = form(&[
            ("clinic_id", &c.north.to_string()),
            ("name", "Mine"),
            ("scope", "read"),
        ]);
        for (path, body) in [
            ("/api/create_api_client", create),
            (
                "/api/api_clients",
                form(&[("clinic_id", &c.north.to_string())]),
            ),
            ("/api/revoke_api_client", form(&[("id", &id.to_string())])),
        ] {
            let resp = send(&router, post(path, &body, Some(&cookie))).await;
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{email} {path}");
            assert!(
                !json(resp).await.to_string().contains("Booker"),
                "{email} {path}"
            );
        }
    }
    let resp = send(&router, post("/api/api_clients", "", None)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(stored(&c.t).await, before, "nothing changed");
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM audit WHERE action LIKE 'api_client.%'")
            .await,
        audit_rows
    );
    api_clients::authenticate(s, &token).await.unwrap();

    // Harbour's admin sees Harbour's clients only, by default and when asked.
    let harbour_admin = c.t.me("admin@harbour.test").await;
    let page = api_clients::page(s, &harbour_admin, None).await.unwrap();
    assert_eq!(page.clinic_id, c.harbour);
    assert!(page.clients.is_empty());
    assert!(matches!(
        api_clients::page(s, &harbour_admin, Some(c.north)).await,
        Err(AppError::Forbidden(_))
    ));
    let page = api_clients::page(s, &c.admin, None).await.unwrap();
    assert_eq!(page.clinic_id, c.north);
    assert_eq!(page.clients.len(), 1);
}
both_dbs!(admins_only, only_the_clinics_admins_manage_its_clients);

async fn bad_names_and_scopes_are_refused(b: Backend) {
    let c = ctx(b).await;
    let s = &c.t.state;
    let router = server::router(s.clone());
    let (cookie, _) = c.t.session("admin@northside.test").await;
    let cases = [
        ("   ", "read", "Name the API client"),
        (&"x".repeat(81), "read", "80 characters"),
        ("Two\nlines", "read", "line breaks"),
        ("Fine name", "write", "read only, or read and write"),
        ("Fine name", "", "read only, or read and write"),
    ];
    for (name, scope, says) in cases {
        let body = form(&[
            ("clinic_id", &c.north.to_string()),
            ("name", name),
            ("scope", scope),
        ]);
        let resp = send(
            &router,
            post("/api/create_api_client", &body, Some(&cookie)),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{name:?} {scope}");
        let v = json(resp).await;
        assert_eq!(v["kind"], "validation");
        assert!(v["message"].as_str().unwrap().contains(says), "{v}");
    }
    assert_eq!(c.t.count("SELECT COUNT(*) FROM api_client").await, 0);

    // One active client per name in a clinic; a revoked one frees its name.
    let (id, _) = api_clients::create(s, &c.admin, c.north, "Booker", ApiScope::Read)
        .await
        .unwrap();
    match api_clients::create(s, &c.admin, c.north, " Booker ", ApiScope::ReadWrite).await {
        Err(AppError::Validation(m)) => {
            assert!(m.contains("already has an API client named"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.t.count("SELECT COUNT(*) FROM api_client").await, 1);
    let harbour_admin = c.t.me("admin@harbour.test").await;
    api_clients::create(s, &harbour_admin, c.harbour, "Booker", ApiScope::Read)
        .await
        .expect("another clinic may use the name");
    api_clients::revoke(s, &c.admin, id).await.unwrap();
    api_clients::create(s, &c.admin, c.north, "Booker", ApiScope::ReadWrite)
        .await
        .expect("a revoked client's name is free again");
    assert_eq!(audits(&c.t, "api_client.create").await.len(), 3);
}
both_dbs!(bad_input, bad_names_and_scopes_are_refused);

/// Ten creates of one name at the same instant: the check before the insert
/// is not enough on PostgreSQL (each transaction sees no such client yet),
/// so the unique index of migration 0022 decides; the losers get the same
/// message as the check gives, and exactly one client and one audit entry
/// exist.
async fn concurrent_creates_of_one_name_make_one_client(b: Backend) {
    let c = ctx(b).await;
    let mut tasks = Vec::new();
    for n in 0..10 {
        let (state, admin, north) = (c.t.state.clone(), c.admin.clone(), c.north);
        tasks.push(tokio::spawn(async move {
            let scope = if n % 2 == 0 {
                ApiScope::Read
            } else {
                ApiScope::ReadWrite
            };
            api_clients::create(&state, &admin, north, "Front desk PMS", scope).await
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok((id, token)) => won.push((id, token)),
            Err(AppError::Validation(m)) => assert_eq!(
                m,
                "This clinic already has an API client named “Front desk PMS”. \
                 Choose another name, or revoke that one first."
            ),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one create wins");
    assert_eq!(
        c.t.count("SELECT COUNT(*) FROM api_client WHERE name = 'Front desk PMS'")
            .await,
        1
    );
    assert_eq!(audits(&c.t, "api_client.create").await.len(), 1);
    let caller = api_clients::authenticate(&c.t.state, &won[0].1)
        .await
        .unwrap();
    assert_eq!(caller.client_id, won[0].0);
}
both_dbs!(
    concurrent_creates,
    concurrent_creates_of_one_name_make_one_client
);
