//! Supervisor review benchmarks (issue 5; DESIGN 9: a key press handled and the frame rendered
//! in under 1 ms, p99, on every screen including the list over 1,000,000 encounters; filter and
//! search under 50 ms).
//!
//! The real App against the shared demo database (`benches/common`): one key through the
//! keymap → `App::update` → its effects run against the store (`tui::drain`, as the event
//! loop does) → the whole 80×24 frame rendered into ratatui's `TestBackend`. Every key is
//! timed on its own, so besides criterion's estimates each scenario prints its median, p99 and
//! max, with the part spent in effects (the store query and the update it feeds).
//!
//! The clock is the newest call in the database, so "today", "last 7 days" and "last 365
//! days" hold what they would for a supervisor on the last day of the demo's two years.
//!
//! `cargo bench --bench review` measures over 1,000,000 encounters; `cargo test --all-targets`
//! runs it once over 2,000 as a smoke test.

mod common;

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accessline::domain::Definitions;
use accessline::security::{KdfParams, Role, Vault};
use accessline::store::{Actor, Store};
use accessline::tui::app::{App, Effect, Screen};
use accessline::tui::effect::Backend;
use accessline::tui::keymap::{Key, Keymap};
use accessline::tui::review;
use accessline::tui::theme::Theme;
use accessline::tui::ui::render;
use chrono::{DateTime, Utc};
use criterion::Criterion;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

fn key(name: &str) -> Key {
    if let [c] = name.chars().collect::<Vec<_>>()[..] {
        return Key {
            code: KeyCode::Char(c),
            ctrl: false,
            alt: false,
        };
    }
    name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A supervisor at the terminal: the App, its store and the screen.
struct Supervisor {
    app: App,
    backend: Backend,
    term: Terminal<TestBackend>,
    theme: Theme,
}

/// One timed key press: all of it, and the part spent running effects.
#[derive(Clone, Copy)]
struct Timed {
    total: Duration,
    effects: Duration,
}

impl Supervisor {
    fn new(store: Store, now: DateTime<Utc>) -> Supervisor {
        let app = App::new(
            Arc::new(Definitions::builtin().unwrap()),
            Keymap::default_map(),
            Actor::new("supervisor.lee", "hq-desk-01"),
            now,
        )
        .with_role(Role::Supervisor);
        Supervisor {
            app,
            backend: Backend::open(store, Vault::in_memory(KdfParams::insecure_for_tests())),
            term: Terminal::new(TestBackend::new(80, 24)).unwrap(),
            theme: Theme::color(),
        }
    }

    fn run(&mut self, effects: Vec<Effect>) -> Duration {
        let start = Instant::now();
        let mut queue: VecDeque<Effect> = effects.into();
        accessline::tui::drain(&mut self.app, &mut self.backend, &mut queue);
        start.elapsed()
    }

    fn draw(&mut self) {
        let (app, theme) = (&self.app, &self.theme);
        black_box(self.term.draw(|f| render(app, theme, f)).unwrap());
    }

    /// What the event loop does for one key press.
    fn press(&mut self, name: &str) -> Timed {
        let start = Instant::now();
        let mut effects = Duration::ZERO;
        if let Some(a) = self.app.translate(key(name)) {
            let eff = self.app.update(a);
            effects = self.run(eff);
        }
        self.draw();
        Timed {
            total: start.elapsed(),
            effects,
        }
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(&c.to_string());
        }
    }

    /// Open the queue from nothing (a fresh view, as `accessline review` does) and draw it.
    fn open_queue(&mut self) -> Timed {
        self.app.queue = None;
        let start = Instant::now();
        let eff = review::open_queue(&mut self.app);
        let effects = self.run(eff);
        self.draw();
        Timed {
            total: start.elapsed(),
            effects,
        }
    }

    fn rows(&self) -> usize {
        self.app.queue.as_ref().map_or(0, |q| q.rows.len())
    }

    fn filters(&self) -> String {
        self.app
            .queue
            .as_ref()
            .map(|q| q.describe().join(", "))
            .unwrap_or_default()
    }
}

/// The newest call in the database: the benchmark's "now".
fn newest_call(store: &Store) -> DateTime<Utc> {
    let newest: String = store
        .connection()
        .query_row("SELECT max(received_at) FROM encounter", [], |r| r.get(0))
        .unwrap();
    DateTime::parse_from_rfc3339(&newest)
        .unwrap()
        .with_timezone(&Utc)
}

/// Timings of one scenario, and the slowest case with what it was.
struct Samples {
    name: String,
    target: Duration,
    times: Vec<Timed>,
    worst: (Duration, String),
}

