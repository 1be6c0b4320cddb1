//! KILL TEST: the real binary saves answers in a loop and is killed with SIGKILL at random
//! moments. After each kill the database verifies and every answer it reported is there.

#[path = "common/store.rs"]
mod common;
#[path = "common/keys.rs"]
mod keys;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use accessline::store::Status;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

const ROUNDS: usize = 50;

#[derive(Default)]
struct Reported {
    /// (encounter, key) → value the child said it saved.
    saved: BTreeMap<(Uuid, String), u64>,
    finalized: BTreeSet<Uuid>,
}

impl Reported {
    fn line(&mut self, line: &str) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["saved", n, id, key] => {
                self.saved
                    .insert((id.parse().unwrap(), key.to_string()), n.parse().unwrap());
            }
            ["finalized", id] => {
                self.finalized.insert(id.parse().unwrap());
            }
            ["draft", _] => {}
            _ => panic!("unexpected line from the child: {line:?}"),
        }
    }
}

#[test]
fn killed_at_random_moments_nothing_reported_as_saved_is_lost() {
    let (_dir, path) = common::temp_db();
    let seed: u64 = rand::rng().random();
    eprintln!("kill test seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut reported = Reported::default();
    let mut kills_mid_stream = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_accessline"))
            .env("ACCESSLINE_DB_KEY", keys::test_key())
            .args(["__save-loop", "--db"])
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        // Let it commit a random number of answers (sometimes none), then kill it at a
        // random point of whatever it is doing next.
        let wait_for = rng.random_range(0..45);
        let mut line = String::new();
        for _ in 0..wait_for {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            reported.line(line.trim());
        }
        std::thread::sleep(Duration::from_micros(rng.random_range(0..3_000)));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(
            !status.success(),
            "round {round}: the child was killed, not finished; stderr: {err}"
        );
        assert!(
            err.is_empty(),
            "round {round}: the child reported an error: {err}"
        );
        if !rest.is_empty() {
            kills_mid_stream += 1;
        }
        for l in rest.lines() {
            reported.line(l);
        }

        let store =
            keys::open_db(&path).unwrap_or_else(|e| panic!("round {round}: reopening failed: {e}"));
        let report = store.verify().unwrap();
        assert!(report.is_ok(), "round {round} (seed {seed}):\n{report}");
        for id in &reported.finalized {
            assert_eq!(
                store.encounter(*id, None).unwrap().status,
                Status::Finalized,
                "round {round}: {id}"
            );
        }
        let mut payloads: BTreeMap<Uuid, serde_json::Value> = BTreeMap::new();
        for ((id, key), n) in &reported.saved {
            let rec = store.encounter(*id, None).unwrap();
            let value = if rec.status == Status::Finalized {
                let p = payloads.entry(*id).or_insert_with(|| {
                    serde_json::from_str(rec.payload.as_deref().unwrap()).unwrap()
                });
                p["fields"][key].clone()
            } else {
                store
                    .load_draft(*id)
                    .unwrap()
                    .fields
                    .get(key)
                    .cloned()
                    .unwrap_or_default()
            };
            assert_eq!(
                value,
                serde_json::json!(n),
                "round {round} (seed {seed}): {id} {key} lost"
            );
        }
    }
    assert!(
        reported.saved.len() > ROUNDS,
        "the child made progress: {} answers",
        reported.saved.len()
    );
    assert!(
        !reported.finalized.is_empty(),
        "some rounds got as far as a finalize"
    );
    eprintln!(
        "{} answers and {} finalized encounters checked; {kills_mid_stream} kills with output in flight",
        reported.saved.len(),
        reported.finalized.len()
    );
}
