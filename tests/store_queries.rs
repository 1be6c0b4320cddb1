//! The screens' queries over demo data: keyset pages agree with a brute-force ordering,
//! filters and search agree with a brute-force scan, and the main list uses its index.

#[path = "common/store.rs"]
mod common;

use std::sync::OnceLock;

use accessline::domain::Definitions;
use accessline::store::demo::{self, DemoOptions, SCREENERS};
use accessline::store::{
    ListFilter, ListQuery, ListRow, ReviewState, Risk, SortBy, Store, StoreError, fts_query,
};

const N: u64 = 1_500;

/// One demo database shared by the tests of this file (generated once).
fn db() -> &'static std::path::Path {
    static DB: OnceLock<(tempfile::TempDir, std::path::PathBuf)> = OnceLock::new();
    &DB.get_or_init(|| {
        let (dir, path) = common::temp_db();
        let mut store = Store::open_unencrypted(&path).unwrap();
        let defs = Definitions::builtin().unwrap();
        demo::generate(
            &mut store,
            &defs,
            &DemoOptions {
                encounters: N,
                seed: 7,
            },
        )
        .unwrap();
        (dir, path)
    })
    .1
}

fn all_pages(store: &Store, filter: ListFilter, sort: SortBy, limit: usize) -> Vec<ListRow> {
    let mut q = ListQuery {
        filter,
        sort,
        limit,
        after: None,
    };
    let mut rows = Vec::new();
    loop {
        let page = store.list(&q).unwrap();
        assert!(page.rows.len() <= limit);
        rows.extend(page.rows);
        match page.next {
            Some(next) => q.after = Some(next),
            None => return rows,
        }
    }
}

/// What a filter should keep, checked row by row.
type Keep<'a> = Box<dyn Fn(&ListRow) -> bool + 'a>;

fn risk_rank(r: Risk) -> usize {
    Risk::ALL.iter().position(|x| *x == r).unwrap()
}

#[test]
fn keyset_pages_walk_every_current_encounter_once_in_order() {
    let store = Store::open_unencrypted(db()).unwrap();
    let rows = all_pages(&store, ListFilter::default(), SortBy::Time, 97);
    assert_eq!(
        rows.len() as u64,
        N,
        "one row per encounter: the current revision"
    );
    let mut ids: Vec<_> = rows.iter().map(|r| r.encounter_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as u64, N);
    assert!(
        rows.windows(2)
            .all(|w| (w[0].received_at, w[0].encounter_id) > (w[1].received_at, w[1].encounter_id))
    );
    let addenda = rows.iter().filter(|r| r.revision > 1).count();
    let expected: i64 = store
        .connection()
        .query_row(
            "SELECT count(DISTINCT encounter_id) FROM encounter WHERE revision > 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        addenda as i64, expected,
        "an amended encounter shows its latest revision"
    );

    let mut by_risk = rows.clone();
    by_risk.sort_by(|a, b| {
        (risk_rank(b.risk), b.received_at, b.encounter_id).cmp(&(
            risk_rank(a.risk),
            a.received_at,
            a.encounter_id,
        ))
    });
    assert_eq!(
        all_pages(&store, ListFilter::default(), SortBy::Risk, 64),
        by_risk
    );

    let key = |r: &ListRow| {
        r.deadline_at
            .map_or("9999".to_owned(), accessline::store::ts)
    };
    let mut by_deadline = rows.clone();
    by_deadline.sort_by(|a, b| {
        (key(a), a.received_at, a.encounter_id).cmp(&(key(b), b.received_at, b.encounter_id))
    });
    assert_eq!(
        all_pages(&store, ListFilter::default(), SortBy::Deadline, 64),
        by_deadline
    );
}