impl Samples {
    fn new(name: impl Into<String>, target: Duration) -> Samples {
        Samples {
            name: name.into(),
            target,
            times: Vec::new(),
            worst: (Duration::ZERO, String::new()),
        }
    }

    fn push(&mut self, t: Timed, what: impl FnOnce() -> String) {
        if t.total > self.worst.0 {
            self.worst = (t.total, what());
        }
        self.times.push(t);
    }

    fn print(&self) {
        let us = |d: Duration| d.as_secs_f64() * 1e3;
        let mut total: Vec<Duration> = self.times.iter().map(|t| t.total).collect();
        let mut effects: Vec<Duration> = self.times.iter().map(|t| t.effects).collect();
        total.sort();
        effects.sort();
        let q = |v: &[Duration], q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
        let p99 = q(&total, 0.99);
        println!(
            "{:<34} {:>5} {:>9.3} {:>9.3} {:>9.3} {:>10.3}  {:<6} {}",
            self.name,
            total.len(),
            us(q(&total, 0.5)),
            us(p99),
            us(q(&total, 1.0)),
            us(q(&effects, 0.5)),
            if p99 < self.target { "met" } else { "MISSED" },
            self.worst.1
        );
    }
}

const FRAME: Duration = Duration::from_millis(1);
const QUERY: Duration = Duration::from_millis(50);

/// The plain timing loops: every scenario, each key timed on its own.
fn latency_table(db: &std::path::Path, reps: usize) {
    let store = common::open(db);
    let now = newest_call(&store);
    let mut s = Supervisor::new(store, now);
    println!(
        "{:<34} {:>5} {:>9} {:>9} {:>9} {:>10}  {:<6} slowest case",
        "scenario (target)", "keys", "median ms", "p99 ms", "max ms", "effects ms", ""
    );

    let mut open = Samples::new("open the queue (< 50 ms)", QUERY);
    for _ in 0..reps.max(1) * 5 {
        let t = s.open_queue();
        open.push(t, || s.filters());
    }
    open.print();

    // Moving through the list: no query, the frame only (the 1 ms target).
    let mut moves = Samples::new("move in the list, ↓/↑ (< 1 ms)", FRAME);
    for i in 0..reps.max(1) * 200 {
        let t = s.press(if (i / 40) % 2 == 0 { "down" } else { "up" });
        moves.push(t, || format!("row {}", s.app.queue.as_ref().unwrap().focus));
    }
    moves.print();

    // Each filter on its own, every value it cycles through (and back to none).
    s.press("x");
    let cycles: &[(&str, &str, usize)] = &[
        ("d", "date range", 5),
        ("w", "awaiting review / returned / approved", 4),
        ("s", "status", 3),
        ("c", "quadrant cell", 10),
        ("r", "risk", 6),
        ("t", "triage", 4),
        (
            "l",
            "language",
            1 + accessline::domain::Definitions::builtin()
                .unwrap()
                .directory
                .languages
                .len(),
        ),
        ("y", "sync state", 5),
    ];
    for (k, label, n) in cycles {
        let mut f = Samples::new(format!("filter: {label} (< 50 ms)"), QUERY);
        for _ in 0..reps.max(1) {
            for _ in 0..*n {
                let t = s.press(k);
                f.push(t, || format!("{} ({} rows)", s.filters(), s.rows()));
            }
        }
        f.print();
    }
    let mut f = Samples::new("filter: screener (< 50 ms)", QUERY);
    for _ in 0..reps.max(1) {
        for who in ["screener.kim", "screener.reyes", "nobody.at.all"] {
            s.press("x");
            s.press("u");
            s.type_text(who);
            let t = s.press("enter");
            f.push(t, || format!("{} ({} rows)", s.filters(), s.rows()));
        }
    }
    f.print();
    // A realistic combination: what is waiting, risky and in Spanish over the last month.
    let mut f = Samples::new("filter: combined (< 50 ms)", QUERY);
    for _ in 0..reps.max(1) {
        s.press("x");
        s.press("d");
        s.press("d");
        s.press("d");
        s.press("w");
        s.press("r");
        s.press("r");
        let t = s.press("l");
        f.push(t, || format!("{} ({} rows)", s.filters(), s.rows()));
        let t = s.press("l");
        f.push(t, || format!("{} ({} rows)", s.filters(), s.rows()));
    }
    f.print();

    let mut f = Samples::new("search (< 50 ms)", QUERY);
    for _ in 0..reps.max(1) {
        for text in [
            "eviction",
            "buprenorphine",
            "fentanyl",
            "evic",
            "lost job",
            "xylophone",
        ] {
            s.press("x");
            s.press("/");
            s.type_text(text);
            let t = s.press("enter");
            f.push(t, || format!("{} ({} rows)", s.filters(), s.rows()));
        }
        // Search within a filter.
        s.press("l");
        let t = s.press("l");
        f.push(t, || format!("{} ({} rows)", s.filters(), s.rows()));
    }
    f.print();

    // Paging deep into the list and back, unfiltered and in the awaiting-review queue.
    let pages = if reps > 1 { 100 } else { 3 };
    for (label, setup) in [
        ("all calls", &["x"][..]),
        ("awaiting review", &["x", "w"][..]),
    ] {
        let mut fwd = Samples::new(format!("page forward, {label} (< 50 ms)"), QUERY);
        let mut back = Samples::new(format!("page back, {label} (< 50 ms)"), QUERY);
        for k in setup {
            s.press(k);
        }
        for p in 0..pages {
            let t = s.press("pagedown");
            fwd.push(t, || format!("page {}", p + 2));
        }
        for p in 0..pages {
            let t = s.press("pageup");
            back.push(t, || format!("page {}", pages - p));
        }
        fwd.print();
        back.print();
    }

    // The record: open it from the list, scroll it, go back to the page.
    s.press("x");
    let mut open_rec = Samples::new("open a record (< 50 ms)", QUERY);
    let mut scroll = Samples::new("scroll the record ↓/↑ (< 1 ms)", FRAME);
    let mut back = Samples::new("back to the list (< 50 ms)", QUERY);
    for i in 0..reps.max(1) * 10 {
        for _ in 0..(i % 7) {
            s.press("down");
        }
        let t = s.press("enter");
        assert_eq!(s.app.screen, Screen::Record);
        open_rec.push(t, || format!("row {}", i % 7));
        for j in 0..40 {
            let t = s.press(if j < 20 { "down" } else { "up" });
            scroll.push(t, String::new);
        }
        let t = s.press("esc");
        back.push(t, String::new);
    }
    open_rec.print();
    scroll.print();
    back.print();

    // The dashboard: opened on the last 30 days, then cycled through every period.
    let mut dash = Samples::new("dashboard, per period (< 50 ms)", QUERY);
    for _ in 0..reps.max(1) {
        s.press("x");
        let t = s.press("b");
        assert_eq!(s.app.screen, Screen::Dashboard);
        dash.push(t, || "last 30 days".into());
        for _ in 0..5 {
            let t = s.press("d");
            let what = s
                .app
                .dashboard
                .as_ref()
                .map(|d| {
                    format!(
                        "{} ({} calls)",
                        d.range.label(),
                        d.data.as_ref().map_or(0, |x| x.total)
                    )
                })
                .unwrap_or_default();
            dash.push(t, || what);
        }
        s.press("esc");
    }
    dash.print();
}

