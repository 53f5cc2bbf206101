//! Property test of the merge: random operations on 2–3 clones, synced in random orders.
//! After every step each clone's bead state must equal a simple reference model applied to
//! the events that clone has seen, every sync must leave both sides with identical trees,
//! and every write must be stamped after everything its clone has seen (Lamport).
//!
//! Clones are collections `c0`, `c1`, `c2` of one temporary repository, merged with the
//! library (`gastown::sync::merge_tip`), so no processes are spawned.

use std::collections::{BTreeMap, BTreeSet};

use gastown::bead::id::{id_from_path, record_path};
use gastown::bead::record::{Member, Origin, Record, Register, Stamp};
use gastown::store::{Actor, Outcome, Store};
use gastown::sync::{beads::rename_target, merge_tip_as, CollectionReport};
use proptest::prelude::*;
use serde_json::{json, Value};

const IDS: [&str; 3] = ["gt-a", "gt-b", "gt-c"];
const FIELDS: [&str; 3] = ["title", "status", "priority"];

#[derive(Debug, Clone)]
enum Op {
    Create {
        clone: usize,
        slot: usize,
    },
    Child {
        clone: usize,
        target: usize,
    },
    Set {
        clone: usize,
        target: usize,
        field: usize,
        value: u8,
    },
    Label {
        clone: usize,
        target: usize,
        label: u8,
        on: bool,
    },
    Dep {
        clone: usize,
        target: usize,
        to: usize,
        on: bool,
    },
    Comment {
        clone: usize,
        target: usize,
    },
    Delete {
        clone: usize,
        target: usize,
    },
    Sync {
        a: usize,
        b: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0usize..3;
    let t = 0usize..8;
    prop_oneof![
        3 => (c.clone(), 0usize..3).prop_map(|(clone, slot)| Op::Create { clone, slot }),
        1 => (c.clone(), t.clone()).prop_map(|(clone, target)| Op::Child { clone, target }),
        4 => (c.clone(), t.clone(), 0usize..3, 0u8..3)
            .prop_map(|(clone, target, field, value)| Op::Set { clone, target, field, value }),
        2 => (c.clone(), t.clone(), 0u8..3, any::<bool>())
            .prop_map(|(clone, target, label, on)| Op::Label { clone, target, label, on }),
        2 => (c.clone(), t.clone(), t.clone(), any::<bool>())
            .prop_map(|(clone, target, to, on)| Op::Dep { clone, target, to, on }),
        1 => (c.clone(), t.clone()).prop_map(|(clone, target)| Op::Comment { clone, target }),
        1 => (c.clone(), t.clone()).prop_map(|(clone, target)| Op::Delete { clone, target }),
        4 => (c.clone(), c).prop_map(|(a, b)| Op::Sync { a, b }),
    ]
}

/// What a write did, in terms of record identities (origins), not ids.
#[derive(Debug, Clone)]
enum Event {
    Create {
        born: String,
        origin: Origin,
        title: String,
    },
    Set {
        target: Origin,
        field: String,
        value: Value,
        at: Stamp,
    },
    Label {
        target: Origin,
        label: String,
        on: bool,
        at: Stamp,
    },
    Dep {
        from: Origin,
        to: Origin,
        on: bool,
        at: Stamp,
    },
    Comment {
        target: Origin,
        key: String,
    },
    Delete {
        target: Origin,
    },
}

impl Event {
    fn clock(&self) -> u64 {
        match self {
            Event::Create { origin, .. } => origin.at.0,
            Event::Set { at, .. } | Event::Label { at, .. } | Event::Dep { at, .. } => at.0,
            Event::Comment { .. } | Event::Delete { .. } => 0,
        }
    }
}

/// The observable state of one bead.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bead {
    origin: Origin,
    fields: BTreeMap<String, String>,
    labels: BTreeSet<String>,
    deps: BTreeSet<String>,
    comments: BTreeSet<String>,
    deleted: bool,
}

