//! The cProfile analogue: exact call counts and times per `tracing` span name, from a Layer
//! installed as the global default (so rayon workers report too).
//!
//! Per span name: `ncalls` (total, and primitive = not inside an activation of the same name),
//! `tottime` (time in the span minus time in spans entered inside it), `cumtime` (inclusive
//! time of outermost activations only, so recursion is not double counted — cProfile's rule),
//! and per-call figures. A Chrome trace-event file (opens in Perfetto / chrome://tracing) is
//! recorded alongside, capped at [`MAX_TRACE_EVENTS`] events.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use bench_core::{Decimal, to_decimal};
use serde::Serialize;
use tracing::span::Id;
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::ProfileError;

/// Most trace events kept per session (the statistics are always complete).
pub const MAX_TRACE_EVENTS: usize = 500_000;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static MAX_LEVEL: AtomicU8 = AtomicU8::new(2); // 0 trace … 4 error; spans at or above are kept
static GENERATION: AtomicU64 = AtomicU64::new(0);
static EVENTS_KEPT: AtomicU64 = AtomicU64::new(0);
static TABLES: Mutex<Vec<Arc<Mutex<ThreadTable>>>> = Mutex::new(Vec::new());
static EPOCH: OnceLock<Instant> = OnceLock::new();
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

fn level_rank(l: &Level) -> u8 {
    match *l {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        Level::WARN => 3,
        Level::ERROR => 4,
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    ncalls: u64,
    primitive: u64,
    tottime_ns: u64,
    cumtime_ns: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TraceEvent {
    name: &'static str,
    start_ns: u64,
    dur_ns: u64,
}

#[derive(Debug, Default)]
struct ThreadTable {
    generation: u64,
    tid: u64,
    thread: String,
    stats: HashMap<&'static str, Stats>,
    events: Vec<TraceEvent>,
}

struct Frame {
    id: u64,
    name: &'static str,
    start: Instant,
    child_ns: u64,
    recursive: bool,
}

struct Local {
    table: Arc<Mutex<ThreadTable>>,
    stack: Vec<Frame>,
    generation: u64,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

static NEXT_TID: AtomicU64 = AtomicU64::new(1);

fn with_local<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    LOCAL
        .try_with(|cell| {
            let mut slot = cell.borrow_mut();
            let generation = GENERATION.load(Relaxed);
            if slot.as_ref().is_none_or(|l| l.generation != generation) {
                let table = Arc::new(Mutex::new(ThreadTable {
                    generation,
                    tid: NEXT_TID.fetch_add(1, Relaxed),
                    thread: std::thread::current().name().unwrap_or("unnamed").to_owned(),
                    ..Default::default()
                }));
                TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Arc::clone(&table));
                *slot = Some(Local { table, stack: Vec::new(), generation });
            }
            f(slot.as_mut().expect("set above"))
        })
        .ok()
}

/// The Layer that feeds the span profile. Installed once per process by [`install`].
#[derive(Debug, Default)]
pub struct SpanLayer;

impl<S> Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if metadata.is_span() {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        ACTIVE.load(Relaxed) && metadata.is_span() && level_rank(metadata.level()) >= MAX_LEVEL.load(Relaxed)
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !ACTIVE.load(Relaxed) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let name = span.metadata().name();
        with_local(|l| {
            let recursive = l.stack.iter().any(|f| f.name == name);
            l.stack.push(Frame { id: id.into_u64(), name, start: Instant::now(), child_ns: 0, recursive });
        });
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let end = Instant::now();
        with_local(|l| {
            let Some(top) = l.stack.last() else { return };
            if top.id != id.into_u64() {
                return;
            }
            let f = l.stack.pop().expect("non-empty");
            let elapsed = (end - f.start).as_nanos() as u64;
            if let Some(parent) = l.stack.last_mut() {
                parent.child_ns += elapsed;
            }
            let epoch = *EPOCH.get_or_init(Instant::now);
            let mut t = l.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let s = t.stats.entry(f.name).or_default();
            s.ncalls += 1;
            s.tottime_ns += elapsed.saturating_sub(f.child_ns);
            if !f.recursive {
                s.primitive += 1;
                s.cumtime_ns += elapsed;
            }
            if (EVENTS_KEPT.fetch_add(1, Relaxed) as usize) < MAX_TRACE_EVENTS {
                t.events.push(TraceEvent {
                    name: f.name,
                    start_ns: f.start.saturating_duration_since(epoch).as_nanos() as u64,
                    dur_ns: elapsed,
                });
            }
        });
    }
}

