//! Issue 16, part 1: the FHIR R4 scheduling API under /fhir, through the
//! router on both databases. What it serves is checked by the independent
//! validator (server/scripts/fhir_validate.py, `fhir.resources` 6.4.0);
//! unknown parameters are refused as the CapabilityStatement declares;
//! $find → $hold → $book books through the guarded path (a hold blocks
//! every other path until it lapses; 20 concurrent $books, one winner);
//! tokens are scoped to a clinic and read or read-write, and revocable;
//! a patient's session sees only their own records.

mod common;

use app::domain::api_client::ApiScope;
use app::server::service::api_clients;
use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use common::web::{self, send};
use common::{demo_app, Backend, TestApp};
use serde_json::{json, Value};

const FHIR_JSON: &str = "application/fhir+json";

struct Api {
    t: TestApp,
    router: Router,
}

impl Api {
    async fn new(backend: Backend) -> Api {
        let t = demo_app(backend).await;
        let router = server::router(t.state.clone());
        Api { t, router }
    }

    async fn token(&self, admin: &str, clinic: &str, name: &str, scope: ApiScope) -> (i64, String) {
        let me = self.t.me(admin).await;
        let clinic = self.clinic(clinic).await;
        api_clients::create(&self.t.state, &me, clinic, name, scope)
            .await
            .expect("create API client")
    }

    async fn clinic(&self, slug: &str) -> i64 {
        self.t
            .id(&format!("SELECT id FROM clinic WHERE slug = '{slug}'"))
            .await
    }

    async fn user(&self, email: &str) -> i64 {
        self.t
            .id(&format!("SELECT id FROM app_user WHERE email = '{email}'"))
            .await
    }

    async fn service(&self, name: &str) -> i64 {
        self.t
            .id(&format!("SELECT id FROM service WHERE name = '{name}'"))
            .await
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = send(&self.router, req).await;
        let status = resp.status();
        check_content_type(&resp);
        (status, web::json(resp).await)
    }

