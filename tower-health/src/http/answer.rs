//! How an [`Endpoint`] answers a request: maintenance first, then the parameters, the
//! evaluation of what the path selects, and the format.
//!
//! A rendered answer is kept and served again, without evaluating or rendering, while nothing
//! it is made of has changed: the registry's generation (bumped by every stored result, state,
//! maintenance and registry change) is the one it was rendered at, and every result in it is
//! still fresh. It is kept per request variant (the path's group and check, whether details are
//! shown, verbose, whether checks run), so one request's details never reach another.

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use http::{Method, Response, StatusCode};

use super::body::Payload;
use super::request::{HealthRequest, Params};
use super::response::{Written, response};
use super::routes::{Answering, Handler};
use crate::endpoint::{Endpoint, Methods, RunChecks};
use crate::format::{Answer, Outcome, Rendered};
use crate::health::{
    Exposure, Gate, Health, Lifecycle, Report, Selection, Status, Subject, Validity,
};
use crate::metrics::RequestCounts;

/// An endpoint, as a route's handler, and where its answers are counted.
pub(crate) struct EndpointHandler {
    endpoint: Endpoint,
    requests: Option<Arc<RequestCounts>>,
    reusable: Mutex<Vec<Reusable>>,
}

/// At most this many request variants are kept per endpoint (a few in practice: the groups and
/// checks of a group route, details shown or not).
const MAX_REUSABLE: usize = 32;

/// What one request asks of its endpoint, decided before anything is awaited.
struct Prepared {
    selection: Selection,
    maintenance: bool,
    params: Params,
    exposure: Exposure,
    head: bool,
    /// The request's parameters may still come in a form body.
    reads_form: bool,
}

/// The parts of a request an answer depends on, besides the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Variant {
    subject: Subject,
    only: Option<Box<str>>,
    exposure: Exposure,
    verbose: bool,
    run_checks: bool,
}

impl Variant {
    /// Whether `prepared` asks for this variant (compared in place: a lookup clones nothing).
    fn is_of(&self, prepared: &Prepared) -> bool {
        let selection = &prepared.selection;
        self.subject == selection.subject
            && self.only == selection.only
            && self.exposure == prepared.exposure
            && self.verbose == prepared.params.verbose
            && self.run_checks == selection.run_checks
    }
}

/// A rendered answer and what it was made of.
struct Reusable {
    variant: Variant,
    validity: Validity,
    written: Written,
    /// For the format's per-answer log.
    report: Arc<Report>,
    status_code: StatusCode,
}

impl Handler for EndpointHandler {
    fn methods(&self) -> &Methods {
        &self.endpoint.methods
    }

    fn no_log(&self) -> bool {
        self.endpoint.no_log
    }

    fn requests(&self) -> Option<&RequestCounts> {
        self.requests.as_deref()
    }

    /// Only a form may carry parameters, and only an endpoint that runs its checks on request
    /// reads them.
    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        matches!(self.endpoint.run_checks, RunChecks::WhenParam { .. })
            && HealthRequest::is_form(parts)
    }

    fn handle(self: Arc<Self>, health: &Health, request: HealthRequest) -> Answering {
        let prepared = self.prepare(health, &request);
        if prepared.maintenance && health.in_maintenance() {
            // Maintenance wins over everything: answered before waiting on a form body.
            return Answering::Ready(self.answer_maintenance(health, &prepared));
        }
        if let Some(response) = self.reuse(health, &prepared) {
            return Answering::Ready(response);
        }
        Answering::Pending(self.answer(health.clone(), request, prepared))
    }
}

