//! Screener UI benchmarks (DESIGN 9: a key press handled and the frame rendered in under 1 ms,
//! p99, on every screen), and the number of keys a routine call takes.
//!
//! For each screen: one key event → `App::translate` → `App::update` → the whole 80×24 frame
//! rendered into ratatui's `TestBackend`, as the event loop does (effects are dropped: no store).
//! Each screen alternates two keys that leave it on the same screen (answer / move back, pick /
//! unpick…), so every iteration does real work. Besides criterion's estimates, a plain timing
//! loop prints the median, p99 and max per screen, since the target is a p99.
//!
//! `cargo bench --bench tui` measures; `cargo test --all-targets` runs it once as a smoke test.

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accessline::domain::Definitions;
use accessline::domain::instrument::ItemKind;
use accessline::store::{Actor, Cursor, DayCounts, DraftSummary, Returned};
use accessline::tui::app::{Action, App, Effect, HomeData, Overlay, Screen};
use accessline::tui::call::Step;
use accessline::tui::keymap::{Key, Keymap};
use accessline::tui::theme::Theme;
use accessline::tui::ui::render;
use chrono::{DateTime, Duration as Span, Utc};
use criterion::Criterion;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use uuid::Uuid;

/// Monday 23 November 2026, 10:15 in Los Angeles.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T18:15:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn key(name: &str) -> Key {
    name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn char_key(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
        alt: false,
    }
}

fn new_app() -> App {
    let mut app = App::new(
        Arc::new(Definitions::builtin().unwrap()),
        Keymap::default_map(),
        Actor::new("screener.bench", "desk-01"),
        now(),
    );
    // No resume offer: the home list is loaded once before the drafts below exist.
    app.update(Action::HomeLoaded(HomeData::default()));
    app
}

/// Apply an action the way the event loop does, with the store's answers faked: a new call's
/// draft gets an id; a finalize is reported back. Returns whether a finalize was asked for.
fn act(app: &mut App, action: Action) -> bool {
    let mut finalized = false;
    let mut queue: VecDeque<Effect> = app.update(action).into();
    while let Some(e) = queue.pop_front() {
        match e {
            Effect::StartDraft { .. } => {
                queue.extend(app.update(Action::DraftStarted(Uuid::from_u128(0xacce55))))
            }
            Effect::Finalize { .. } => finalized = true,
            _ => {}
        }
    }
    finalized
}

/// Counts keys as a screener presses them, through the real keymap.
struct Screener {
    app: App,
    keys: usize,
    typed: usize,
    answers: usize,
    finalized: bool,
}

impl Screener {
    fn new() -> Screener {
        Screener {
            app: new_app(),
            keys: 0,
            typed: 0,
            answers: 0,
            finalized: false,
        }
    }

    fn press_key(&mut self, k: Key) {
        self.keys += 1;
        if let Some(a) = self.app.translate(k) {
            self.finalized |= act(&mut self.app, a);
        }
    }

    fn press(&mut self, names: &[&str]) {
        for n in names {
            self.press_key(key(n));
        }
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.typed += 1;
            self.press_key(char_key(c));
        }
    }

    fn step(&self) -> Step {
        self.app.call.as_ref().expect("a call is open").step
    }

    /// One key per question as the questions come (focus moves on by itself): `n` for yes/no
    /// items, the option at `choice` otherwise; then Enter, which moves on only when every
    /// question shown is answered.
    fn answer_step(&mut self, choices: &[&str]) {
        let step = self.step();
        let defs = self.app.defs.clone();
        let mut n = 0;
        loop {
            let v = self.app.call.as_ref().unwrap();
            let qs = v.call.questions(&defs, step);
            let Some(at) = qs.iter().position(|(i, q)| v.call.answer(i, q).is_none()) else {
                break;
            };
            assert_eq!(v.focus_of(step), at, "focus moves to the next question");
            let (inst, item) = &qs[at];
            let kind = defs.instrument(inst).unwrap().item(item).unwrap().kind;
            let k = match kind {
                ItemKind::YesNo => "n",
                ItemKind::Choice => choices[n % choices.len()],
            };
            if kind == ItemKind::Choice {
                n += 1;
            }
            self.answers += 1;
            self.press(&[k]);
        }
        self.press(&["enter"]);
        assert_ne!(self.step(), step, "Enter moves on once all is answered");
    }
}