    async fn get(&self, path: &str, bearer: &str) -> (StatusCode, Value) {
        self.call(
            Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post(&self, path: &str, bearer: &str, body: &Value) -> (StatusCode, Value) {
        self.call(
            Request::post(path)
                .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
                .header(header::CONTENT_TYPE, FHIR_JSON)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn appointments(&self) -> i64 {
        self.t.count("SELECT COUNT(*) FROM appointment").await
    }
}

fn check_content_type(resp: &Response<Body>) {
    assert_eq!(
        web::header_str(resp, "content-type"),
        Some(FHIR_JSON),
        "every FHIR answer is application/fhir+json"
    );
}

/// The response is an OperationOutcome with this status and issue code.
fn outcome(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["resourceType"], "OperationOutcome", "{}", got.1);
    assert_eq!(got.1["issue"][0]["code"], code, "{}", got.1);
}

fn valid(resources: &[Value]) {
    let (code, text) = common::fhir::validate(resources);
    assert_eq!(code, 0, "the validator refused:\n{text}");
    assert_eq!(text.matches("ok").count(), resources.len(), "{text}");
}

fn entries(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["search"]["mode"] == "match")
        .map(|e| e["resource"].clone())
        .collect()
}

/// Parameters with one Appointment.
fn params(name: &str, appointment: &Value) -> Value {
    json!({ "resourceType": "Parameters", "parameter": [{ "name": name, "resource": appointment }] })
}

/// An Appointment as $find proposes, for the patient.
fn with_patient(proposed: &Value, patient: i64) -> Value {
    let mut a = proposed.clone();
    let ps = a["participant"].as_array_mut().unwrap();
    ps.retain(|p| {
        !p["actor"]["reference"]
            .as_str()
            .unwrap_or("")
            .starts_with("Patient/")
    });
    ps.push(
        json!({ "actor": { "reference": format!("Patient/{patient}") }, "status": "needs-action" }),
    );
    a
}

/// The first free time $find proposes for the service (and provider).
async fn first_proposed(api: &Api, token: &str, service: i64, provider: Option<i64>) -> Value {
    let mut path = format!("/fhir/Appointment/$find?service-type={service}");
    if let Some(p) = provider {
        path.push_str(&format!("&practitioner=Practitioner/{p}"));
    }
    let (status, bundle) = api.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    entries(&bundle)
        .into_iter()
        .next()
        .expect("a free time in the demo's horizon")
}

async fn reads_and_searches_are_valid_fhir(backend: Backend) {
    let api = Api::new(backend).await;
    let (_, token) = api
        .token("admin@northside.test", "northside", "EHR", ApiScope::Read)
        .await;
    // The CapabilityStatement needs no credentials.
    let (status, cap) = api
        .call(Request::get("/fhir/metadata").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cap["fhirVersion"], "4.0.1");
    let mut all = vec![cap];
    let video = api.service("Video consultation").await;
    let lee = api.user("dr.lee@northside.test").await;
    let north = api.clinic("northside").await;
    for path in [
        "/fhir/Appointment?status=booked".to_string(),
        format!("/fhir/Appointment?practitioner=Practitioner/{lee}&date=ge2026-01-01&date=lt2027-01-01"),
        format!("/fhir/Slot?service-type=urn:slotwise:service|{video}&schedule=Schedule/{north}-{lee}&start=ge2026-03-05&start=lt2026-03-07"),
        "/fhir/Schedule".into(),
        "/fhir/Practitioner".into(),
        format!("/fhir/PractitionerRole?practitioner=Practitioner/{lee}"),
        "/fhir/Patient".into(),
        "/fhir/HealthcareService".into(),
        "/fhir/Location".into(),
    ] {
        let (status, bundle) = api.get(&path, &token).await;
        assert_eq!(status, StatusCode::OK, "{path}: {bundle}");
        assert_eq!(bundle["type"], "searchset");
        let found = entries(&bundle);
        assert!(!found.is_empty(), "{path} found nothing");
        assert_eq!(bundle["total"], found.len(), "{path}");
        for e in bundle["entry"].as_array().unwrap() {
            let r = &e["resource"];
            let url = e["fullUrl"].as_str().unwrap_or_default();
            assert!(
                url.ends_with(&format!("/fhir/{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap())),
                "{url}"
            );
        }
        // Reads answer the same resources (Slots are searched only).
        for r in found.iter().take(3) {
            let kind = r["resourceType"].as_str().unwrap();
            if kind != "Slot" {
                let (status, read) = api
                    .get(&format!("/fhir/{kind}/{}", r["id"].as_str().unwrap()), &token)
                    .await;
                assert_eq!(status, StatusCode::OK, "{read}");
                assert_eq!(&read, r);
            }
        }
        all.push(bundle);
    }
    // Slots are the booking page's free times, within the date range.
    let (_, slots) = api
        .get(
            &format!(
                "/fhir/Slot?service-type={video}&schedule=Schedule/{north}-{lee}&start=2026-03-05"
            ),
            &token,
        )
        .await;
    for s in entries(&slots) {
        assert!(
            s["start"].as_str().unwrap().starts_with("2026-03-05"),
            "{s}"
        );
        assert_eq!(s["status"], "free");
    }
    // The Appointment search narrows by patient and status.
    let ann = api.user("ann@patients.test").await;
    let (_, mine) = api
        .get(
            &format!("/fhir/Appointment?patient=Patient/{ann}&status=cancelled"),
            &token,
        )
        .await;
    for a in entries(&mine) {
        assert_eq!(a["status"], "cancelled");
        assert!(a["participant"]
            .to_string()
            .contains(&format!("Patient/{ann}")));
    }
    valid(&all);
}
both_dbs!(reads_and_searches, reads_and_searches_are_valid_fhir);

async fn bad_input_is_an_operation_outcome(backend: Backend) {
    let api = Api::new(backend).await;
    let (_, token) = api
        .token(
            "admin@northside.test",
            "northside",
            "EHR",
            ApiScope::ReadWrite,
        )
        .await;
    let before = api.appointments().await;
    // Unknown parameters: refused (strict), unless asked to be lenient.
    let strict = api.get("/fhir/Appointment?colour=red", &token).await;
    outcome(&strict, StatusCode::BAD_REQUEST, "invalid");
    assert!(strict.1["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("colour"));
    let lenient = api
        .call(
            Request::get("/fhir/Appointment?colour=red&status=booked")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header("prefer", "handling=lenient")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(lenient.0, StatusCode::OK);
    let last = lenient.1["entry"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["search"]["mode"], "outcome");
    assert!(lenient.1["link"][0]["url"]
        .as_str()
        .unwrap()
        .ends_with("/fhir/Appointment?status=booked"));
    outcome(
        &api.get("/fhir/Appointment?date=ne2026-03-04", &token).await,
        StatusCode::BAD_REQUEST,
        "invalid",
    );
    outcome(
        &api.get("/fhir/Appointment?date=tomorrow", &token).await,
        StatusCode::BAD_REQUEST,
        "invalid",
    );
    outcome(
        &api.get("/fhir/Appointment?status=maybe", &token).await,
        StatusCode::BAD_REQUEST,
        "invalid",
    );
    outcome(
        &api.get("/fhir/Appointment?patient=Practitioner/3", &token)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid",
    );
    outcome(
        &api.get("/fhir/Slot", &token).await,
        StatusCode::BAD_REQUEST,
        "required",
    );
    outcome(
        &api.get("/fhir/Appointment?_format=xml", &token).await,
        StatusCode::NOT_ACCEPTABLE,
        "not-supported",
    );
    outcome(
        &api.get("/fhir/Observation", &token).await,
        StatusCode::NOT_FOUND,
        "not-supported",
    );
    outcome(
        &api.get("/fhir/Appointment/999999", &token).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    outcome(
        &api.get("/fhir/Patient/abc", &token).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    outcome(
        &api.get("/fhir/no/such/path", &token).await,
        StatusCode::NOT_FOUND,
        "not-supported",
    );
    // Malformed operation bodies.
    for body in [
        json!("not parameters"),
        json!({"resourceType": "Patient"}),
        json!({"resourceType": "Parameters", "parameter": [{"name": "x"}]}),
        json!({"resourceType": "Parameters", "parameter": [{"name": "appointment-resource", "resource": {"resourceType": "Appointment"}}]}),
    ] {
        let got = api.post("/fhir/Appointment/$hold", &token, &body).await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{body}: {}", got.1);
        assert_eq!(got.1["resourceType"], "OperationOutcome");
    }
    let raw = api
        .call(
            Request::post("/fhir/Appointment/$book")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from("{ not json"))
                .unwrap(),
        )
        .await;
    outcome(&raw, StatusCode::BAD_REQUEST, "structure");
    // A wrong method is refused in FHIR's words too.
    let put = api
        .call(
            Request::delete("/fhir/Appointment/1")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    outcome(&put, StatusCode::METHOD_NOT_ALLOWED, "not-supported");
    // No credentials, or a token that is not one.
    let anon = api
        .call(Request::get("/fhir/Patient").body(Body::empty()).unwrap())
        .await;
    outcome(&anon, StatusCode::UNAUTHORIZED, "login");
    outcome(
        &api.get("/fhir/Patient", "swk_nonsense").await,
        StatusCode::UNAUTHORIZED,
        "login",
    );
    assert_eq!(api.appointments().await, before, "nothing changed");
    let outcomes = vec![strict.1, raw.1, anon.1, lenient.1];
    valid(&outcomes);
}
both_dbs!(bad_input, bad_input_is_an_operation_outcome);

async fn find_hold_book(backend: Backend) {
    let api = Api::new(backend).await;
    let (_, token) = api
        .token(
            "admin@northside.test",
            "northside",
            "EHR",
            ApiScope::ReadWrite,
        )
        .await;
    let (_, other) = api
        .token(
            "admin@northside.test",
            "northside",
            "Kiosk",
            ApiScope::ReadWrite,
        )
        .await;
    let video = api.service("Video consultation").await;
    let lee = api.user("dr.lee@northside.test").await;
    let ann = api.user("ann@patients.test").await;
    let ben = api.user("ben@patients.test").await;
    let proposed = first_proposed(&api, &token, video, Some(lee)).await;
    assert_eq!(proposed["status"], "proposed");
    let start = proposed["start"].as_str().unwrap().to_string();
    // POST $find answers the same.
    let body = json!({ "resourceType": "Parameters", "parameter": [
        { "name": "service-type", "valueString": video.to_string() },
        { "name": "practitioner", "valueReference": { "reference": format!("Practitioner/{lee}") } },
        { "name": "patient", "valueReference": { "reference": format!("Patient/{ann}") } }]});
    let (status, found) = api.post("/fhir/Appointment/$find", &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(entries(&found)[0]["start"], start.as_str());

    let (status, held) = api
        .post(
            "/fhir/Appointment/$hold",
            &token,
            &params("appointment-resource", &with_patient(&proposed, ann)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{held}");
    assert_eq!(held["status"], "pending");
    let hold_id = held["id"].as_str().unwrap().to_string();
    assert!(hold_id.starts_with("hold-"));
    // Held: no longer offered, and no other path can take it.
    let again = first_proposed(&api, &token, video, Some(lee)).await;
    assert_ne!(again["start"], start.as_str(), "a held time is not offered");
    let rival = api
        .post(
            "/fhir/Appointment/$hold",
            &other,
            &params("appointment-resource", &with_patient(&proposed, ben)),
        )
        .await;
    outcome(&rival, StatusCode::CONFLICT, "conflict");
    let rival = api
        .post(
            "/fhir/Appointment/$book",
            &other,
            &params("appointment-resource", &with_patient(&proposed, ben)),
        )
        .await;
    outcome(&rival, StatusCode::CONFLICT, "conflict");
    let staff = staff_create(&api, lee, ben, video, &start).await;
    assert!(
        matches!(staff, Err(app::error::AppError::Conflict(_))),
        "{staff:?}"
    );
    // Another client cannot book this client's hold.
    let theirs = json!({ "resourceType": "Parameters", "parameter": [
        { "name": "appointment-reference", "valueReference": { "reference": format!("Appointment/{hold_id}") } }]});
    outcome(
        &api.post("/fhir/Appointment/$book", &other, &theirs).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );

    let before = api.appointments().await;
    let (status, booked) = api.post("/fhir/Appointment/$book", &token, &theirs).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert_eq!(booked["status"], "booked");
    assert_eq!(
        booked["start"].as_str().unwrap().replace("+00:00", "Z"),
        start
    );
    assert_eq!(api.appointments().await, before + 1);
    let id = booked["id"].as_str().unwrap();
    let row = api
        .t
        .count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE id = {id} AND patient_id = {ann} \
             AND host_provider_id = {lee} AND status = 'booked'"
        ))
        .await;
    assert_eq!(row, 1);
    assert_eq!(
        api.t.count("SELECT COUNT(*) FROM fhir_hold").await,
        0,
        "the hold became the booking"
    );
    // Booked once: the hold is gone, a second $book of it is refused.
    let twice = api.post("/fhir/Appointment/$book", &token, &theirs).await;
    assert_eq!(twice.0, StatusCode::NOT_FOUND, "{}", twice.1);
    let (_, read) = api.get(&format!("/fhir/Appointment/{id}"), &token).await;
    valid(&[proposed, held, booked, read, found]);
}
both_dbs!(flow, find_hold_book);

/// The staff's own create path at `start` (an instant, UTC).
async fn staff_create(
    api: &Api,
    provider: i64,
    patient: i64,
    service: i64,
    start: &str,
) -> app::error::AppResult<app::server::service::appointments::Created> {
    use app::server::service::appointments::{create, NewAppointment};
    let me = api.t.me("scheduler@northside.test").await;
    let utc = chrono::DateTime::parse_from_rfc3339(start).unwrap();
    let local = utc
        .with_timezone(&chrono_tz::America::New_York)
        .naive_local();
    create(
        &api.t.state,
        &me,
        NewAppointment {
            clinic_id: api.clinic("northside").await,
            provider_id: provider,
            patient_id: patient,
            service_id: service,
            start_local: local,
            end_local: None,
            location: String::new(),
            invited: vec![],
            recurrence: None,
        },
    )
    .await
}

async fn holds_lapse(backend: Backend) {
    let api = Api::new(backend).await;
    let (_, token) = api
        .token(
            "admin@northside.test",
            "northside",
            "EHR",
            ApiScope::ReadWrite,
        )
        .await;
    let video = api.service("Video consultation").await;
    let lee = api.user("dr.lee@northside.test").await;
    let ann = api.user("ann@patients.test").await;
    let ben = api.user("ben@patients.test").await;
    let proposed = first_proposed(&api, &token, video, Some(lee)).await;
    let (status, held) = api
        .post(
            "/fhir/Appointment/$hold",
            &token,
            &params("appointment-resource", &with_patient(&proposed, ann)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let book = json!({ "resourceType": "Parameters", "parameter": [
        { "name": "appointment-reference", "valueReference": { "reference": format!("Appointment/{}", held["id"].as_str().unwrap()) } }]});
    // Five minutes later the hold has lapsed: the time is offered again,
    // its $book is refused as expired and changes nothing.
    api.t.clock.advance(chrono::Duration::minutes(5));
    let before = api.appointments().await;
    outcome(
        &api.post("/fhir/Appointment/$book", &token, &book).await,
        StatusCode::GONE,
        "expired",
    );
    assert_eq!(api.appointments().await, before);
    assert_eq!(
        first_proposed(&api, &token, video, Some(lee)).await["start"],
        proposed["start"]
    );
    // Other paths may take it now: the staff's create does.
    let start = proposed["start"].as_str().unwrap();
    let created = staff_create(&api, lee, ben, video, start).await;
    assert!(created.is_ok(), "{created:?}");
    // The timers delete lapsed holds once they are an hour old.
    assert_eq!(
        app::server::timers::run_due(&api.t.state)
            .await
            .unwrap()
            .holds,
        0
    );
    api.t.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(
        app::server::timers::run_due(&api.t.state)
            .await
            .unwrap()
            .holds,
        1
    );
    assert_eq!(api.t.count("SELECT COUNT(*) FROM fhir_hold").await, 0);
    outcome(
        &api.post("/fhir/Appointment/$book", &token, &book).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
}
both_dbs!(expiry, holds_lapse);

async fn twenty_books_one_winner(backend: Backend) {
    let api = Api::new(backend).await;
    let video = api.service("Video consultation").await;
    let lee = api.user("dr.lee@northside.test").await;
    let ann = api.user("ann@patients.test").await;
    let mut tokens = Vec::new();
    for i in 0..20 {
        let (_, t) = api
            .token(
                "admin@northside.test",
                "northside",
                &format!("client {i}"),
                ApiScope::ReadWrite,
            )
            .await;
        tokens.push(t);
    }
    let proposed = first_proposed(&api, &tokens[0], video, Some(lee)).await;
    let body = params("appointment-resource", &with_patient(&proposed, ann));
    let before = api.appointments().await;
    let calls = tokens.iter().map(|t| {
        let req = Request::post("/fhir/Appointment/$book")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::CONTENT_TYPE, FHIR_JSON)
            .body(Body::from(body.to_string()))
            .unwrap();
        let router = api.router.clone();
        tokio::spawn(async move {
            let resp = send(&router, req).await;
            (resp.status(), web::json(resp).await)
        })
    });
    let results: Vec<(StatusCode, Value)> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let won: Vec<_> = results
        .iter()
        .filter(|r| r.0 == StatusCode::CREATED)
        .collect();
    assert_eq!(won.len(), 1, "exactly one $book wins: {results:?}");
    for r in results.iter().filter(|r| r.0 != StatusCode::CREATED) {
        outcome(r, StatusCode::CONFLICT, "conflict");
    }
    assert!(results.iter().any(|r| r.1["issue"][0]["diagnostics"]
        .as_str()
        .is_some_and(|d| d.contains("just taken by someone else"))));
    assert_eq!(api.appointments().await, before + 1);
    let start = proposed["start"].as_str().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(start)
        .unwrap()
        .timestamp();
    assert_eq!(
        api.t
            .count(&format!(
                "SELECT COUNT(*) FROM appointment WHERE host_provider_id = {lee} AND starts_at = {at} \
                 AND status <> 'cancelled'"
            ))
            .await,
        1
    );
}
both_dbs!(race, twenty_books_one_winner);

async fn tokens_are_scoped(backend: Backend) {
    let api = Api::new(backend).await;
    let (_, read) = api
        .token(
            "admin@northside.test",
            "northside",
            "Reader",
            ApiScope::Read,
        )
        .await;
    let (revoked_id, revoked) = api
        .token(
            "admin@northside.test",
            "northside",
            "Old",
            ApiScope::ReadWrite,
        )
        .await;
    let (_, harbour) = api
        .token(
            "admin@harbour.test",
            "harbour",
            "Dental EHR",
            ApiScope::ReadWrite,
        )
        .await;
    let video = api.service("Video consultation").await;
    let lee = api.user("dr.lee@northside.test").await;
    let ann = api.user("ann@patients.test").await;
    let before = api.appointments().await;
    let proposed = first_proposed(&api, &read, video, Some(lee)).await;
    let body = params("appointment-resource", &with_patient(&proposed, ann));
    // A read token reads, but cannot hold or book.
    outcome(
        &api.post("/fhir/Appointment/$book", &read, &body).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    outcome(
        &api.post("/fhir/Appointment/$hold", &read, &body).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // A revoked token is refused at once.
    let me = api.t.me("admin@northside.test").await;
    assert_eq!(api.get("/fhir/Location", &revoked).await.0, StatusCode::OK);
    api_clients::revoke(&api.t.state, &me, revoked_id)
        .await
        .unwrap();
    outcome(
        &api.get("/fhir/Location", &revoked).await,
        StatusCode::UNAUTHORIZED,
        "login",
    );
    outcome(
        &api.post("/fhir/Appointment/$book", &revoked, &body).await,
        StatusCode::UNAUTHORIZED,
        "login",
    );
    // Another clinic's token sees its own clinic only and books nothing here.
    let north_appt = api.t.id("SELECT MIN(id) FROM appointment WHERE clinic_id = (SELECT id FROM clinic WHERE slug = 'northside')").await;
    outcome(
        &api.get(&format!("/fhir/Appointment/{north_appt}"), &harbour)
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    outcome(
        &api.get(&format!("/fhir/HealthcareService/{video}"), &harbour)
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    outcome(
        &api.get(&format!("/fhir/Practitioner/{lee}"), &harbour)
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    let (_, locations) = api.get("/fhir/Location", &harbour).await;
    assert_eq!(entries(&locations).len(), 1);
    assert_eq!(entries(&locations)[0]["name"], "Harbour Dental");
    let (_, appts) = api.get("/fhir/Appointment", &harbour).await;
    let harbour_id = api.clinic("harbour").await;
    let harbour_count = api
        .t
        .count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE clinic_id = {harbour_id}"
        ))
        .await;
    assert_eq!(appts["total"], harbour_count);
    let got = api.post("/fhir/Appointment/$book", &harbour, &body).await;
    outcome(&got, StatusCode::NOT_FOUND, "not-found");
    assert_eq!(api.appointments().await, before, "nothing changed");
    // A bearer POST needs no Origin (API clients are not browsers), and
    // even a foreign one is no forgery; a cookie POST from another site
    // is still refused.
    let resp = send(
        &api.router,
        Request::post("/fhir/Appointment/$find")
            .header(header::AUTHORIZATION, format!("Bearer {read}"))
            .header(header::ORIGIN, "https://integrator.example")
            .header(header::CONTENT_TYPE, FHIR_JSON)
            .body(Body::from(json!({"resourceType": "Parameters", "parameter": [{"name": "service-type", "valueString": video.to_string()}]}).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (cookie, _) = api.t.session("scheduler@northside.test").await;
    let resp = send(
        &api.router,
        Request::post("/fhir/Appointment/$book")
            .header(header::COOKIE, web::cookie(&cookie))
            .header(header::ORIGIN, "https://evil.example")
            .header(header::CONTENT_TYPE, FHIR_JSON)
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(api.appointments().await, before, "nothing changed");
}
both_dbs!(tokens, tokens_are_scoped);

async fn a_patient_sees_only_their_own(backend: Backend) {
    let api = Api::new(backend).await;
    let (cookie, _) = api.t.session("ann@patients.test").await;
    let ann = api.user("ann@patients.test").await;
    let ben = api.user("ben@patients.test").await;
    let as_ann = |req: axum::http::request::Builder, body: Body| {
        req.header(header::COOKIE, web::cookie(&cookie))
            .body(body)
            .unwrap()
    };
    let (status, patients) = api
        .call(as_ann(Request::get("/fhir/Patient"), Body::empty()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let found = entries(&patients);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], ann.to_string());
    let other = api
        .call(as_ann(
            Request::get(format!("/fhir/Patient/{ben}")),
            Body::empty(),
        ))
        .await;
    outcome(&other, StatusCode::NOT_FOUND, "not-found");
    assert!(
        !other.1.to_string().contains("Ben"),
        "an error names no other patient"
    );
    let (_, appts) = api
        .call(as_ann(Request::get("/fhir/Appointment"), Body::empty()))
        .await;
    let mine = api
        .t
        .count(&format!(
            "SELECT COUNT(*) FROM appointment WHERE patient_id = {ann}"
        ))
        .await;
    assert_eq!(appts["total"], mine);
    for a in entries(&appts) {
        assert!(a["participant"]
            .to_string()
            .contains(&format!("Patient/{ann}")));
    }
    let (_, bens) = api
        .call(as_ann(
            Request::get(format!("/fhir/Appointment?patient=Patient/{ben}")),
            Body::empty(),
        ))
        .await;
    assert_eq!(bens["total"], 0);
    // Ann books for herself (same-origin POST), not for Ben.
    let video = api.service("Video consultation").await;
    let lee = api.user("dr.lee@northside.test").await;
    let (_, found) = api
        .call(as_ann(
            Request::get(format!(
                "/fhir/Appointment/$find?service-type={video}&practitioner={lee}"
            )),
            Body::empty(),
        ))
        .await;
    let proposed = entries(&found).remove(0);
    let post = |body: Value| {
        as_ann(
            Request::post("/fhir/Appointment/$book").header(header::CONTENT_TYPE, FHIR_JSON),
            Body::from(body.to_string()),
        )
    };
    let before = api.appointments().await;
    let for_ben = api
        .call(post(params(
            "appointment-resource",
            &with_patient(&proposed, ben),
        )))
        .await;
    outcome(&for_ben, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(api.appointments().await, before);
    let (status, booked) = api
        .call(post(params("appointment-resource", &proposed)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert!(booked["participant"]
        .to_string()
        .contains(&format!("Patient/{ann}")));
    assert_eq!(api.appointments().await, before + 1);
    valid(&[patients, appts, booked]);
}
both_dbs!(patient_session, a_patient_sees_only_their_own);

/// A hold keeps its time from the booking page's free times, from staff
/// creating or moving an appointment there, and from a staff session's
/// own $book; a staff session books for a patient of its clinic.
async fn a_hold_blocks_every_path(backend: Backend) {
    use app::server::service::appointments::{reschedule, Move, RescheduleScope};
    let api = Api::new(backend).await;
    let (_, token) = api
        .token(
            "admin@northside.test",
            "northside",
            "EHR",
            ApiScope::ReadWrite,
        )
        .await;
    let north = api.clinic("northside").await;
    let video = api.service("Video consultation").await;
    let lee = api.user("dr.lee@northside.test").await;
    let ann = api.user("ann@patients.test").await;
    let ben = api.user("ben@patients.test").await;
    let (_, found) = api
        .get(
            &format!("/fhir/Appointment/$find?service-type={video}&practitioner={lee}"),
            &token,
        )
        .await;
    let times = entries(&found);
    let (held_time, other_time) = (&times[0], &times[1]);
    let (status, held) = api
        .post(
            "/fhir/Appointment/$hold",
            &token,
            &params("appointment-resource", &with_patient(held_time, ann)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let held_at =
        chrono::DateTime::parse_from_rfc3339(held_time["start"].as_str().unwrap()).unwrap();
    let page_offers = |days: Vec<app::model::SlotDay>| {
        days.iter()
            .flat_map(|d| d.slots.iter().map(|s| s.start))
            .any(|s| s == held_at.timestamp())
    };
    let page = app::server::service::requests::free_slots(&api.t.state, north, video, Some(lee))
        .await
        .unwrap();
    assert!(
        !page_offers(page),
        "the booking page does not offer a held time"
    );
    // Staff move an appointment of Lee's into the held time: refused.
    let created = staff_create(&api, lee, ben, video, other_time["start"].as_str().unwrap())
        .await
        .unwrap();
    let me = api.t.me("scheduler@northside.test").await;
    let mv = Move {
        appointment_id: created.ids[0],
        start_local: held_at
            .with_timezone(&chrono_tz::America::New_York)
            .naive_local(),
        location: String::new(),
        scope: RescheduleScope::ThisOnly,
    };
    let moved = reschedule(&api.t.state, &me, mv.clone()).await;
    assert!(
        matches!(moved, Err(app::error::AppError::Conflict(_))),
        "{moved:?}"
    );
    // A scheduler's session $book of the held time is refused as well.
    let (cookie, _) = api.t.session("scheduler@northside.test").await;
    let as_staff = |body: &Value| {
        Request::post("/fhir/Appointment/$book")
            .header(header::COOKIE, web::cookie(&cookie))
            .header(header::CONTENT_TYPE, FHIR_JSON)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let body = params("appointment-resource", &with_patient(held_time, ben));
    outcome(
        &api.call(as_staff(&body)).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    // Once it lapses every path may have it: the page offers it, the
    // scheduler's session books it for Ben, and the move is refused only
    // because that time is now booked.
    api.t.clock.advance(chrono::Duration::minutes(5));
    let page = app::server::service::requests::free_slots(&api.t.state, north, video, Some(lee))
        .await
        .unwrap();
    assert!(page_offers(page));
    let (status, booked) = api.call(as_staff(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert!(booked["participant"]
        .to_string()
        .contains(&format!("Patient/{ben}")));
    let audit = api
        .t
        .count(&format!(
            "SELECT COUNT(*) FROM audit WHERE action = 'appointment.create' AND entity_id = {} \
             AND actor_id = {} AND on_behalf_of_id = {lee}",
            booked["id"].as_str().unwrap(),
            me.user_id
        ))
        .await;
    assert_eq!(audit, 1, "audited as the scheduler, for the provider");
    let moved = reschedule(&api.t.state, &me, mv).await;
    let Err(app::error::AppError::Conflict(why)) = moved else {
        panic!("{moved:?}")
    };
    assert!(why.contains("already booked"), "{why}");
}
both_dbs!(hold_blocks, a_hold_blocks_every_path);

/// The instant a proposed Appointment starts at.
fn starts(a: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(a["start"].as_str().unwrap())
        .unwrap()
        .timestamp()
}

/// Whether the portal's reschedule choices include `at`.
fn offers(days: &[app::model::SlotDay], at: i64) -> bool {
    days.iter().flat_map(|d| &d.slots).any(|s| s.start == at)
}

/// Holds `proposed` for the patient through `$hold`.
async fn hold_for(api: &Api, token: &str, proposed: &Value, patient: i64) {
    let body = params("appointment-resource", &with_patient(proposed, patient));
    let (status, held) = api.post("/fhir/Appointment/$hold", token, &body).await;
    assert_eq!(status, StatusCode::OK, "{held}");
}

/// A held time is offered by no view of free times (a patient's requested
/// times, Dispatch's Available column, the portal's reschedule choices)
/// and accepting a request there is refused with nothing changed; once
/// the hold lapses each of them offers and takes it again.
async fn a_held_time_is_free_nowhere(backend: Backend) {
    use app::domain::request::RequestMode;
    use app::server::service::{portal, requests};
    let api = Api::new(backend).await;
    let (_, token) = api
        .token(
            "admin@northside.test",
            "northside",
            "EHR",
            ApiScope::ReadWrite,
        )
        .await;
    let (north, video) = (
        api.clinic("northside").await,
        api.service("Video consultation").await,
    );
    let lee = api.user("dr.lee@northside.test").await;
    let (ann, ben) = (
        api.user("ann@patients.test").await,
        api.user("ben@patients.test").await,
    );
    let (ann_me, ben_me) = (
        api.t.me("ann@patients.test").await,
        api.t.me("ben@patients.test").await,
    );
    let sched = api.t.me("scheduler@northside.test").await;
    let (_, found) = api
        .get(
            &format!("/fhir/Appointment/$find?service-type={video}&practitioner={lee}"),
            &token,
        )
        .await;
    let times = entries(&found);
    let (held, t0) = (&times[0], starts(&times[0]));
    let ask = |times: Vec<i64>| requests::NewRequest {
        clinic_id: north,
        service_id: video,
        mode: RequestMode::Scheduled,
        provider_id: Some(lee),
        times,
        answers: vec!["A rash".into(), "No".into()],
        note: String::new(),
    };
    // Before the hold: Ben's appointment with Lee later on, and his request for t0.
    let last = times.last().unwrap()["start"].as_str().unwrap();
    let appt = staff_create(&api, lee, ben, video, last).await.unwrap().ids[0];
    let request = requests::create(&api.t.state, &ben_me, ask(vec![t0]))
        .await
        .unwrap();
    assert!(offers(
        &portal::reschedule_slots(&api.t.state, &ben_me, appt)
            .await
            .unwrap(),
        t0
    ));
    hold_for(&api, &token, held, ann).await;

    let asked = requests::create(&api.t.state, &ann_me, ask(vec![t0])).await;
    assert!(
        matches!(asked, Err(app::error::AppError::Validation(_))),
        "{asked:?}"
    );
    let lee_row =
        |o: app::model::AssignOptions| o.providers.into_iter().find(|p| p.id == lee).unwrap();
    let options = requests::assign_options(&api.t.state, &sched, request)
        .await
        .unwrap();
    let row = lee_row(options);
    assert!(
        !row.available,
        "Dispatch does not show Lee free: {}",
        row.availability
    );
    let choices = portal::reschedule_slots(&api.t.state, &ben_me, appt)
        .await
        .unwrap();
    assert!(
        !offers(&choices, t0),
        "the portal does not offer a held time"
    );
    let moved = portal::patient_reschedule(&api.t.state, &ben_me, appt, t0, "", true).await;
    assert!(
        matches!(moved, Err(app::error::AppError::Conflict(_))),
        "{moved:?}"
    );
    let before = api.appointments().await;
    let accepted = requests::accept(&api.t.state, &sched, request, lee, Some(t0), "").await;
    let Err(app::error::AppError::Conflict(why)) = accepted else {
        panic!("{accepted:?}")
    };
    assert!(why.contains("being held"), "{why}");
    assert_eq!(api.appointments().await, before, "nothing booked");
    let pending =
        format!("SELECT COUNT(*) FROM request WHERE id = {request} AND status = 'pending'");
    assert_eq!(
        api.t.count(&pending).await,
        1,
        "the request is still pending"
    );

    // The hold lapses: every view offers the time and accepting books it.
    api.t.clock.advance(chrono::Duration::minutes(5));
    let options = requests::assign_options(&api.t.state, &sched, request)
        .await
        .unwrap();
    assert!(lee_row(options).available);
    assert!(offers(
        &portal::reschedule_slots(&api.t.state, &ben_me, appt)
            .await
            .unwrap(),
        t0
    ));
    let asked = requests::create(&api.t.state, &ann_me, ask(vec![t0])).await;
    assert!(asked.is_ok(), "{asked:?}");
    let booked = requests::accept(&api.t.state, &sched, request, lee, Some(t0), "")
        .await
        .unwrap();
    let row = format!(
        "SELECT COUNT(*) FROM appointment WHERE id = {booked} AND patient_id = {ben} \
         AND host_provider_id = {lee} AND starts_at = {t0} AND status = 'booked'"
    );
    assert_eq!(api.t.count(&row).await, 1);
}
both_dbs!(free_nowhere, a_held_time_is_free_nowhere);

/// A waitlist offer of a time that is then held through the API cannot be
/// claimed while the hold lasts (a conflict; nothing booked, the offer
/// still open); after it lapses the claim books it.
async fn a_held_time_cannot_be_claimed(backend: Backend) {
    use app::domain::booking::{CancelForm, CancelReason};
    use app::domain::waitlist::DayParts;
    use app::server::service::appointments::{cancel, CancelScope};
    use app::server::service::waitlist;
    let api = Api::new(backend).await;
    let (_, token) = api
        .token(
            "admin@northside.test",
            "northside",
            "EHR",
            ApiScope::ReadWrite,
        )
        .await;
    let (north, video) = (
        api.clinic("northside").await,
        api.service("Video consultation").await,
    );
    let lee = api.user("dr.lee@northside.test").await;
    let (ann, ben) = (
        api.user("ann@patients.test").await,
        api.user("ben@patients.test").await,
    );
    let ben_me = api.t.me("ben@patients.test").await;
    let sched = api.t.me("scheduler@northside.test").await;
    let find = format!("/fhir/Appointment/$find?service-type={video}&practitioner={lee}");
    let (_, found) = api.get(&find, &token).await;
    let wanted = entries(&found)[2].clone();
    let at = starts(&wanted);
    let day = chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .with_timezone(&chrono_tz::America::New_York)
        .format("%Y-%m-%d")
        .to_string();
    // Ann has the time; Ben waits for that day; Ann's cancellation frees it.
    let owned = staff_create(&api, lee, ann, video, wanted["start"].as_str().unwrap())
        .await
        .unwrap();
    let wish = app::model::WaitlistJoin {
        clinic_id: north,
        service_id: video,
        provider_id: Some(lee),
        date_from: day.clone(),
        date_to: day,
        parts: DayParts::ALL,
    };
    waitlist::join(&api.t.state, &ben_me, wish).await.unwrap();
    let form = CancelForm {
        reason: Some(CancelReason::ProviderUnavailable),
        note: String::new(),
        message_to_patient: String::new(),
    };
    cancel(
        &api.t.state,
        &sched,
        owned.ids[0],
        CancelScope::ThisOnly,
        form,
    )
    .await
    .unwrap();
    let offer = api
        .t
        .id(&format!(
            "SELECT id FROM waitlist_offer WHERE patient_id = {ben} AND starts_at = {at} AND status = 'open'"
        ))
        .await;
    // An integrator holds the freed time before Ben claims it.
    let (_, found) = api.get(&find, &token).await;
    let again = entries(&found)
        .into_iter()
        .find(|a| starts(a) == at)
        .expect("offered again");
    hold_for(&api, &token, &again, ann).await;
    let before = api.appointments().await;
    let claimed = waitlist::claim(&api.t.state, &ben_me, offer).await;
    // The waitlist tells its patient the time is being booked (not taken).
    assert_eq!(
        claimed,
        Err(app::error::AppError::Conflict(
            waitlist::HELD_FOR_BOOKING.into()
        ))
    );
    assert_eq!(api.appointments().await, before, "nothing booked");
    let open =
        format!("SELECT COUNT(*) FROM waitlist_offer WHERE id = {offer} AND status = 'open'");
    assert_eq!(
        api.t.count(&open).await,
        1,
        "the offer is still Ben's to claim"
    );
    api.t.clock.advance(chrono::Duration::minutes(5));
    let booked = waitlist::claim(&api.t.state, &ben_me, offer).await.unwrap();
    let row = format!(
        "SELECT COUNT(*) FROM appointment WHERE id = {booked} AND patient_id = {ben} \
         AND host_provider_id = {lee} AND starts_at = {at} AND status = 'booked'"
    );
    assert_eq!(api.t.count(&row).await, 1);
}
both_dbs!(claim_held, a_held_time_cannot_be_claimed);

/// Refusals of the layers around the FHIR handlers (body size, cross-site
/// check, session store) and of the router itself reach a FHIR client as
/// OperationOutcomes (`Api::call` checks the content type of each).
async fn every_refusal_under_fhir_is_an_outcome(backend: Backend) {
    let api = Api::new(backend).await;
    let (_, token) = api
        .token(
            "admin@northside.test",
            "northside",
            "EHR",
            ApiScope::ReadWrite,
        )
        .await;
    let before = api.appointments().await;
    let big = vec![b' '; api.t.state.config.max_body_bytes + 1];
    let too_large = api
        .call(
            Request::post("/fhir/Appointment/$book")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, FHIR_JSON)
                .header(header::CONTENT_LENGTH, big.len())
                .body(Body::from(big.clone()))
                .unwrap(),
        )
        .await;
    outcome(&too_large, StatusCode::PAYLOAD_TOO_LARGE, "too-long");
    // Chunked (no declared length): refused by the body reader instead.
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(big)]);
    let chunked = api
        .call(
            Request::post("/fhir/Appointment/$hold")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from_stream(stream))
                .unwrap(),
        )
        .await;
    outcome(&chunked, StatusCode::PAYLOAD_TOO_LARGE, "too-long");
    let (cookie, _) = api.t.session("scheduler@northside.test").await;
    let forged = api
        .call(
            Request::post("/fhir/Appointment/$book")
                .header(header::COOKIE, web::cookie(&cookie))
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, FHIR_JSON)
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    outcome(&forged, StatusCode::FORBIDDEN, "forbidden");
    assert!(forged.1["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("Cross-site"));
    for path in ["/fhir", "/fhir/", "/fhir/Appointment/1/extra/parts"] {
        let got = api.get(path, &token).await;
        assert_eq!(got.0, StatusCode::NOT_FOUND, "{path}: {}", got.1);
        assert_eq!(got.1["resourceType"], "OperationOutcome", "{path}");
    }
    let put = api
        .call(
            Request::put("/fhir/metadata")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    outcome(&put, StatusCode::METHOD_NOT_ALLOWED, "not-supported");
    assert_eq!(api.appointments().await, before, "nothing changed");
    valid(&[too_large.1, forged.1, put.1]);
    // The session store down: a session caller hears 503 "transient".
    api.t.state.db.pool.close().await;
    let down = api
        .call(
            Request::get("/fhir/Patient")
                .header(header::COOKIE, web::cookie(&cookie))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    outcome(&down, StatusCode::SERVICE_UNAVAILABLE, "transient");
}
both_dbs!(outer_refusals, every_refusal_under_fhir_is_an_outcome);

/// Dates without a time are the clinic's days (Northside: New York), not
/// UTC days: an appointment at 22:30 local on 1 December (03:30Z on the
/// 2nd) is found by date=2026-12-01, not by date=2026-12-02; a Slot search
/// and $find for a date answer that local day's free times, the same ones.
async fn dates_are_the_clinics_days(backend: Backend) {
    use chrono::TimeZone;
    let ny = chrono_tz::America::New_York;
    let api = Api::new(backend).await;
    let (_, token) = api
        .token("admin@northside.test", "northside", "EHR", ApiScope::Read)
        .await;
    let north = api.clinic("northside").await;
    let ann = api.user("ann@patients.test").await;
    let late = ny
        .with_ymd_and_hms(2026, 12, 1, 22, 30, 0)
        .unwrap()
        .timestamp();
    let id = api
        .t
        .id(&format!(
            "SELECT MIN(id) FROM appointment WHERE clinic_id = {north} AND patient_id = {ann}"
        ))
        .await;
    sqlx::query("UPDATE appointment SET starts_at = $1, ends_at = $2 WHERE id = $3")
        .bind(late)
        .bind(late + 1800)
        .bind(id)
        .execute(&api.t.state.db.pool)
        .await
        .unwrap();
    let ids = |b: &Value| -> Vec<String> {
        entries(b)
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    let on = |day: &str| format!("/fhir/Appointment?patient=Patient/{ann}&date={day}");
    let (status, first) = api.get(&on("2026-12-01"), &token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(ids(&first).contains(&id.to_string()), "{first}");
    let (_, second) = api.get(&on("2026-12-02"), &token).await;
    assert!(!ids(&second).contains(&id.to_string()), "{second}");
    let (_, from) = api.get(&on("ge2026-12-02"), &token).await;
    assert!(!ids(&from).contains(&id.to_string()));
    // An instant is exact whatever the zone.
    let (_, at) = api.get(&on("ge2026-12-02T03:30:00Z"), &token).await;
    assert!(ids(&at).contains(&id.to_string()));

    let video = api.service("Video consultation").await;
    let lee = api.user("dr.lee@northside.test").await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
    let local_days = |b: &Value| -> Vec<(chrono::NaiveDate, String)> {
        entries(b)
            .iter()
            .map(|s| {
                let t = chrono::DateTime::parse_from_rfc3339(s["start"].as_str().unwrap()).unwrap();
                (
                    t.with_timezone(&ny).date_naive(),
                    s["start"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (_, slots) = api
        .get(
            &format!(
                "/fhir/Slot?service-type={video}&schedule=Schedule/{north}-{lee}&start=2026-03-05"
            ),
            &token,
        )
        .await;
    let slots = local_days(&slots);
    assert!(!slots.is_empty());
    assert!(slots.iter().all(|(d, _)| *d == day), "{slots:?}");
    let (_, found) = api
        .get(&format!("/fhir/Appointment/$find?service-type={video}&practitioner={lee}&start=2026-03-05&end=2026-03-05"), &token)
        .await;
    let found = local_days(&found);
    assert_eq!(
        found.iter().map(|s| &s.1).collect::<Vec<_>>(),
        slots.iter().map(|s| &s.1).collect::<Vec<_>>()
    );
}
both_dbs!(clinic_days, dates_are_the_clinics_days);

/// `GET Appointment/hold-<n>` reads the caller's live hold as `$hold`
/// answered it; another client hears 404, and a lapsed hold 410.
async fn a_hold_can_be_read(backend: Backend) {
    let api = Api::new(backend).await;
    let (_, token) = api
        .token("admin@northside.test", "northside", "EHR", ApiScope::Read)
        .await;
    let (_, writer) = api
        .token(
            "admin@northside.test",
            "northside",
            "Kiosk",
            ApiScope::ReadWrite,
        )
        .await;
    let video = api.service("Video consultation").await;
    let lee = api.user("dr.lee@northside.test").await;
    let ann = api.user("ann@patients.test").await;
    let proposed = first_proposed(&api, &writer, video, Some(lee)).await;
    let body = params("appointment-resource", &with_patient(&proposed, ann));
    let (status, held) = api.post("/fhir/Appointment/$hold", &writer, &body).await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let path = format!("/fhir/Appointment/{}", held["id"].as_str().unwrap());
    let (status, read) = api.get(&path, &writer).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read, held);
    assert_eq!(read["status"], "pending");
    outcome(
        &api.get(&path, &token).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    outcome(
        &api.get("/fhir/Appointment/hold-x", &writer).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    api.t.clock.advance(chrono::Duration::minutes(5));
    outcome(&api.get(&path, &writer).await, StatusCode::GONE, "expired");
    valid(&[read]);
}
both_dbs!(hold_read, a_hold_can_be_read);

/// `_count` pages a search: `total` is every match, each page has its
/// `_count` entries and a `next` link until the last; following the links
/// visits every match once.
async fn searches_page(backend: Backend) {
    let api = Api::new(backend).await;
    let (_, token) = api
        .token("admin@northside.test", "northside", "EHR", ApiScope::Read)
        .await;
    let (_, whole) = api.get("/fhir/Appointment", &token).await;
    let every: Vec<Value> = entries(&whole);
    assert!(every.len() > 5, "the demo has appointments to page");
    let mut path = "/fhir/Appointment?_count=5".to_string();
    let mut seen = Vec::new();
    loop {
        let (status, page) = api.get(&path, &token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"], every.len());
        let got = entries(&page);
        assert!(!got.is_empty() && got.len() <= 5);
        seen.extend(got);
        let links = page["link"].as_array().unwrap();
        let Some(next) = links.iter().find(|l| l["relation"] == "next") else {
            break;
        };
        let url = next["url"].as_str().unwrap();
        path = url[url.find("/fhir/").unwrap()..].to_string();
        assert!(path.contains("_offset="), "{path}");
    }
    assert_eq!(seen, every, "every match once, in order");
    let (_, total_only) = api.get("/fhir/Appointment?_count=0", &token).await;
    assert_eq!(total_only["total"], every.len());
    assert!(entries(&total_only).is_empty());
    outcome(
        &api.get("/fhir/Appointment?_count=many", &token).await,
        StatusCode::BAD_REQUEST,
        "invalid",
    );
    valid(&[total_only]);
}
both_dbs!(paging, searches_page);
