//! Which methods an endpoint answers: a short list, `OPTIONS` answered with `Allow` where the
//! list has it, or any method.

use http::Method;
use http::header::HeaderValue;

/// Which methods an endpoint answers; others get 405 with `Allow`.
#[derive(Clone, Debug)]
pub(crate) struct Methods {
    allowed: Vec<Method>,
    any: bool,
    options: bool,
    allow: HeaderValue,
}

pub(crate) enum MethodDecision {
    Answer,
    Options,
    NotAllowed,
}

impl Methods {
    /// `GET` and `HEAD` (the default).
    pub(crate) fn get_head() -> Self {
        Self::only([Method::GET, Method::HEAD])
    }

    /// Every method is answered like `GET` (`HEAD` still gets no body).
    pub(crate) fn any() -> Self {
        let mut methods = Self::get_head();
        methods.any = true;
        methods
    }

    /// Exactly these methods; `OPTIONS` among them is answered with 200 and `Allow`.
    pub(crate) fn only(methods: impl IntoIterator<Item = Method>) -> Self {
        let allowed: Vec<Method> = methods.into_iter().collect();
        let options = allowed.contains(&Method::OPTIONS);
        let list = allowed
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        Methods {
            allow: HeaderValue::from_str(&list).unwrap_or(HeaderValue::from_static("GET, HEAD")),
            allowed,
            any: false,
            options,
        }
    }

    pub(crate) fn decide(&self, method: &Method) -> MethodDecision {
        if self.options && method == Method::OPTIONS {
            MethodDecision::Options
        } else if self.any || self.allowed.contains(method) {
            MethodDecision::Answer
        } else {
            MethodDecision::NotAllowed
        }
    }

    pub(crate) fn allow(&self) -> &HeaderValue {
        &self.allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_decide_and_list_allow() {
        let methods = Methods::get_head();
        assert!(matches!(
            methods.decide(&Method::GET),
            MethodDecision::Answer
        ));
        assert!(matches!(
            methods.decide(&Method::POST),
            MethodDecision::NotAllowed
        ));
        assert!(matches!(
            methods.decide(&Method::OPTIONS),
            MethodDecision::NotAllowed
        ));
        assert_eq!(methods.allow(), "GET, HEAD");
        let options = Methods::only([Method::GET, Method::HEAD, Method::OPTIONS]);
        assert!(matches!(
            options.decide(&Method::OPTIONS),
            MethodDecision::Options
        ));
        assert_eq!(options.allow(), "GET, HEAD, OPTIONS");
        assert!(matches!(
            Methods::any().decide(&Method::DELETE),
            MethodDecision::Answer
        ));
    }
}