/// A routine call, entered the way a careful screener would, up to the summary.
fn routine_call_to_summary(s: &mut Screener) {
    s.press(&["n"]); // new call
    s.press(&["right", "tab", "tab"]); // caller: self; not anonymous; → name
    s.type_text("María López");
    s.press(&["tab"]);
    s.type_text("3235550147");
    s.press(&["tab"]);
    s.type_text("34");
    s.press(&["tab", "right"]); // sex
    s.press(&["tab", "right", "right"]); // language: Spanish
    s.press(&["tab", "tab", "right"]); // no interpreter; Medi-Cal enrolled
    s.press(&["tab"]);
    s.type_text("90012");
    s.press(&["tab"]);
    s.type_text("Feeling low, not sleeping");
    s.press(&["pagedown"]);
    assert_eq!(s.step(), Step::Safety);
    s.answer_step(&["0"]); // safety check and C-SSRS: all no
    s.answer_step(&["0"]); // DHCS, AUDIT-C, DAST-10: all no / never
    // PHQ-9, GAD-7 mild; ASAM all 0 (choices in order of appearance).
    s.answer_step(&[
        "1", "1", "1", "1", "1", "0", "0", "0", "0", "1", // PHQ-9 + difficulty
        "1", "1", "1", "1", "0", "0", "0", "0", // GAD-7 + difficulty
        "0", "0", "0", "0", "0", "0", // ASAM
    ]);
    assert_eq!(s.step(), Step::Placement);
    s.press(&["enter"]); // the computed cell
    assert_eq!(s.step(), Step::Referral);
    // The first program listed is the 988 line (it serves every cell): the screener moves to
    // the managed-care program below it and picks it with a warm hand-off.
    s.press(&["down", "space", "w", "enter"]);
    let picked = &s.app.call.as_ref().unwrap().call.referrals;
    assert!(
        picked.len() == 1 && picked[0].warm_handoff,
        "one program, warm hand-off: {picked:?}"
    );
    assert_eq!(s.step(), Step::Notices);
    s.press(&["space", "enter"]); // handbook offered
    assert_eq!(s.step(), Step::Summary);
}

/// Keys from "new call" to "finalized" for a routine call, with the breakdown.
fn routine_call_keys() -> Screener {
    let mut s = Screener::new();
    routine_call_to_summary(&mut s);
    s.press(&["f", "y"]);
    assert!(
        s.finalized,
        "the call was not finalized: {:?}",
        s.app.status.as_ref().map(|st| &st.text)
    );
    s
}

/// The screens measured: an App showing each, and the two keys it alternates.
fn scenarios() -> Vec<(&'static str, App, [Key; 2])> {
    let mut out = Vec::new();

    // Home with a realistic queue: a dozen drafts and a few returned calls.
    let mut home = new_app();
    let drafts = (0..12)
        .map(|i| DraftSummary {
            encounter_id: Uuid::from_u128(i),
            received_at: now() - Span::minutes(15 * i as i64),
            updated_at: now() - Span::minutes(10 * i as i64),
            caller_display: format!("Caller {i}"),
            cursor: Some(Cursor {
                step: "assessment".into(),
                focus: "phq9.q3".into(),
            }),
        })
        .collect();
    let returned: Vec<Returned> = (0..3)
        .map(|i| Returned {
            encounter_id: Uuid::from_u128(100 + i),
            revision: 1,
            received_at: now() - Span::hours(20 + i as i64),
            caller_display: format!("Returned {i}"),
            note: "Please add the callback number and the referral's appointment time.".into(),
            reviewer: "supervisor".into(),
            reviewed_at: now() - Span::hours(2),
        })
        .collect();
    home.update(Action::HomeLoaded(HomeData {
        drafts,
        returned_total: returned.len() as u64,
        returned,
        today: DayCounts {
            finalized: 14,
            drafts: 12,
            crisis: 2,
        },
        sync: Some("sync: 12 pending · 340 exported · 0 acknowledged · 0 conflicts".into()),
    }));
    out.push(("home", home, [key("down"), key("up")]));

    // Every call screen, on a routine call entered up to the summary and moved back to it.
    let steps: [(&str, Step, [Key; 2]); 8] = [
        ("intake", Step::Intake, [char_key('a'), key("backspace")]),
        ("safety", Step::Safety, [key("n"), key("up")]),
        ("screening", Step::Screening, [key("n"), key("up")]),
        ("assessment", Step::Assessment, [key("1"), key("up")]),
        ("placement", Step::Placement, [key("c"), key("c")]),
        ("referral", Step::Referral, [key("space"), key("space")]),
        ("notices", Step::Notices, [key("space"), key("space")]),
        ("summary", Step::Summary, [key("f"), key("n")]),
    ];
    for (name, step, keys) in steps {
        let mut s = Screener::new();
        routine_call_to_summary(&mut s);
        while s.step() != step {
            s.press(&["pageup"]);
        }
        out.push((name, s.app, keys));
    }

    // The crisis protocol over the intake, one action recorded.
    let mut crisis = new_app();
    act(
        &mut crisis,
        Action::Command(accessline::tui::keymap::Command::NewCall),
    );
    for k in ["f2", "2"] {
        let a = crisis.translate(key(k)).unwrap();
        act(&mut crisis, a);
    }
    assert!(matches!(crisis.overlay, Some(Overlay::Crisis { .. })));
    out.push(("crisis overlay", crisis, [key("down"), key("up")]));

    // Help over the home screen.
    let mut help = new_app();
    let a = help.translate(key("f1")).unwrap();
    act(&mut help, a);
    assert!(matches!(help.overlay, Some(Overlay::Help { .. })));
    out.push(("help", help, [key("down"), key("up")]));

    // The lock screen over a call in progress, typing the PIN.
    let mut locked = Screener::new();
    routine_call_to_summary(&mut locked);
    locked.press(&["ctrl-l"]);
    assert!(locked.app.lock.is_some());
    out.push(("lock screen", locked.app, [char_key('4'), key("backspace")]));

    for (name, app, _) in &out {
        let on_call = app.screen == Screen::Call;
        assert_eq!(on_call, !matches!(*name, "home" | "help"), "{name}");
    }
    out
}

