//! How much of a report an answer shows: an [`Exposure`] level.

/// How much of what the checks found an answer shows. Each level shows what the one before it
/// does, and more; logs always have everything, whatever the level.
///
/// What whoever can reach the endpoint learns at each level (the
/// [`ExposurePolicy`](crate::ExposurePolicy) guide has what each format shows):
///
/// - [`Exposure::StatusOnly`]: the aggregate status (and so the HTTP code) and the lifecycle
///   state's note (`warming up`, `maintenance`): whether the service is up, not what it
///   depends on. No check name appears in any body or header, in any format.
/// - [`Exposure::Names`] (the default): also the name, status, time, component type and
///   measurements (observed value and unit, a heartbeat check's data) of each check. Names tell
///   an attacker which dependencies the service has and which one is down (`payments-postgres`);
///   name checks accordingly where the endpoint is public.
/// - [`Exposure::Messages`]: also the message of every check that is not passing: error texts
///   that often carry hostnames, ports, IP addresses, user names, library versions and file
///   paths. Only for requests that [`ExposurePolicy::when`](crate::ExposurePolicy::when) authorizes, or endpoints nobody outside
///   the cluster can reach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Exposure {
    /// The aggregate status only: no check names.
    StatusOnly,
    /// Check names and statuses, without messages (the default).
    #[default]
    Names,
    /// Check names, statuses and the messages of checks that are not passing.
    Messages,
}