#[test]
fn filters_agree_with_a_brute_force_scan() {
    let store = Store::open_unencrypted(db()).unwrap();
    let everything = all_pages(&store, ListFilter::default(), SortBy::Time, 500);
    let mid = everything[everything.len() / 2].received_at;
    let (cell, triage) = (everything[0].cell_chosen, everything[0].triage);
    let cases: Vec<(ListFilter, Keep<'_>)> = vec![
        (
            ListFilter {
                language: Some("es".into()),
                ..Default::default()
            },
            Box::new(|r| r.language.as_deref() == Some("es")),
        ),
        (
            ListFilter {
                review_state: Some(ReviewState::Awaiting),
                ..Default::default()
            },
            Box::new(|r| r.review_state == Some(ReviewState::Awaiting)),
        ),
        (
            ListFilter {
                risk: Some(Risk::Imminent),
                ..Default::default()
            },
            Box::new(|r| r.risk == Risk::Imminent),
        ),
        (
            ListFilter {
                screener: Some(SCREENERS[4].0.into()),
                received_from: Some(mid),
                ..Default::default()
            },
            Box::new(move |r| r.screener == SCREENERS[4].0 && r.received_at >= mid),
        ),
        (
            ListFilter {
                status: Some(accessline::store::Status::Draft),
                received_before: Some(mid),
                ..Default::default()
            },
            Box::new(move |r| r.status == accessline::store::Status::Draft && r.received_at < mid),
        ),
        (
            ListFilter {
                cell,
                triage,
                ..Default::default()
            },
            Box::new(move |r| r.cell_chosen == cell && r.triage == triage),
        ),
        (
            ListFilter {
                sync_state: Some(accessline::store::SyncState::Pending),
                language: Some("en".into()),
                ..Default::default()
            },
            Box::new(|r| {
                r.sync_state == Some(accessline::store::SyncState::Pending)
                    && r.language.as_deref() == Some("en")
            }),
        ),
        // Sorted by time, every workflow state comes from its kind's time-ordered index
        // (migration 0011), every other filter tested per row (the screener on the state row).
        (
            ListFilter {
                review_state: Some(ReviewState::Approved),
                screener: Some(SCREENERS[2].0.into()),
                ..Default::default()
            },
            Box::new(|r| {
                r.review_state == Some(ReviewState::Approved) && r.screener == SCREENERS[2].0
            }),
        ),
        (
            ListFilter {
                sync_state: Some(accessline::store::SyncState::Exported),
                received_before: Some(mid),
                ..Default::default()
            },
            Box::new(move |r| {
                r.sync_state == Some(accessline::store::SyncState::Exported) && r.received_at < mid
            }),
        ),
        (
            ListFilter {
                review_state: Some(ReviewState::Awaiting),
                sync_state: Some(accessline::store::SyncState::Pending),
                ..Default::default()
            },
            Box::new(|r| {
                r.review_state == Some(ReviewState::Awaiting)
                    && r.sync_state == Some(accessline::store::SyncState::Pending)
            }),
        ),
        (
            ListFilter {
                status: Some(accessline::store::Status::Draft),
                ..Default::default()
            },
            Box::new(|r| r.status == accessline::store::Status::Draft),
        ),
        // Sorted by time, rare states with other filters.
        (
            ListFilter {
                sync_state: Some(accessline::store::SyncState::Conflict),
                ..Default::default()
            },
            Box::new(|r| r.sync_state == Some(accessline::store::SyncState::Conflict)),
        ),
        (
            ListFilter {
                review_state: Some(ReviewState::NeedsChanges),
                ..Default::default()
            },
            Box::new(|r| r.review_state == Some(ReviewState::NeedsChanges)),
        ),
        (
            ListFilter {
                review_state: Some(ReviewState::Approved),
                sync_state: Some(accessline::store::SyncState::Acknowledged),
                cell,
                ..Default::default()
            },
            Box::new(move |r| {
                r.review_state == Some(ReviewState::Approved)
                    && r.sync_state == Some(accessline::store::SyncState::Acknowledged)
                    && r.cell_chosen == cell
            }),
        ),
        (
            ListFilter {
                language: Some("es".into()),
                review_state: Some(ReviewState::NeedsChanges),
                ..Default::default()
            },
            Box::new(|r| {
                r.language.as_deref() == Some("es")
                    && r.review_state == Some(ReviewState::NeedsChanges)
            }),
        ),
        (
            ListFilter {
                review_state: Some(ReviewState::NeedsChanges),
                received_before: Some(mid),
                ..Default::default()
            },
            Box::new(move |r| {
                r.review_state == Some(ReviewState::NeedsChanges) && r.received_at < mid
            }),
        ),
        (
            ListFilter {
                sync_state: Some(accessline::store::SyncState::Conflict),
                received_from: Some(mid),
                risk: Some(Risk::None),
                ..Default::default()
            },
            Box::new(move |r| {
                r.sync_state == Some(accessline::store::SyncState::Conflict)
                    && r.received_at >= mid
                    && r.risk == Risk::None
            }),
        ),
        (
            ListFilter {
                sync_state: Some(accessline::store::SyncState::Exported),
                review_state: Some(ReviewState::NeedsChanges),
                ..Default::default()
            },
            Box::new(|r| {
                r.sync_state == Some(accessline::store::SyncState::Exported)
                    && r.review_state == Some(ReviewState::NeedsChanges)
            }),
        ),
    ];
    for (n, (filter, keep)) in cases.into_iter().enumerate() {
        let expected: Vec<_> = everything.iter().filter(|r| keep(r)).cloned().collect();
        assert!(!expected.is_empty(), "case {n} selects something");
        assert!(
            expected.len() < everything.len(),
            "case {n} filters something out"
        );
        assert_eq!(
            all_pages(&store, filter.clone(), SortBy::Time, 40),
            expected,
            "case {n}: {filter:?}"
        );
    }
}

