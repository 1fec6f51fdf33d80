//! How an [`Endpoint`] answers a request: maintenance first, then the parameters, the
//! evaluation of what the path selects, and the format.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use http::{Method, Response};

use super::body::Payload;
use super::request::{HealthRequest, Params};
use super::response::response;
use super::routes::Handler;
use crate::endpoint::{Endpoint, Methods, RunChecks};
use crate::format::{Answer, Outcome};
use crate::health::{Gate, Health, Selection, State, Status};

/// An endpoint, as a route's handler.
pub(crate) struct EndpointHandler(pub(crate) Endpoint);

impl Handler for EndpointHandler {
    fn methods(&self) -> &Methods {
        &self.0.methods
    }

    fn no_log(&self) -> bool {
        self.0.no_log
    }

    fn handle(
        self: Arc<Self>,
        health: Health,
        request: HealthRequest,
    ) -> BoxFuture<'static, Response<Payload>> {
        Box::pin(async move { self.answer(&health, request).await })
    }
}

impl EndpointHandler {
    async fn answer(&self, health: &Health, request: HealthRequest) -> Response<Payload> {
        let endpoint = &self.0;
        let head = request.parts.method == Method::HEAD;
        let show_details = endpoint.details.allows(&request.parts);
        let mut params = Params::default();
        params.read(endpoint, request.parts.uri.query().unwrap_or("").as_bytes());
        let (mut selection, maintenance) = self.selection(health, &request);
        let answer = |outcome, status, status_code, state: State, verbose| {
            let answer = Answer {
                outcome,
                status,
                status_code,
                state,
                show_details,
                verbose,
            };
            endpoint.format.log(&answer);
            response(endpoint.format.render(&answer), head)
        };

        // Maintenance wins over everything: answered before waiting on a form body.
        if maintenance && health.in_maintenance() {
            return answer(
                Outcome::Maintenance,
                Status::Warn,
                endpoint.codes.maintenance,
                health.state(),
                params.verbose,
            );
        }
        let check = request.check.clone();
        let wants_form = matches!(endpoint.run_checks, RunChecks::WhenParam { .. })
            && params.run_checks.is_none()
            && request.is_form();
        if wants_form {
            if let Some(form) = request.read_form().await {
                params.read(endpoint, &form);
            }
        }
        selection.run_checks = match endpoint.run_checks {
            RunChecks::Always => true,
            RunChecks::Never => false,
            RunChecks::WhenParam { .. } => params.run_checks.unwrap_or(false),
        };
        selection.exclude = params.exclude;
        let Some(report) = health.evaluate_selection(&selection).await else {
            return answer(
                Outcome::UnknownCheck(check.as_deref().unwrap_or_default()),
                Status::Fail,
                endpoint.codes.unknown_check,
                health.state(),
                params.verbose,
            );
        };
        let status_code = match endpoint.codes.errored {
            Some(code) if report.errored() => code,
            _ => endpoint.codes.for_status(report.status),
        };
        let mut response = answer(
            Outcome::Report(&report),
            report.status,
            status_code,
            report.state,
            params.verbose,
        );
        if report.status == Status::Warn {
            response.headers_mut().extend(endpoint.warn_headers.clone());
        }
        response
    }

    /// What the request evaluates, and whether maintenance mode answers it. A group named by
    /// the path replaces the endpoint's subject; a check named by the path narrows it to that
    /// name and, being a part, is ungated. The endpoint's own gate and maintenance settings
    /// win over both.
    fn selection(&self, health: &Health, request: &HealthRequest) -> (Selection, bool) {
        let endpoint = &self.0;
        let subject = match &request.group {
            Some(group) => crate::Subject::group(&**group),
            None => endpoint.subject.clone(),
        };
        let mut selection = Selection::of(health.registry(), subject);
        let (_, mut maintenance) = health.registry().gate_of(&selection.subject);
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
}