/// The reference semantics: fold the events a clone has seen.
fn model(events: &[Event], seen: &BTreeSet<usize>) -> BTreeMap<String, Bead> {
    let seen: Vec<&Event> = seen.iter().map(|&i| &events[i]).collect();
    // Ids: the smallest origin keeps a contested id, the others move by rename_target.
    let mut placed: Vec<(String, Origin)> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Create { born, origin, .. } => Some((born.clone(), origin.clone())),
            _ => None,
        })
        .collect();
    loop {
        let mut by_id: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, (id, _)) in placed.iter().enumerate() {
            by_id.entry(id.clone()).or_default().push(i);
        }
        let mut moved = false;
        for (id, members) in by_id {
            if members.len() < 2 {
                continue;
            }
            let keep = *members
                .iter()
                .min_by_key(|&&i| placed[i].1.clone())
                .unwrap();
            for i in members {
                if i != keep {
                    placed[i].0 = rename_target(&id, &placed[i].1);
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    let id_of: BTreeMap<Origin, String> = placed
        .iter()
        .map(|(id, o)| (o.clone(), id.clone()))
        .collect();
    let mut fields: BTreeMap<(Origin, String), (Stamp, String)> = BTreeMap::new();
    let mut labels: BTreeMap<(Origin, String), (Stamp, bool)> = BTreeMap::new();
    let mut deps: BTreeMap<(Origin, Origin), (Stamp, bool)> = BTreeMap::new();
    let mut beads: BTreeMap<Origin, Bead> = BTreeMap::new();
    let newer = |old: Option<&Stamp>, at: &Stamp| old.is_none_or(|o| at > o);
    for event in &seen {
        match event {
            Event::Create { origin, title, .. } => {
                beads.insert(
                    origin.clone(),
                    Bead {
                        origin: origin.clone(),
                        fields: BTreeMap::new(),
                        labels: BTreeSet::new(),
                        deps: BTreeSet::new(),
                        comments: BTreeSet::new(),
                        deleted: false,
                    },
                );
                let key = (origin.clone(), "title".to_string());
                if newer(fields.get(&key).map(|v| &v.0), &origin.at) {
                    fields.insert(key, (origin.at.clone(), title.clone()));
                }
            }
            Event::Set {
                target,
                field,
                value,
                at,
            } => {
                let key = (target.clone(), field.clone());
                if newer(fields.get(&key).map(|v| &v.0), at) {
                    fields.insert(key, (at.clone(), value.to_string()));
                }
            }
            Event::Label {
                target,
                label,
                on,
                at,
            } => {
                let key = (target.clone(), label.clone());
                if newer(labels.get(&key).map(|v| &v.0), at) {
                    labels.insert(key, (at.clone(), *on));
                }
            }
            Event::Dep { from, to, on, at } => {
                let key = (from.clone(), to.clone());
                if newer(deps.get(&key).map(|v| &v.0), at) {
                    deps.insert(key, (at.clone(), *on));
                }
            }
            Event::Comment { .. } | Event::Delete { .. } => {}
        }
    }
    for event in &seen {
        match event {
            Event::Comment { target, key } => {
                beads.get_mut(target).unwrap().comments.insert(key.clone());
            }
            Event::Delete { target } => beads.get_mut(target).unwrap().deleted = true,
            _ => {}
        }
    }
    for ((origin, field), (_, value)) in fields {
        beads.get_mut(&origin).unwrap().fields.insert(field, value);
    }
    for ((origin, label), (_, on)) in labels {
        if on {
            beads.get_mut(&origin).unwrap().labels.insert(label);
        }
    }
    for ((from, to), (_, on)) in deps {
        if on {
            beads
                .get_mut(&from)
                .unwrap()
                .deps
                .insert(id_of[&to].clone());
        }
    }
    beads
        .into_iter()
        .map(|(origin, bead)| (id_of[&origin].clone(), bead))
        .collect()
}

/// The bead state a clone actually holds.
fn materialise(store: &Store, clone: usize) -> BTreeMap<String, (Record, Bead)> {
    let snap = store.snapshot(&format!("c{clone}")).unwrap();
    let mut out = BTreeMap::new();
    for (path, blob) in snap.walk("beads").unwrap() {
        let record = Record::parse(&snap.read_blob(blob).unwrap()).unwrap();
        let id = id_from_path(&path).unwrap().to_string();
        assert_eq!(record.id, id, "record id matches its path");
        let bead = Bead {
            origin: record.origin.clone(),
            fields: record
                .fields
                .iter()
                .map(|(k, r)| (k.clone(), r.v.to_string()))
                .collect(),
            labels: record.label_names().map(str::to_string).collect(),
            deps: record
                .deps
                .iter()
                .filter(|(_, m)| m.on)
                .map(|(k, _)| k.clone())
                .collect(),
            comments: record.comments.keys().cloned().collect(),
            deleted: record.is_deleted(),
        };
        out.insert(id, (record, bead));
    }
    out
}

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    events: Vec<Event>,
    seen: Vec<BTreeSet<usize>>,
    counter: usize,
}

impl World {
    fn new(clones: usize) -> World {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("git")
            .args(["init", "-q", "--bare"])
            .arg(dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        let store = Store::open(dir.path()).unwrap();
        let world = World {
            _dir: dir,
            store,
            events: Vec::new(),
            seen: vec![BTreeSet::new(); clones],
            counter: 0,
        };
        world.write(0, "init", |_| {
            vec![("meta/config.json".into(), b"{}\n".to_vec())]
        });
        for clone in 1..clones {
            let tip = world.store.snapshot("c0").unwrap().tip.unwrap();
            beads_merge(&world.store, &format!("c{clone}"), tip, &actor(clone), "c0").unwrap();
        }
        world
    }

    /// Live ids on a clone, sorted; `pick` chooses one by index.
    fn live(&self, clone: usize) -> Vec<(String, Record)> {
        materialise(&self.store, clone)
            .into_iter()
            .filter(|(_, (r, _))| !r.is_deleted())
            .map(|(id, (r, _))| (id, r))
            .collect()
    }

    /// One write on a clone: `change` gets the write's clock and returns the files to put.
    fn write(
        &self,
        clone: usize,
        what: &str,
        mut change: impl FnMut(u64) -> Vec<(String, Vec<u8>)>,
    ) -> u64 {
        self.store
            .write(&format!("c{clone}"), &actor(clone), |_, batch| {
                let clock = batch.clock;
                for (path, bytes) in change(clock) {
                    batch.put(path, bytes);
                }
                Ok(Outcome::Commit {
                    message: what.to_string(),
                    value: clock,
                })
            })
            .unwrap()
    }

    /// Record the events of one write, checking it was stamped after all its clone had seen.
    fn record_events(&mut self, clone: usize, events: Vec<Event>) {
        let max_seen = self.seen[clone]
            .iter()
            .map(|&i| self.events[i].clock())
            .max()
            .unwrap_or(0);
        for event in events {
            let clock = event.clock();
            if clock != 0 {
                assert!(
                    clock > max_seen,
                    "write at clock {clock} on c{clone} after seeing {max_seen}"
                );
            }
            self.events.push(event);
            self.seen[clone].insert(self.events.len() - 1);
        }
    }

    fn apply(&mut self, op: &Op, clones: usize) {
        match *op {
            Op::Sync { a, b } => {
                let (a, b) = (a % clones, b % clones);
                if a == b {
                    return;
                }
                let theirs = self.store.snapshot(&format!("c{b}")).unwrap().tip.unwrap();
                beads_merge(&self.store, &format!("c{a}"), theirs, &actor(a), "peer").unwrap();
                let ours = self.store.snapshot(&format!("c{a}")).unwrap().tip.unwrap();
                let back =
                    beads_merge(&self.store, &format!("c{b}"), ours, &actor(b), "peer").unwrap();
                assert!(
                    ["fast-forward", "up-to-date"].contains(&back.action.as_str()),
                    "{}",
                    back.action
                );
                let union: BTreeSet<usize> = self.seen[a].union(&self.seen[b]).copied().collect();
                self.seen[a] = union.clone();
                self.seen[b] = union;
                let tree = |c: usize| self.store.snapshot(&format!("c{c}")).unwrap().tree;
                assert_eq!(tree(a), tree(b));
            }
            Op::Create { clone, slot } => {
                let clone = clone % clones;
                let id = IDS[slot].to_string();
                if materialise(&self.store, clone).contains_key(&id) {
                    return;
                }
                self.create(clone, id, None);
            }
            Op::Child { clone, target } => {
                let clone = clone % clones;
                let live = self.live(clone);
                if live.is_empty() || live.len() > 12 {
                    return;
                }
                let (parent, parent_rec) = live[target % live.len()].clone();
                let all = materialise(&self.store, clone);
                let id = (1..)
                    .map(|n| format!("{parent}.{n}"))
                    .find(|c| !all.contains_key(c))
                    .unwrap();
                self.create(clone, id, Some((parent, parent_rec.origin)));
            }
            Op::Set {
                clone,
                target,
                field,
                value,
            } => self.edit(clone, target, |stamp, r| {
                let field = FIELDS[field].to_string();
                let value = json!(format!("v{value}"));
                (
                    vec![Event::Set {
                        target: r.origin.clone(),
                        field: field.clone(),
                        value: value.clone(),
                        at: stamp.clone(),
                    }],
                    Box::new(move |r: &mut Record, s: &Stamp| {
                        r.fields.insert(
                            field.clone(),
                            Register {
                                v: value.clone(),
                                at: s.clone(),
                            },
                        );
                    }),
                )
            }),
            Op::Label {
                clone,
                target,
                label,
                on,
            } => self.edit(clone, target, |stamp, r| {
                let label = format!("l{label}");
                (
                    vec![Event::Label {
                        target: r.origin.clone(),
                        label: label.clone(),
                        on,
                        at: stamp.clone(),
                    }],
                    Box::new(move |r: &mut Record, s: &Stamp| {
                        r.labels.insert(
                            label.clone(),
                            Member {
                                on,
                                at: s.clone(),
                                data: Default::default(),
                            },
                        );
                    }),
                )
            }),
            Op::Dep {
                clone,
                target,
                to,
                on,
            } => {
                let clone = clone % clones;
                let live = self.live(clone);
                if live.len() < 2 {
                    return;
                }
                let (to_id, to_rec) = live[to % live.len()].clone();
                let (from_id, _) = &live[target % live.len()];
                if *from_id == to_id {
                    return;
                }
                let to_origin = to_rec.origin.clone();
                self.edit(clone, target, |stamp, r| {
                    (
                        vec![Event::Dep {
                            from: r.origin.clone(),
                            to: to_origin.clone(),
                            on,
                            at: stamp.clone(),
                        }],
                        Box::new(move |r: &mut Record, s: &Stamp| {
                            let mut data = serde_json::Map::new();
                            data.insert("type".into(), json!("blocks"));
                            r.deps.insert(
                                to_id.clone(),
                                Member {
                                    on,
                                    at: s.clone(),
                                    data,
                                },
                            );
                        }),
                    )
                })
            }
            Op::Comment { clone, target } => {
                self.counter += 1;
                let key = format!("k{}", self.counter);
                self.edit(clone, target, |_, r| {
                    (
                        vec![Event::Comment {
                            target: r.origin.clone(),
                            key: key.clone(),
                        }],
                        Box::new(move |r: &mut Record, _: &Stamp| {
                            r.comments.insert(key.clone(), json!({"text": key}));
                        }),
                    )
                })
            }
            Op::Delete { clone, target } => self.edit(clone, target, |_, r| {
                (
                    vec![Event::Delete {
                        target: r.origin.clone(),
                    }],
                    Box::new(|r: &mut Record, s: &Stamp| r.deleted = Some(s.clone())),
                )
            }),
        }
    }

    #[allow(clippy::type_complexity)]
    fn edit(
        &mut self,
        clone: usize,
        target: usize,
        make: impl FnOnce(&Stamp, &Record) -> (Vec<Event>, Box<dyn Fn(&mut Record, &Stamp)>),
    ) {
        let clones = self.seen.len();
        let clone = clone % clones;
        let live = self.live(clone);
        if live.is_empty() {
            return;
        }
        let (id, record) = live[target % live.len()].clone();
        let clock = self.store.snapshot(&format!("c{clone}")).unwrap().clock + 1;
        let stamp = Stamp(clock, actor(clone).name);
        let (events, edit) = make(&stamp, &record);
        let written = self.write(clone, "edit", |clock| {
            let mut r = record.clone();
            edit(&mut r, &Stamp(clock, stamp.1.clone()));
            vec![(record_path(&id), r.to_bytes())]
        });
        assert_eq!(written, clock, "a write stamps with tip clock + 1");
        self.record_events(clone, events);
    }

    fn create(&mut self, clone: usize, id: String, parent: Option<(String, Origin)>) {
        self.counter += 1;
        let n = self.counter;
        let name = actor(clone).name;
        let title = format!("t{n}");
        let clock = self.write(clone, "create", |clock| {
            let stamp = Stamp(clock, name.clone());
            let mut r = Record::new(id.clone(), origin(clock, &name, &format!("n{n}")));
            r.fields.insert(
                "title".into(),
                Register {
                    v: json!(title),
                    at: stamp.clone(),
                },
            );
            if let Some((parent_id, _)) = &parent {
                let mut data = serde_json::Map::new();
                data.insert("type".into(), json!("parent-child"));
                r.deps.insert(
                    parent_id.clone(),
                    Member {
                        on: true,
                        at: stamp,
                        data,
                    },
                );
            }
            vec![(record_path(&id), r.to_bytes())]
        });
        let origin = origin(clock, &name, &format!("n{n}"));
        let mut events = vec![Event::Create {
            born: id,
            origin: origin.clone(),
            title: json!(title).to_string(),
        }];
        if let Some((_, parent_origin)) = parent {
            events.push(Event::Dep {
                from: origin.clone(),
                to: parent_origin,
                on: true,
                at: origin.at,
            });
        }
        self.record_events(clone, events);
    }

    fn check(&self, clone: usize) {
        let actual: BTreeMap<String, Bead> = materialise(&self.store, clone)
            .into_iter()
            .map(|(id, (_, b))| (id, b))
            .collect();
        let expected = model(&self.events, &self.seen[clone]);
        assert_eq!(actual, expected, "clone c{clone} differs from the model");
    }
}

fn beads_merge(
    store: &Store,
    collection: &str,
    theirs: gix::ObjectId,
    actor: &Actor,
    from: &str,
) -> gastown::Result<CollectionReport> {
    merge_tip_as(
        store,
        collection,
        &gastown::store::collection::WORK,
        theirs,
        actor,
        from,
    )
}

fn actor(clone: usize) -> Actor {
    Actor {
        name: format!("actor{clone}"),
        email: format!("a{clone}@example.com"),
    }
}

fn origin(clock: u64, actor: &str, nonce: &str) -> Origin {
    Origin {
        at: Stamp(clock, actor.to_string()),
        nonce: nonce.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn clones_converge_to_the_model_whatever_the_sync_order(
        clones in 2usize..=3,
        ops in prop::collection::vec(op(), 1..36),
        finale in prop::collection::vec((0usize..3, 0usize..3), 0..4),
    ) {
        let mut world = World::new(clones);
        for op in &ops {
            world.apply(op, clones);
            for clone in 0..clones {
                world.check(clone);
            }
        }
        // A few random syncs, then everyone syncs with everyone: all converge.
        for (a, b) in finale {
            world.apply(&Op::Sync { a, b }, clones);
        }
        for _ in 0..2 {
            for a in 0..clones {
                world.apply(&Op::Sync { a, b: (a + 1) % clones }, clones);
            }
        }
        let tree = |c: usize| world.store.snapshot(&format!("c{c}")).unwrap().tree;
        for clone in 0..clones {
            prop_assert_eq!(tree(clone), tree(0));
            prop_assert_eq!(world.seen[clone].len(), world.events.len());
            world.check(clone);
        }
    }
}

#[test]
fn three_way_id_collision_resolves_the_same_in_every_order() {
    for order in [[0usize, 1, 2], [2, 1, 0], [1, 0, 2]] {
        let mut world = World::new(3);
        for clone in 0..3 {
            world.apply(&Op::Create { clone, slot: 0 }, 3);
        }
        world.apply(
            &Op::Sync {
                a: order[0],
                b: order[1],
            },
            3,
        );
        world.apply(
            &Op::Sync {
                a: order[1],
                b: order[2],
            },
            3,
        );
        world.apply(
            &Op::Sync {
                a: order[0],
                b: order[2],
            },
            3,
        );
        for clone in 0..3 {
            world.check(clone);
            let state = materialise(&world.store, clone);
            assert_eq!(
                state.len(),
                3,
                "all three beads survive: {:?}",
                state.keys()
            );
        }
    }
}