#[test]
fn full_text_search_finds_reasons_and_notes_and_combines_with_filters() {
    let store = Store::open_unencrypted(db()).unwrap();
    let c = store.connection();
    let brute = |word: &str| -> Vec<String> {
        let mut st = c.prepare(
            "SELECT DISTINCT encounter_id FROM encounter WHERE status = 'finalized' AND (reason LIKE ?1 OR note LIKE ?1)
             UNION SELECT DISTINCT encounter_id FROM review WHERE note LIKE ?1 ORDER BY 1",
        ).unwrap();
        st.query_map([format!("%{word}%")], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for (typed, word) in [
        ("eviction", "eviction"),
        ("EVICT", "evict"),
        ("callback number", "callback number"),
        ("fentanyl", "fentanyl"),
    ] {
        let filter = ListFilter {
            text: Some(typed.into()),
            ..Default::default()
        };
        let mut found: Vec<String> = all_pages(&store, filter, SortBy::Time, 50)
            .iter()
            .map(|r| r.encounter_id.to_string())
            .collect();
        found.sort();
        let expected = brute(word);
        assert!(!expected.is_empty(), "{word} occurs in the demo data");
        assert_eq!(found, expected, "search {typed:?}");
    }
    let filter = ListFilter {
        text: Some("eviction".into()),
        language: Some("es".into()),
        ..Default::default()
    };
    let rows = all_pages(&store, filter, SortBy::Risk, 10);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.language.as_deref() == Some("es")));
    // What a supervisor types can never be an FTS syntax error.
    for nasty in ["\"", "drop* OR (", "NEAR(", "a AND", "-", "🙂"] {
        store
            .list(&ListQuery {
                filter: ListFilter {
                    text: Some(nasty.into()),
                    ..Default::default()
                },
                ..Default::default()
            })
            .unwrap();
    }
    assert_eq!(fts_query("  "), None);
    assert_eq!(
        fts_query("Evict, Maria").as_deref(),
        Some("\"Evict\" \"Maria\"*")
    );
}

fn plan(store: &Store, q: &ListQuery) -> String {
    store.explain_list(q).unwrap().join("\n")
}