/// Installs the span layer as the process's global `tracing` subscriber (once; later calls are
/// no-ops). Fails when another global subscriber was installed first.
pub fn install() -> Result<(), ProfileError> {
    INSTALLED
        .get_or_init(|| {
            use tracing_subscriber::layer::SubscriberExt;
            let subscriber = tracing_subscriber::registry().with(SpanLayer);
            tracing::subscriber::set_global_default(subscriber).map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| {
            ProfileError::Profiler(format!(
                "cannot install the span profiler as the global tracing subscriber: {e}"
            ))
        })
}

/// Span statistics of one name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanRow {
    /// Span name.
    pub function: String,
    /// Calls (entries into the span).
    pub ncalls: u64,
    /// Calls that were not inside an activation of the same span.
    pub primitive_calls: u64,
    /// Time in the span itself, excluding spans entered inside it, seconds.
    pub tottime_s: Decimal,
    /// `tottime / ncalls`, seconds.
    pub tottime_percall_s: Decimal,
    /// Inclusive time of outermost activations, seconds.
    pub cumtime_s: Decimal,
    /// `cumtime / primitive_calls`, seconds.
    pub cumtime_percall_s: Decimal,
    /// Raw tottime in nanoseconds (summed over threads).
    pub tottime_ns: u64,
    /// Raw cumtime in nanoseconds (summed over threads).
    pub cumtime_ns: u64,
}

/// A finished span profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanProfile {
    /// Wall time of the session, nanoseconds.
    pub wall_ns: u64,
    /// Rows by cumtime, descending.
    pub rows: Vec<SpanRow>,
    /// Trace events recorded.
    pub trace_events: usize,
    /// Trace events dropped beyond the cap.
    pub trace_events_dropped: u64,
    /// Threads that entered a span.
    pub threads: usize,
    #[serde(skip)]
    chrome: Vec<(u64, String, TraceEvent)>,
}

