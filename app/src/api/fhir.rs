//! The FHIR R4 scheduling API under `/fhir` (issue 16, part 1): plain axum
//! handlers (not server functions: FHIR clients speak HTTP and JSON, not
//! our wire format). Each resolves the caller (an API client's bearer
//! token, else the session), reads typed parameters with `domain::fhir`,
//! calls `service::fhir` and answers `application/fhir+json`; every error
//! is an OperationOutcome with its 4xx.

#[cfg(feature = "ssr")]
mod handlers {
    use crate::domain::appointment::AppointmentStatus;
    use crate::domain::fhir::resources::{capability_statement, search_names};
    use crate::domain::fhir::{
        bounds_in, numeric_ids, searchset, searchset_page, Bounds, Handling, Inputs, Page, Params,
        Refusal, CONTENT_TYPE, PAGING,
    };
    use crate::server::auth::Session;
    use crate::server::service::api_clients;
    use crate::server::service::fhir::{
        self as svc, holds, AppointmentQuery, Caller, FhirResult, SlotQuery,
    };
    use crate::server::state::AppState;
    use axum::body::Bytes;
    use axum::extract::{Path, Query, State};
    use axum::http::{header, HeaderMap, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use axum::{Extension, Router};
    use serde_json::Value;

    const APPOINTMENT_STATUS_SYSTEM: &str = "http://hl7.org/fhir/appointmentstatus";

    /// The `/fhir` routes (nested by the server crate).
    pub fn router() -> Router<AppState> {
        Router::new()
            .route("/metadata", get(metadata))
            .route("/Appointment/$find", get(find_get).post(find_post))
            .route("/Appointment/$hold", post(hold))
            .route("/Appointment/$book", post(book))
            .route("/{kind}", get(search))
            .route("/{kind}/{id}", get(read))
            .fallback(unknown)
            .method_not_allowed_fallback(not_allowed)
    }

    fn answer(status: StatusCode, body: Value) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, CONTENT_TYPE)],
            body.to_string(),
        )
            .into_response()
    }

    fn refused(r: Refusal) -> Response {
        if r.status >= 500 {
            tracing::error!(message = %r.message, "FHIR request failed");
        }
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = answer(status, r.outcome());
        if r.status == 401 {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"fhir\""),
            );
        }
        res
    }

    fn reply(r: FhirResult<(StatusCode, Value)>) -> Response {
        match r {
            Ok((status, body)) => answer(status, body),
            Err(e) => refused(e),
        }
    }

    /// The caller: an `Authorization: Bearer` token if one is sent (it
    /// wins over a cookie: it names the client exactly), else the session.
    async fn caller(
        state: &AppState,
        headers: &HeaderMap,
        session: Option<Extension<Session>>,
    ) -> FhirResult<Caller> {
        if let Some(auth) = headers.get(header::AUTHORIZATION) {
            let auth = auth.to_str().unwrap_or("");
            return Ok(Caller::Client(
                api_clients::authenticate(state, auth).await?,
            ));
        }
        match session {
            Some(Extension(s)) => Ok(Caller::User(s.me)),
            None => Err(Refusal::new(
                401,
                "login",
                "Send an API client's token (Authorization: Bearer …) or log in.",
            )),
        }
    }

    fn base(state: &AppState) -> String {
        format!("{}/fhir", state.config.link_base().trim_end_matches('/'))
    }

    fn query(uri: &Uri) -> FhirResult<Vec<(String, String)>> {
        Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|q| q.0)
            .map_err(|_| Refusal::invalid("The query string cannot be read."))
    }

    async fn metadata(State(state): State<AppState>) -> Response {
        answer(
            StatusCode::OK,
            capability_statement(&base(&state), state.now()),
        )
    }

    async fn unknown(uri: Uri) -> Response {
        refused(Refusal::new(
            404,
            "not-supported",
            format!(
                "{} is not part of this API; see /fhir/metadata.",
                uri.path()
            ),
        ))
    }

    async fn not_allowed() -> Response {
        let mut res = refused(Refusal::new(
            405,
            "not-supported",
            "This API reads and searches, and books through Appointment/$find, $hold and $book; see /fhir/metadata.",
        ));
        *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        res
    }

    async fn search(
        State(state): State<AppState>,
        session: Option<Extension<Session>>,
        headers: HeaderMap,
        Path(kind): Path<String>,
        uri: Uri,
    ) -> Response {
        reply(
            async {
                let c = caller(&state, &headers, session).await?;
                let mut names = search_names(&kind);
                if names.is_empty() {
                    return Err(unsupported_kind(&kind));
                }
                names.extend(PAGING);
                let prefer = headers.get("prefer").and_then(|v| v.to_str().ok());
                let p = Params::parse(
                    &query(&uri)?,
                    &names,
                    &["date", "start"],
                    Handling::from_prefer(prefer),
                )?;
                let page = Page::from_params(&p)?;
                let found = run_search(&state, &c, &kind, &p).await?;
                let total = found.len();
                let (items, next) = page.slice(found);
                let base = base(&state);
                let self_url = format!("{base}/{kind}?{}", p.query_string());
                let next_url = next.map(|o| format!("{base}/{kind}?{}", p.query_string_at(o)));
                let links = (self_url.as_str(), next_url.as_deref());
                Ok((
                    StatusCode::OK,
                    searchset_page(&base, links, total, items, &p.ignored),
                ))
            }
            .await,
        )
    }

    fn unsupported_kind(kind: &str) -> Refusal {
        Refusal::new(
            404,
            "not-supported",
            format!("This API does not serve {kind}; see /fhir/metadata."),
        )
    }

    /// A numeric id parameter (`_id`, a reference); anything else matches
    /// nothing, so it is refused as not one of ours.
    fn number(v: Option<String>, what: &str) -> FhirResult<Option<i64>> {
        v.map(|id| {
            numeric_ids(&id, 1)
                .map(|n| n[0])
                .ok_or_else(|| Refusal::invalid(format!("'{id}' is not a {what} id of ours.")))
        })
        .transpose()
    }

    /// `<clinic>-<provider>` of a Schedule or PractitionerRole.
    fn pair(v: Option<String>, what: &str) -> FhirResult<Option<(i64, i64)>> {
        v.map(|id| {
            numeric_ids(&id, 2).map(|n| (n[0], n[1])).ok_or_else(|| {
                Refusal::invalid(format!(
                    "'{id}' is not a {what} id of ours (<clinic>-<provider>)."
                ))
            })
        })
        .transpose()
    }

    async fn run_search(
        state: &AppState,
        c: &Caller,
        kind: &str,
        p: &Params,
    ) -> FhirResult<Vec<Value>> {
        let id = || p.get("_id").map(str::to_string);
        match kind {
            "Appointment" => svc::appointments(state, c, &appointment_query(p)?).await,
            "Slot" => {
                let (slots, service) =
                    svc::free_slots(state, c, &slot_query(state, p).await?).await?;
                Ok(slots
                    .iter()
                    .map(|s| crate::domain::fhir::resources::slot(s, &service.name))
                    .collect())
            }
            "Schedule" => {
                let actor = number(p.reference("actor", "Practitioner")?, "Practitioner")?;
                svc::calendars(
                    state,
                    c,
                    svc::Calendar::Schedule,
                    pair(id(), "Schedule")?,
                    actor,
                )
                .await
            }
            "PractitionerRole" => {
                let who = number(p.reference("practitioner", "Practitioner")?, "Practitioner")?;
                svc::calendars(
                    state,
                    c,
                    svc::Calendar::PractitionerRole,
                    pair(id(), "PractitionerRole")?,
                    who,
                )
                .await
            }
            "Practitioner" => svc::practitioners(state, c, number(id(), "Practitioner")?).await,
            "Patient" => svc::patients(state, c, number(id(), "Patient")?).await,
            "HealthcareService" => {
                svc::healthcare_services(state, c, number(id(), "HealthcareService")?).await
            }
            "Location" => svc::locations(state, c, number(id(), "Location")?).await,
            other => Err(unsupported_kind(other)),
        }
    }

    fn appointment_query(p: &Params) -> FhirResult<AppointmentQuery> {
        let statuses = p
            .codes("status", Some(APPOINTMENT_STATUS_SYSTEM))?
            .iter()
            .map(|s| {
                AppointmentStatus::parse(s).ok_or_else(|| {
                    Refusal::invalid(format!("'{s}' is not an appointment status we use."))
                })
            })
            .collect::<FhirResult<Vec<_>>>()?;
        Ok(AppointmentQuery {
            id: number(p.get("_id").map(str::to_string), "Appointment")?,
            patient: number(p.reference("patient", "Patient")?, "Patient")?,
            practitioner: number(p.reference("practitioner", "Practitioner")?, "Practitioner")?,
            dates: p.dates("date")?,
            statuses,
        })
    }

    /// The `service-type` a Slot search or `$find` needs.
    fn service_of(p: &Params) -> FhirResult<i64> {
        let service = p
            .codes("service-type", Some(crate::domain::fhir::SERVICE_ID_SYSTEM))?
            .first()
            .cloned();
        number(service, "service")?.ok_or_else(|| {
            Refusal::new(
                400,
                "required",
                "Give service-type: free times are as long as the service (see HealthcareService).",
            )
        })
    }

    async fn slot_query(state: &AppState, p: &Params) -> FhirResult<SlotQuery> {
        let service_id = service_of(p)?;
        if p.codes("status", None)?.iter().any(|s| s != "free") {
            return Err(Refusal::invalid(
                "Only free slots are published (status=free).",
            ));
        }
        Ok(SlotQuery {
            service_id,
            schedule: pair(p.reference("schedule", "Schedule")?, "Schedule")?,
            provider: None,
            // Dates without a time are the clinic's days.
            start: bounds_in(
                &p.dates("start")?,
                &svc::service_zone(state, service_id).await?,
            ),
        })
    }

    async fn read(
        State(state): State<AppState>,
        session: Option<Extension<Session>>,
        headers: HeaderMap,
        Path((kind, id)): Path<(String, String)>,
    ) -> Response {
        reply(
            async {
                let c = caller(&state, &headers, session).await?;
                if kind == "Slot" || search_names(&kind).is_empty() {
                    return Err(unsupported_kind(&format!("{kind}/<id> reads")));
                }
                if kind == "Appointment" {
                    return Ok((StatusCode::OK, svc::appointment(&state, &c, &id).await?));
                }
                let pairs = [("_id".to_string(), id.clone())];
                let p = Params::parse(&pairs, &["_id"], &[], Handling::Strict)?;
                // An id that is not one of ours is simply not known.
                let found = run_search(&state, &c, &kind, &p).await.map_err(|e| {
                    if e.status == 400 {
                        svc::not_found(&kind, &id)
                    } else {
                        e
                    }
                })?;
                found
                    .into_iter()
                    .next()
                    .map(|r| (StatusCode::OK, r))
                    .ok_or_else(|| svc::not_found(&kind, &id))
            }
            .await,
        )
    }

    /// How far ahead `$find` looks when not given an `end`: a week of a
    /// clinic's free times fits one answer; the whole horizon may not.
    const FIND_DAYS: i64 = 7;

    /// `$find`'s inputs, from the query string or a Parameters body.
    async fn find_with(
        state: &AppState,
        c: &Caller,
        values: &[(String, String)],
    ) -> FhirResult<(StatusCode, Value)> {
        let known = ["service-type", "practitioner", "start", "end", "patient"];
        let p = Params::parse(values, &known, &[], Handling::Strict)?;
        // `start` from the start of what it names, `end` to the end of it
        // (a date: that whole day of the clinic).
        let service_id = service_of(&p)?;
        let tz = svc::service_zone(state, service_id).await?;
        let bound = |name: &str, end: bool| -> FhirResult<Option<i64>> {
            p.get(name)
                .map(|v| {
                    let d = crate::domain::fhir::DateParam::parse(v)?.in_zone(&tz);
                    Ok(if end { d.hi } else { d.lo })
                })
                .transpose()
        };
        let from = bound("start", false)?.unwrap_or(state.now());
        let to = bound("end", true)?.unwrap_or(from + FIND_DAYS * 86_400);
        let q = SlotQuery {
            service_id,
            schedule: None,
            provider: number(p.reference("practitioner", "Practitioner")?, "Practitioner")?,
            start: Bounds {
                from: Some(from),
                to: Some(to),
            },
        };
        let patient = number(p.reference("patient", "Patient")?, "Patient")?;
        let found = holds::find(state, c, &q, patient).await?;
        let base = base(state);
        let self_url = format!("{base}/Appointment/$find?{}", p.query_string());
        Ok((StatusCode::OK, searchset(&base, &self_url, found, &[])))
    }

    async fn find_get(
        State(state): State<AppState>,
        session: Option<Extension<Session>>,
        headers: HeaderMap,
        uri: Uri,
    ) -> Response {
        reply(
            async {
                let c = caller(&state, &headers, session).await?;
                find_with(&state, &c, &query(&uri)?).await
            }
            .await,
        )
    }

    async fn find_post(
        State(state): State<AppState>,
        session: Option<Extension<Session>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        reply(
            async {
                let c = caller(&state, &headers, session).await?;
                find_with(&state, &c, &Inputs::from_body(&body)?.values).await
            }
            .await,
        )
    }

    async fn hold(
        State(state): State<AppState>,
        session: Option<Extension<Session>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        reply(
            async {
                let c = caller(&state, &headers, session).await?;
                let held = holds::hold(&state, &c, &Inputs::from_body(&body)?).await?;
                Ok((StatusCode::OK, held))
            }
            .await,
        )
    }

    async fn book(
        State(state): State<AppState>,
        session: Option<Extension<Session>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        reply(
            async {
                let c = caller(&state, &headers, session).await?;
                let booked = holds::book(&state, &c, &Inputs::from_body(&body)?).await?;
                Ok((StatusCode::CREATED, booked))
            }
            .await,
        )
    }
}

#[cfg(feature = "ssr")]
pub use handlers::router;