/// One key through the app and a full frame: what the event loop does per key press.
/// Returns the time spent in `update` (the rest of the call is rendering).
fn key_to_frame(
    app: &mut App,
    term: &mut Terminal<TestBackend>,
    theme: &Theme,
    k: Key,
) -> Duration {
    let start = Instant::now();
    app.update(Action::Tick(app.now + Span::milliseconds(250)));
    if let Some(a) = app.translate(k) {
        black_box(app.update(a));
    }
    let update = start.elapsed();
    term.draw(|f| render(app, theme, f)).unwrap();
    update
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(80, 24)).unwrap()
}

fn criterion_frames(c: &mut Criterion) {
    let theme = Theme::color();
    let mut group = c.benchmark_group("key_to_frame_80x24");
    for (name, mut app, keys) in scenarios() {
        let mut term = terminal();
        let mut i = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                key_to_frame(&mut app, &mut term, &theme, keys[i % 2]);
                i += 1;
            })
        });
    }
    group.finish();
}

/// Median, p99 and max per screen from `n` individually timed key presses, and the median
/// split between `update` and rendering.
fn latency_table(n: usize, measuring: bool) {
    let theme = Theme::color();
    if measuring {
        println!("key → frame at 80×24, {n} presses per screen (target: p99 < 1 ms)");
    } else {
        println!(
            "key → frame at 80×24, smoke run ({n} presses; `cargo bench --bench tui` measures)"
        );
    }
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "screen", "median µs", "p99 µs", "max µs", "update µs", "render µs"
    );
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mut worst = Duration::ZERO;
    for (name, mut app, keys) in scenarios() {
        let mut term = terminal();
        for i in 0..n / 10 + 2 {
            key_to_frame(&mut app, &mut term, &theme, keys[i % 2]);
        }
        let mut total = Vec::with_capacity(n);
        let mut update = Vec::with_capacity(n);
        let mut draw = Vec::with_capacity(n);
        for i in 0..n {
            let start = Instant::now();
            let u = key_to_frame(&mut app, &mut term, &theme, keys[i % 2]);
            let t = start.elapsed();
            total.push(t);
            update.push(u);
            draw.push(t - u);
        }
        let q = |v: &mut Vec<Duration>, q: f64| {
            v.sort();
            v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
        };
        let (median, p99, max) = (q(&mut total, 0.5), q(&mut total, 0.99), q(&mut total, 1.0));
        println!(
            "{name:<16} {:>10.1} {:>10.1} {:>10.1} {:>12.1} {:>12.1}",
            us(median),
            us(p99),
            us(max),
            us(q(&mut update, 0.5)),
            us(q(&mut draw, 0.5)),
        );
        worst = worst.max(p99);
    }
    // For scale: what `Terminal::draw` costs with nothing rendered (buffer swap and diff).
    let mut term = terminal();
    let mut empty: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            term.draw(|_| {}).unwrap();
            start.elapsed()
        })
        .collect();
    empty.sort();
    println!(
        "{:<16} {:>10.1}",
        "(empty frame)",
        us(empty[empty.len() / 2])
    );
    if measuring {
        println!(
            "worst p99: {:.1} µs ({})",
            us(worst),
            if worst < Duration::from_millis(1) {
                "under 1 ms"
            } else {
                "OVER the 1 ms target"
            }
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; without it (cargo test) this is a quick smoke run.
    let measuring = std::env::args().any(|a| a == "--bench");

    let s = routine_call_keys();
    println!(
        "routine call, \"new call\" to \"finalized\": {} keys ({} typed characters of intake text, \
         {} answers, {} to move, choose and confirm)",
        s.keys,
        s.typed,
        s.answers,
        s.keys - s.typed - s.answers
    );

    latency_table(if measuring { 2_000 } else { 20 }, measuring);

    let mut c = Criterion::default().configure_from_args();
    criterion_frames(&mut c);
    c.final_summary();
}