fn criterion_benches(c: &mut Criterion, db: &std::path::Path) {
    let store = common::open(db);
    let now = newest_call(&store);
    let mut s = Supervisor::new(store, now);
    let mut g = c.benchmark_group(format!("review over {}", common::bench_n()));
    g.bench_function("open the queue", |b| b.iter(|| s.open_queue()));
    s.press("x");
    g.bench_function("move in the list", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            s.press(if (i / 40) % 2 == 0 { "down" } else { "up" })
        })
    });
    g.bench_function("cycle the cell filter", |b| b.iter(|| s.press("c")));
    s.press("x");
    g.bench_function("cycle the sync filter", |b| b.iter(|| s.press("y")));
    s.press("x");
    s.press("/");
    s.type_text("evictio");
    g.bench_function("search (type-ahead: one more letter and back)", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            if i % 2 == 0 {
                s.press("backspace")
            } else {
                s.press("n")
            };
            s.press("enter");
            s.press("/")
        })
    });
    s.press("esc");
    s.press("x");
    g.bench_function("page forward and back", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            s.press(if (i / 10) % 2 == 0 {
                "pagedown"
            } else {
                "pageup"
            })
        })
    });
    g.bench_function("open a record and go back", |b| {
        b.iter(|| {
            s.press("enter");
            s.press("esc")
        })
    });
    s.press("b");
    for _ in 0..1 {
        s.press("d"); // last 30 days → last 365 days
    }
    g.bench_function("dashboard, last 365 days (refresh)", |b| {
        b.iter(|| s.press("ctrl-r"))
    });
    g.finish();
}

fn main() {
    let measuring = common::measuring();
    let db = common::bench_db();
    println!(
        "review over {} demo encounters ({}), key → effects → 80×24 frame",
        common::bench_n(),
        if measuring {
            "measuring"
        } else {
            "smoke run; `cargo bench --bench review` measures"
        }
    );
    latency_table(&db, if measuring { 5 } else { 1 });
    let mut c = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    criterion_benches(&mut c, &db);
    c.final_summary();
}
