//! The hidden `accessline __save-loop` command, for the kill test: save answers one
//! transaction at a time, forever, and say so after each commit (flushed), so a test that kills
//! the process with SIGKILL knows what must have survived. Every 20 answers it finalizes.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::Store;
use super::error::Result;
use super::model::{ANONYMOUS, Actor, Cursor, Risk, Summary};

pub const ACTOR: &str = "screener.killtest";
pub const DEVICE: &str = "killtest-device";
/// Answers per encounter before it is finalized.
pub const ANSWERS_PER_ENCOUNTER: u64 = 20;

/// Lines written: `draft <id>`, `saved <n> <id> <key>`, `finalized <id>`. Stops after `limit`
/// answers if given (the test kills it long before).
pub fn run(mut store: Store, limit: Option<u64>, out: &mut impl Write) -> Result<()> {
    let actor = Actor::new(ACTOR, DEVICE);
    let mut n: u64 = 0;
    loop {
        let id = store.start_draft(&actor, Utc::now())?;
        say(out, format_args!("draft {id}"));
        let mut fields = Map::new();
        for k in 0..ANSWERS_PER_ENCOUNTER {
            if limit.is_some_and(|l| n >= l) {
                return Ok(());
            }
            n += 1;
            let key = format!("answers.q{k}");
            store.save_field(&actor, id, &key, &json!(n))?;
            say(out, format_args!("saved {n} {id} {key}"));
            store.save_cursor(
                &actor,
                id,
                &Cursor {
                    step: "assessment".into(),
                    focus: key.clone(),
                },
            )?;
            fields.insert(key, json!(n));
        }
        let summary = Summary {
            received_at: Utc::now(),
            caller_display: ANONYMOUS.into(),
            language: None,
            age: None,
            cell_computed: None,
            cell_chosen: None,
            risk: Risk::None,
            triage: None,
            crisis: false,
            deadline_at: None,
            reason: Some("kill test".into()),
        };
        store.finalize(
            &actor,
            id,
            &Value::Object(Map::from_iter([(
                "fields".to_owned(),
                Value::Object(fields),
            )])),
            &summary,
            &BTreeMap::new(),
        )?;
        say(out, format_args!("finalized {id}"));
    }
}

fn say(out: &mut impl Write, line: std::fmt::Arguments<'_>) {
    // A closed pipe means the test is gone; the next kill ends us anyway.
    let _ = writeln!(out, "{line}").and_then(|_| out.flush());
}
