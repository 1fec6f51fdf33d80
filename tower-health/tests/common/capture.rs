//! Captures `tracing` events and spans in memory, for assertions on what is logged.
#![allow(dead_code)]

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, Once};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as Values};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

/// One captured event (or a span's creation, with `span` set to its name).
#[derive(Clone, Debug)]
pub struct Record {
    pub level: Level,
    pub target: String,
    pub span: Option<String>,
    /// A span's parent span's name (`None` for a root span and for events).
    pub parent: Option<String>,
    /// A span's id, for the fields recorded after its creation.
    pub id: Option<u64>,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

impl Record {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<Record>>>);

impl Captured {
    pub fn records(&self) -> Vec<Record> {
        self.0.lock().unwrap().clone()
    }

    /// Events (not spans) with this message.
    pub fn events(&self, message: &str) -> Vec<Record> {
        self.records()
            .into_iter()
            .filter(|r| r.span.is_none() && r.message == message)
            .collect()
    }

    /// Spans created with this name.
    pub fn spans(&self, name: &str) -> Vec<Record> {
        self.records()
            .into_iter()
            .filter(|r| r.span.as_deref() == Some(name))
            .collect()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields
                .push((field.name().to_owned(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

thread_local! {
    static TARGET: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Routes each event to the capture of the thread it happens on.
struct CaptureLayer;

/// What a span adds to its record.
struct SpanInfo {
    name: String,
    parent: Option<String>,
    id: u64,
}

/// Adds a record to the captured records of this thread, if it captures.
fn push(metadata: &tracing::Metadata<'_>, span: Option<SpanInfo>, fields: Fields) {
    let Some(captured) = TARGET.with(|target| target.borrow().clone()) else {
        return;
    };
    let (span, parent, id) = match span {
        Some(info) => (Some(info.name), info.parent, Some(info.id)),
        None => (None, None, None),
    };
    captured.0.lock().unwrap().push(Record {
        level: *metadata.level(),
        target: metadata.target().to_owned(),
        span,
        parent,
        id,
        message: fields.message,
        fields: fields.fields,
    });
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        push(event.metadata(), None, fields);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let parent = match attrs.parent() {
            Some(parent) => ctx.span(parent),
            None if attrs.is_contextual() => ctx.lookup_current(),
            None => None,
        };
        let info = SpanInfo {
            name: attrs.metadata().name().to_owned(),
            parent: parent.map(|span| span.name().to_owned()),
            id: id.into_u64(),
        };
        push(attrs.metadata(), Some(info), fields);
    }

    fn on_record(&self, id: &Id, values: &Values<'_>, _ctx: Context<'_, S>) {
        let Some(captured) = TARGET.with(|target| target.borrow().clone()) else {
            return;
        };
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut records = captured.0.lock().unwrap();
        if let Some(record) = records
            .iter_mut()
            .rev()
            .find(|r| r.id == Some(id.into_u64()))
        {
            record.fields.extend(fields.fields);
        }
    }
}

/// Stops capturing on this thread when dropped.
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        TARGET.with(|target| target.borrow_mut().take());
    }
}

/// Captures everything logged on this thread until the guard drops.
///
/// Use it in a current-thread runtime (the `#[tokio::test]` default) so that servers spawned by
/// the test run on the same thread and log into the capture too. One global subscriber routes by
/// thread: per-thread default subscribers race with tracing's callsite interest cache when tests
/// run in parallel, and then lose events.
pub fn capture() -> (Captured, CaptureGuard) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = Registry::default().with(CaptureLayer);
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
    let captured = Captured::default();
    TARGET.with(|target| *target.borrow_mut() = Some(captured.clone()));
    (captured, CaptureGuard(()))
}
