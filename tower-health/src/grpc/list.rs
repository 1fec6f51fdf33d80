//! `List` (gRFC A90): every service name and its status, in one answer.
//!
//! tonic-health's generated server predates the method, so its messages are written here with
//! prost's derives, as in the current `grpc/health/v1/health.proto`:
//! `HealthListRequest {}` and `HealthListResponse { map<string, HealthCheckResponse> statuses = 1; }`.

use std::collections::HashMap;

use futures_util::future::{BoxFuture, join_all};
use tonic_health::pb::HealthCheckResponse;

use super::{GrpcHealth, response, status_of};
use crate::health::Health;

/// The full path of the method.
pub(super) const LIST_PATH: &str = "/grpc.health.v1.Health/List";

/// More services than this are `RESOURCE_EXHAUSTED`, as the protocol asks.
pub(super) const MAX_LISTED: usize = 100;

/// The request of `List`: no fields.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct HealthListRequest {}

/// The answer of `List`: each service name with what `Check` of that name answers.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct HealthListResponse {
    #[prost(map = "string, message", tag = "1")]
    pub(super) statuses: HashMap<String, HealthCheckResponse>,
}

/// `List` as tonic's unary service.
pub(super) struct List(pub(super) GrpcHealth);

impl tonic::server::UnaryService<HealthListRequest> for List {
    type Response = HealthListResponse;
    type Future = BoxFuture<'static, Result<tonic::Response<HealthListResponse>, tonic::Status>>;

    fn call(&mut self, _: tonic::Request<HealthListRequest>) -> Self::Future {
        let health = self.0.health.clone();
        Box::pin(async move { list(&health).await.map(tonic::Response::new) })
    }
}

/// Every name `Check` knows, `""` first, each with the status `Check` of that name answers.
async fn list(health: &Health) -> Result<HealthListResponse, tonic::Status> {
    let names: Vec<Box<str>> = std::iter::once(Box::from(""))
        .chain(health.registry().names())
        .collect();
    if names.len() > MAX_LISTED {
        return Err(tonic::Status::resource_exhausted(format!(
            "{} services, more than the {MAX_LISTED} that List answers",
            names.len()
        )));
    }
    let statuses = join_all(names.into_iter().map(|name| async move {
        let status = status_of(health, &health.subject(&name)).await;
        (name, status)
    }))
    .await;
    Ok(HealthListResponse {
        statuses: statuses
            .into_iter()
            // A check removed since the names were read is no longer a service.
            .filter_map(|(name, status)| Some((name.into(), response(status?))))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use tonic_health::pb::health_check_response::ServingStatus;

    use super::*;
    use crate::health::{Check, Lifecycle};

    fn statuses(answer: &HealthListResponse) -> Vec<(&str, ServingStatus)> {
        let mut statuses: Vec<_> = answer
            .statuses
            .iter()
            .map(|(name, response)| (name.as_str(), response.status()))
            .collect();
        statuses.sort();
        statuses
    }

    #[tokio::test]
    async fn lists_the_service_every_group_and_every_check_as_check_answers_them() {
        let health = Health::new();
        health.set_lifecycle(Lifecycle::Working);
        health.register(
            Check::new("db", || async { true })
                .readiness()
                .group("database"),
        );
        health.register(Check::new("cache", || async { false }).group("database"));
        let answer = list(&health).await.unwrap();
        use ServingStatus::{NotServing, Serving};
        assert_eq!(
            statuses(&answer),
            [
                ("", NotServing),
                ("cache", NotServing),
                ("database", NotServing),
                ("db", Serving),
                ("live", Serving),
                ("ready", Serving),
                ("startup", Serving),
            ]
        );
    }

    #[tokio::test]
    async fn more_than_a_hundred_services_are_resource_exhausted() {
        let health = Health::new();
        // "" and the three built-in groups make four: 96 checks are 100 services, 97 are 101.
        for index in 0..96 {
            health.register(Check::new(format!("check-{index}"), || async { true }));
        }
        assert_eq!(list(&health).await.unwrap().statuses.len(), MAX_LISTED);
        health.register(Check::new("one-more", || async { true }));
        let error = list(&health).await.unwrap_err();
        assert_eq!(error.code(), tonic::Code::ResourceExhausted);
    }
}