impl EndpointHandler {
    pub(crate) fn new(endpoint: Endpoint, requests: Option<Arc<RequestCounts>>) -> Self {
        EndpointHandler {
            endpoint,
            requests,
            reusable: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Where its answers are counted, if they are.
    pub(crate) fn counts(&self) -> Option<&Arc<RequestCounts>> {
        self.requests.as_ref()
    }

    fn prepare(&self, health: &Health, request: &HealthRequest) -> Prepared {
        let endpoint = &self.endpoint;
        let mut params = Params::default();
        params.read(endpoint, request.parts.uri.query().unwrap_or("").as_bytes());
        let (mut selection, maintenance) = self.selection(health, request);
        let reads_form = matches!(endpoint.run_checks, RunChecks::WhenParam { .. })
            && params.run_checks.is_none()
            && request.body.is_some();
        selection.run_checks = self.runs_checks(&params);
        selection.exclude = std::mem::take(&mut params.exclude);
        Prepared {
            selection,
            maintenance,
            params,
            exposure: endpoint.exposure.level_for(&request.parts),
            head: request.parts.method == Method::HEAD,
            reads_form,
        }
    }

    fn runs_checks(&self, params: &Params) -> bool {
        match self.endpoint.run_checks {
            RunChecks::Always => true,
            RunChecks::Never => false,
            RunChecks::WhenParam { .. } => params.run_checks.unwrap_or(false),
        }
    }

    /// What the request evaluates, and whether maintenance mode answers it. A group named by
    /// the path replaces the endpoint's subject; a check named by the path narrows it to that
    /// name and, being a part, is ungated. The endpoint's own gate and maintenance settings
    /// win over both.
    fn selection(&self, health: &Health, request: &HealthRequest) -> (Selection, bool) {
        let endpoint = &self.endpoint;
        let subject = match &request.group {
            Some(group) => Subject::Group(group.clone()),
            None => endpoint.subject.clone(),
        };
        // One look at the group's declaration for both its gate and its maintenance.
        let (gate, mut maintenance) = health.registry().gate_of(&subject);
        let mut selection = Selection::gated(subject, gate);
        if let Some(check) = &request.check {
            selection.only = Some(check.clone());
            selection.gate = Gate::None;
            maintenance = false;
        }
        if let Some(gate) = endpoint.gate {
            selection.gate = gate;
        }
        (selection, endpoint.maintenance.unwrap_or(maintenance))
    }

    /// Writes `answer` with the endpoint's format, logging it where the format does.
    fn render(&self, answer: &Answer<'_>) -> Rendered {
        // Logs have every name; at status-only the format never sees one.
        self.endpoint.format.log(answer);
        let mut rendered = match (answer.exposure, answer.outcome) {
            (Exposure::StatusOnly, Outcome::Report(report)) => {
                let without_names = report.without_names();
                self.endpoint.format.render(&Answer {
                    outcome: Outcome::Report(&without_names),
                    ..*answer
                })
            }
            _ => self.endpoint.format.render(answer),
        };
        if answer.status == Status::Warn && matches!(answer.outcome, Outcome::Report(_)) {
            rendered.headers.extend(self.endpoint.warn_headers.clone());
        }
        rendered
    }

    fn answer_maintenance(&self, health: &Health, prepared: &Prepared) -> Response<Payload> {
        let code = self.endpoint.codes.maintenance;
        // The body agrees with the code: a failing code fails (health+json's `fail` is 4xx-5xx),
        // a 2xx one (pyramid_health's 299) warns.
        let status = if code.is_client_error() || code.is_server_error() {
            Status::Fail
        } else {
            Status::Warn
        };
        let rendered = self.render(&Answer {
            outcome: Outcome::Maintenance,
            status,
            status_code: code,
            state: health.lifecycle(),
            exposure: prepared.exposure,
            verbose: prepared.params.verbose,
        });
        response(rendered, prepared.head)
    }

    /// Whether the answer to a request can be kept: it excludes nothing, has all its parameters
    /// already, and its format writes the same answer the same.
    fn can_keep(&self, prepared: &Prepared) -> bool {
        self.endpoint.format.reusable()
            && prepared.selection.exclude.is_empty()
            && !prepared.reads_form
    }

    /// The variant a kept answer to this request is kept as.
    fn variant(prepared: &Prepared) -> Variant {
        let selection = &prepared.selection;
        Variant {
            subject: selection.subject.clone(),
            only: selection.only.clone(),
            exposure: prepared.exposure,
            verbose: prepared.params.verbose,
            run_checks: selection.run_checks,
        }
    }

    /// The kept answer of this request's variant, when nothing it is made of has changed.
    fn reuse(&self, health: &Health, prepared: &Prepared) -> Option<Response<Payload>> {
        if !self.can_keep(prepared) {
            return None;
        }
        let generation = health.registry().generation();
        let reusable = self.reusable.lock().unwrap_or_else(|e| e.into_inner());
        let kept = reusable.iter().find(|kept| kept.variant.is_of(prepared))?;
        if !kept.validity.holds(generation) {
            return None;
        }
        let response = kept.written.to_response(prepared.head);
        let (report, status_code) = (kept.report.clone(), kept.status_code);
        drop(reusable);
        // The format still sees every answer it would log.
        self.endpoint.format.log(&Answer {
            outcome: Outcome::Report(&report),
            status: report.status,
            status_code,
            state: report.state,
            exposure: prepared.exposure,
            verbose: prepared.params.verbose,
        });
        Some(response)
    }

    fn keep(&self, kept: Reusable) {
        let mut reusable = self.reusable.lock().unwrap_or_else(|e| e.into_inner());
        reusable.retain(|old| old.variant != kept.variant);
        if reusable.len() >= MAX_REUSABLE {
            reusable.remove(0);
        }
        reusable.push(kept);
    }

    fn answer(
        self: Arc<Self>,
        health: Health,
        request: HealthRequest,
        mut prepared: Prepared,
    ) -> BoxFuture<'static, Response<Payload>> {
        Box::pin(async move {
            let endpoint = &self.endpoint;
            let check = request.check.clone();
            if prepared.reads_form {
                if let Some(form) = request.read_form().await {
                    prepared.params.read(endpoint, &form);
                    prepared.selection.run_checks = self.runs_checks(&prepared.params);
                    prepared.selection.exclude = std::mem::take(&mut prepared.params.exclude);
                }
            }
            // Read before evaluating: a change during the evaluation makes the answer stale.
            let generation = health.registry().generation();
            let Some(report) = health.evaluate_selection(&prepared.selection).await else {
                let rendered = self.render(&Answer {
                    outcome: Outcome::UnknownCheck(check.as_deref().unwrap_or_default()),
                    status: Status::Fail,
                    status_code: endpoint.codes.unknown_check,
                    state: health.lifecycle(),
                    exposure: prepared.exposure,
                    verbose: prepared.params.verbose,
                });
                return response(rendered, prepared.head);
            };
            let status_code = match endpoint.codes.errored {
                Some(code) if report.errored() => code,
                _ => endpoint.codes.for_status(report.status),
            };
            let state: Lifecycle = report.state;
            let rendered = self.render(&Answer {
                outcome: Outcome::Report(&report),
                status: report.status,
                status_code,
                state,
                exposure: prepared.exposure,
                verbose: prepared.params.verbose,
            });
            let validity = Validity::new(generation, &report);
            let written = Written::new(rendered);
            if validity.fresh() && self.can_keep(&prepared) {
                self.keep(Reusable {
                    variant: Self::variant(&prepared),
                    validity,
                    written: written.clone(),
                    report: Arc::new(report),
                    status_code,
                });
            }
            written.into_response(prepared.head)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use http::Request;
    use http_body_util::BodyExt;
    use tower::{Layer, Service, ServiceExt};

    use crate::{Check, ExposurePolicy, HealthLayer};

    use super::*;

    /// The layer around an inner service that must never be called.
    fn service(
        layer: HealthLayer,
    ) -> impl Service<
        Request<String>,
        Response = Response<crate::HealthBody<String>>,
        Error = Infallible,
    > + Clone {
        layer.layer(tower::service_fn(|_: Request<String>| async {
            unreachable!("health paths never reach the inner service")
        }))
    }

    async fn get(
        service: &(
             impl Service<
            Request<String>,
            Response = Response<crate::HealthBody<String>>,
            Error = Infallible,
        > + Clone
         ),
        path: &str,
        token: bool,
    ) -> (u16, String) {
        let mut request = Request::get(path);
        if token {
            request = request.header("x-token", "yes");
        }
        let response = service
            .clone()
            .oneshot(request.body(String::new()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// A check counting its runs, passing while `up` is set, cached for `ttl`.
    fn counted(ttl: Duration) -> (Check, Arc<AtomicUsize>, Arc<AtomicBool>) {
        let (runs, up) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(true)),
        );
        let (counter, flag) = (runs.clone(), up.clone());
        let check = Check::new("db", move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let up = flag.load(Ordering::SeqCst);
            async move {
                if up {
                    Ok(())
                } else {
                    Err("connection refused")
                }
            }
        })
        .cache(ttl);
        (check, runs, up)
    }

    #[tokio::test(start_paused = true)]
    async fn a_kept_answer_never_outlives_its_results() {
        let health = Health::new();
        let (check, runs, up) = counted(Duration::from_secs(10));
        health.register(check);
        let service = service(HealthLayer::new().health(health));
        assert_eq!(get(&service, "/health/ready", false).await.0, 200);
        assert_eq!(get(&service, "/health/ready", false).await.0, 200);
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "the second answer reused the first"
        );
        up.store(false, Ordering::SeqCst);
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(
            get(&service, "/health/ready", false).await.0,
            200,
            "still fresh"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            get(&service, "/health/ready", false).await.0,
            503,
            "stale: ran again"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_state_flip_maintenance_or_a_new_check_is_answered_at_once() {
        let health = Health::new();
        let (check, _, _) = counted(Duration::from_secs(3600));
        health.register(check);
        let service = service(HealthLayer::new().health(health.clone()));
        assert_eq!(get(&service, "/health/ready", false).await.0, 200);
        health.set_lifecycle(Lifecycle::WarmingUp);
        assert_eq!(get(&service, "/health/ready", false).await.0, 503);
        health.set_lifecycle(Lifecycle::Working);
        assert_eq!(get(&service, "/health/ready", false).await.0, 200);
        health.set_maintenance(true);
        let (code, body) = get(&service, "/health/ready", false).await;
        assert_eq!((code, body.contains("maintenance")), (503, true), "{body}");
        health.set_maintenance(false);
        assert_eq!(get(&service, "/health/ready", false).await.0, 200);
        health.register(Check::new("queue", || async { false }));
        assert_eq!(get(&service, "/health/ready", false).await.0, 503);
        assert!(health.deregister("queue"));
        assert_eq!(get(&service, "/health/ready", false).await.0, 200);
    }

    #[tokio::test]
    async fn one_requests_details_never_reach_another() {
        let health = Health::new();
        let (check, runs, up) = counted(Duration::from_secs(3600));
        up.store(false, Ordering::SeqCst);
        health.register(check);
        let layer = HealthLayer::new().health(health).exposure(
            ExposurePolicy::new(Exposure::Names).when(Exposure::Messages, |request| {
                request.headers.contains_key("x-token")
            }),
        );
        let service = service(layer);
        for token in [true, false, true, false] {
            let (status, body) = get(&service, "/health/ready", token).await;
            assert_eq!(status, 503);
            assert_eq!(body.contains("connection refused"), token, "{body}");
        }
        let (_, one) = get(&service, "/health/ready/db", true).await;
        let (_, group) = get(&service, "/health/ready", true).await;
        assert!(one.contains("connection refused") && group.contains("connection refused"));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn background_results_replace_the_kept_answer() {
        let health = Health::new();
        let up = Arc::new(AtomicBool::new(true));
        let flag = up.clone();
        health.register(
            Check::new("worker", move || {
                let up = flag.load(Ordering::SeqCst);
                async move { up }
            })
            .background(Duration::from_millis(1)),
        );
        let service = service(HealthLayer::new().health(health.clone()));
        let mut watch = health.watch(Subject::check("worker"));
        watch
            .wait_for(|status| *status == Some(Status::Pass))
            .await
            .unwrap();
        assert_eq!(get(&service, "/health/ready", false).await.0, 200);
        up.store(false, Ordering::SeqCst);
        watch
            .wait_for(|status| *status == Some(Status::Fail))
            .await
            .unwrap();
        assert_eq!(get(&service, "/health/ready", false).await.0, 503);
    }
}