/// Runs `f` with span recording on, keeping spans at `min_level` or above (INFO keeps the
/// default instrumentation; TRACE adds the per-bar detail spans, at a much higher cost).
pub fn profile_spans<T>(f: impl FnOnce() -> T, min_level: Level) -> Result<(T, SpanProfile), ProfileError> {
    install()?;
    GENERATION.fetch_add(1, Relaxed);
    TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    EVENTS_KEPT.store(0, Relaxed);
    EPOCH.get_or_init(Instant::now);
    MAX_LEVEL.store(level_rank(&min_level), Relaxed);
    tracing::callsite::rebuild_interest_cache();
    let t0 = Instant::now();
    ACTIVE.store(true, Relaxed);
    let out = f();
    ACTIVE.store(false, Relaxed);
    let wall_ns = t0.elapsed().as_nanos() as u64;
    let tables: Vec<Arc<Mutex<ThreadTable>>> =
        std::mem::take(&mut *TABLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    let generation = GENERATION.load(Relaxed);
    let mut merged: HashMap<&'static str, Stats> = HashMap::new();
    let mut chrome = Vec::new();
    let mut threads = 0;
    for t in &tables {
        let t = t.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if t.generation != generation {
            continue;
        }
        threads += 1;
        for (name, s) in &t.stats {
            let m = merged.entry(name).or_default();
            m.ncalls += s.ncalls;
            m.primitive += s.primitive;
            m.tottime_ns += s.tottime_ns;
            m.cumtime_ns += s.cumtime_ns;
        }
        chrome.extend(t.events.iter().map(|e| (t.tid, t.thread.clone(), *e)));
    }
    let d = |ns: f64| to_decimal((ns / 1e9 * 1e9).round() / 1e9).unwrap_or(Decimal::ZERO);
    let mut rows: Vec<SpanRow> = merged
        .into_iter()
        .map(|(name, s)| SpanRow {
            function: name.to_owned(),
            ncalls: s.ncalls,
            primitive_calls: s.primitive,
            tottime_s: d(s.tottime_ns as f64),
            tottime_percall_s: d(s.tottime_ns as f64 / s.ncalls.max(1) as f64),
            cumtime_s: d(s.cumtime_ns as f64),
            cumtime_percall_s: d(s.cumtime_ns as f64 / s.primitive.max(1) as f64),
            tottime_ns: s.tottime_ns,
            cumtime_ns: s.cumtime_ns,
        })
        .collect();
    rows.sort_by(|a, b| b.cumtime_ns.cmp(&a.cumtime_ns).then(a.function.cmp(&b.function)));
    let kept = EVENTS_KEPT.load(Relaxed);
    Ok((
        out,
        SpanProfile {
            wall_ns,
            rows,
            trace_events: chrome.len(),
            trace_events_dropped: kept.saturating_sub(MAX_TRACE_EVENTS as u64),
            threads,
            chrome,
        },
    ))
}

impl SpanProfile {
    /// A profile from rows measured elsewhere (no trace events), e.g. read back from
    /// `_spans.json` or built for a report test.
    pub fn from_rows(wall_ns: u64, threads: usize, rows: Vec<SpanRow>) -> Self {
        Self { wall_ns, rows, trace_events: 0, trace_events_dropped: 0, threads, chrome: Vec::new() }
    }

    /// The row of a span name.
    pub fn row(&self, name: &str) -> Option<&SpanRow> {
        self.rows.iter().find(|r| r.function == name)
    }

    /// A pstats-like text table.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let total: u64 = self.rows.iter().map(|r| r.ncalls).sum();
        let _ = writeln!(
            s,
            "         {total} span calls in {} of wall time on {} thread{}",
            bench_core::units::duration_ns(self.wall_ns),
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        );
        let _ = writeln!(
            s,
            "         tottime and cumtime are seconds of thread time summed over every thread, so they can exceed the wall time"
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "   Ordered by: cumulative time");
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:>12} {:>10} {:>10} {:>10} {:>10}  function",
            "ncalls", "tottime", "percall", "cumtime", "percall"
        );
        for r in &self.rows {
            let calls = if r.primitive_calls == r.ncalls {
                r.ncalls.to_string()
            } else {
                format!("{}/{}", r.ncalls, r.primitive_calls)
            };
            let _ = writeln!(
                s,
                "{calls:>12} {:>10.4} {:>10.6} {:>10.4} {:>10.6}  {}",
                r.tottime_ns as f64 / 1e9,
                r.tottime_ns as f64 / 1e9 / r.ncalls.max(1) as f64,
                r.cumtime_ns as f64 / 1e9,
                r.cumtime_ns as f64 / 1e9 / r.primitive_calls.max(1) as f64,
                r.function
            );
        }
        s
    }

    /// Chrome trace-event JSON (complete events, microseconds), for Perfetto.
    pub fn to_chrome_trace(&self) -> serde_json::Value {
        let mut events: Vec<serde_json::Value> = Vec::with_capacity(self.chrome.len() + 8);
        let mut named = std::collections::BTreeMap::new();
        for (tid, thread, e) in &self.chrome {
            named.entry(*tid).or_insert_with(|| thread.clone());
            events.push(serde_json::json!({
                "name": e.name, "cat": "span", "ph": "X", "pid": 1, "tid": tid,
                "ts": e.start_ns as f64 / 1e3, "dur": e.dur_ns as f64 / 1e3,
            }));
        }
        for (tid, thread) in named {
            events.push(serde_json::json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": tid, "args": {"name": thread}}));
        }
        serde_json::json!({ "traceEvents": events, "displayTimeUnit": "ms" })
    }
}