#[test]
fn list_queries_walk_an_index_instead_of_sorting() {
    let store = Store::open_unencrypted(db()).unwrap();
    let page = store.list(&ListQuery::default()).unwrap();
    let after = page.next.clone();
    for (sort, index) in [
        (SortBy::Time, "encounter_by_time"),
        (SortBy::Risk, "encounter_by_risk"),
        (SortBy::Deadline, "encounter_by_deadline"),
    ] {
        for after in [None, after.clone().filter(|_| sort == SortBy::Time)] {
            let q = ListQuery {
                sort,
                after,
                ..Default::default()
            };
            let p = plan(&store, &q);
            assert!(
                p.contains(&format!("USING INDEX {index}")),
                "{sort:?}:\n{p}"
            );
            assert!(
                !p.contains("TEMP B-TREE"),
                "{sort:?} sorts instead of walking the index:\n{p}"
            );
            assert!(
                !p.contains("SCAN e\n") && !p.ends_with("SCAN e"),
                "{sort:?} scans the table:\n{p}"
            );
        }
    }
    let q = ListQuery {
        filter: ListFilter {
            screener: Some("screener.kim".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let p = plan(&store, &q);
    assert!(
        p.contains("encounter_by_screener") && !p.contains("TEMP B-TREE"),
        "{p}"
    );
    let q = ListQuery {
        filter: ListFilter {
            risk: Some(Risk::High),
            ..Default::default()
        },
        ..Default::default()
    };
    let p = plan(&store, &q);
    assert!(
        p.contains("encounter_by_risk") && !p.contains("TEMP B-TREE"),
        "{p}"
    );
}

/// A search with any filter is driven by the full-text matches, newest first (no sort of every
/// match, no walk of a filter's index probing the text index per call).
#[test]
fn a_search_with_a_filter_is_driven_by_the_matches() {
    use accessline::domain::quadrant::CellId;
    let store = Store::open_unencrypted(db()).unwrap();
    let filters = [
        ListFilter {
            language: Some("es".into()),
            ..Default::default()
        },
        ListFilter {
            cell: CellId::parse("high_high"),
            ..Default::default()
        },
        ListFilter {
            screener: Some("screener.kim".into()),
            ..Default::default()
        },
        ListFilter {
            risk: Some(Risk::High),
            ..Default::default()
        },
    ];
    for mut filter in filters {
        filter.text = Some("eviction".into());
        let q = ListQuery {
            filter,
            ..Default::default()
        };
        let p = plan(&store, &q);
        let first = p.lines().next().unwrap_or_default();
        assert!(first.contains("search_fts"), "{:?}:\n{p}", q.filter);
        assert!(!p.contains("TEMP B-TREE"), "{:?}:\n{p}", q.filter);
    }
}

/// Every queue filter on its own: sorted by time (and, for language and cell, in every order)
/// the list walks an index in the sort's order (no sorting of every match, no scan of the
/// state table). Sorted by time, every workflow state starts from its kind's time-ordered
/// index and drafts from theirs (migration 0011); in the other orders sync conflicts come
/// from their partial index of migration 0006 and are sorted.
#[test]
fn every_filter_walks_an_index_or_a_small_partial_one() {
    use accessline::domain::placement::Triage;
    use accessline::domain::quadrant::CellId;
    use accessline::store::{Status, SyncState};
    let store = Store::open_unencrypted(db()).unwrap();
    let some = |f: fn(&mut ListFilter)| {
        let mut filter = ListFilter::default();
        f(&mut filter);
        filter
    };
    let filters = [
        some(|f| f.received_from = Some(chrono::Utc::now())),
        some(|f| f.screener = Some("screener.kim".into())),
        some(|f| f.status = Some(Status::Draft)),
        some(|f| f.cell = CellId::parse("high_high")),
        some(|f| f.risk = Some(Risk::Moderate)),
        some(|f| f.triage = Some(Triage::Urgent)),
        some(|f| f.language = Some("ase".into())),
        some(|f| f.sync_state = Some(SyncState::Exported)),
        some(|f| f.sync_state = Some(SyncState::Pending)),
        some(|f| f.review_state = Some(ReviewState::Awaiting)),
        some(|f| f.review_state = Some(ReviewState::Approved)),
        some(|f| {
            f.review_state = Some(ReviewState::Approved);
            f.screener = Some("screener.kim".into());
        }),
        some(|f| f.status = Some(Status::Finalized)),
        some(|f| f.sync_state = Some(SyncState::Conflict)),
        some(|f| f.review_state = Some(ReviewState::NeedsChanges)),
    ];
    for filter in filters {
        for sort in [SortBy::Time, SortBy::Risk, SortBy::Deadline] {
            let q = ListQuery {
                filter: filter.clone(),
                sort,
                ..Default::default()
            };
            let p = plan(&store, &q);
            let first = p.lines().next().unwrap_or_default();
            if sort == SortBy::Time && filter.review_state.is_some() {
                assert!(
                    first.contains("encounter_state_review_by_time") && !p.contains("TEMP B-TREE"),
                    "{filter:?}:\n{p}"
                );
            } else if sort == SortBy::Time && filter.sync_state.is_some() {
                assert!(
                    first.contains("encounter_state_sync_by_time") && !p.contains("TEMP B-TREE"),
                    "{filter:?}:\n{p}"
                );
            } else if sort == SortBy::Time && filter.status == Some(Status::Draft) {
                assert!(
                    first.contains("encounter_draft_by_time") && !p.contains("TEMP B-TREE"),
                    "{filter:?}:\n{p}"
                );
            } else if filter.sync_state == Some(SyncState::Conflict) {
                assert!(
                    p.split_whitespace()
                        .any(|w| w == "encounter_state_conflict"),
                    "{filter:?}:\n{p}"
                );
            } else if sort == SortBy::Time
                || filter.language.is_some()
                || filter.cell.is_some()
                || filter.triage.is_some()
            {
                assert!(
                    !p.contains("TEMP B-TREE") && !p.contains("SCAN s"),
                    "{filter:?} {sort:?}:\n{p}"
                );
            }
        }
    }
}

#[test]
fn a_cursor_from_another_sort_order_is_refused() {
    let store = Store::open_unencrypted(db()).unwrap();
    let next = store
        .list(&ListQuery {
            limit: 5,
            ..Default::default()
        })
        .unwrap()
        .next
        .unwrap();
    let err = store
        .list(&ListQuery {
            sort: SortBy::Risk,
            after: Some(next),
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
}

#[test]
fn screener_queues_show_drafts_and_returned_items() {
    let store = Store::open_unencrypted(db()).unwrap();
    let (mut drafts, mut returned) = (0, 0);
    for (screener, _) in SCREENERS {
        let queue = store.drafts_of(screener).unwrap();
        assert!(queue.windows(2).all(|w| w[0].updated_at >= w[1].updated_at));
        assert!(
            queue.iter().all(|d| d.cursor.is_some()),
            "every demo draft knows where it stopped"
        );
        for d in &queue {
            let draft = store.load_draft(d.encounter_id).unwrap();
            assert!(!draft.fields.is_empty());
        }
        drafts += queue.len();
        let back = store.returned_to(screener).unwrap();
        for r in &back {
            assert!(!r.note.is_empty());
            let current = store.encounter(r.encounter_id, None).unwrap();
            assert_eq!(
                (current.revision, current.review_state),
                (r.revision, Some(ReviewState::NeedsChanges))
            );
        }
        // The newest calls first, at most RETURNED_SHOWN of them; the count is of all.
        assert!(back.len() <= accessline::store::RETURNED_SHOWN);
        assert!(
            back.windows(2)
                .all(|w| (w[0].received_at, w[0].encounter_id)
                    > (w[1].received_at, w[1].encounter_id))
        );
        let total = store.returned_count(screener).unwrap() as usize;
        assert_eq!(back.len(), total.min(accessline::store::RETURNED_SHOWN));
        returned += total;
    }
    let c = store.connection();
    let count =
        |sql: &str| -> usize { c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as usize };
    assert_eq!(
        drafts,
        count("SELECT count(*) FROM encounter WHERE status = 'draft'")
    );
    assert!(drafts > 0);
    assert_eq!(
        returned,
        count("SELECT count(*) FROM encounter_state s WHERE review_state = 'needs_changes'
               AND NOT EXISTS (SELECT 1 FROM encounter n WHERE n.encounter_id = s.encounter_id AND n.revision > s.revision)")
    );
}
