//! The permission engine at organization scale: 100,000 recipients, 1,000,000
//! grants, groups nested 5 deep. Goal: p99 of one `decide` under 2 µs.
//!
//! Besides criterion's figures, prints the median and p99 of 100,000 single
//! timed decisions against a baseline measured in the same run (one
//! `FxHashMap` lookup of a recipient id, timed the same way).

use criterion::Criterion;
use deputy_access::{AccessIndex, Action, Facts, FolderOp};
use deputy_types::{
    FolderAce, FolderId, FolderRole, FolderUser, InheritanceType, MailboxAce, MailboxRights, RecipientId,
    RecipientType, SendAsAce, SharingFlags,
};
use rustc_hash::{FxHashMap, FxHashSet};
use std::hint::black_box;
use std::time::{Duration, Instant};

const USERS: usize = 90_000;
const SHARED: usize = 5_000;
/// Groups per nesting level, from the level users are in (0) to the top (4).
const LEVELS: [usize; 5] = [3_000, 1_000, 500, 300, 200];
const FULL_ACCESS: usize = 400_000;
const SEND_AS: usize = 300_000;
const SEND_ON_BEHALF: usize = 100_000;
const FOLDER_ENTRIES: usize = 200_000;
const SAMPLES: usize = 100_000;

/// SplitMix64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())]
    }
}

/// Who asks, what, about whom.
type Question = (RecipientId, Action, RecipientId);

/// The organization and questions to ask it.
struct World {
    index: AccessIndex,
    users: Vec<RecipientId>,
    /// (principal, action, target) that a nested group allows.
    nested: Vec<Question>,
    /// Allowed by a direct grant.
    direct: Vec<Question>,
    /// Random pairs: almost all denied after a full look at the principal's groups.
    denied: Vec<Question>,
    /// Folder operations through folder entries.
    folders: Vec<Question>,
}

fn facts(kind: RecipientType) -> Facts {
    Facts { kind, hidden: false, account_disabled: !kind.can_sign_in() }
}

impl World {
    fn build() -> Self {
        let mut rng = Rng(0x5EED);
        let mut index = AccessIndex::new();
        let mut next = 0u128;
        let mut fresh = || {
            next += 1;
            RecipientId::from_u128(next)
        };
        let users: Vec<RecipientId> = (0..USERS).map(|_| fresh()).collect();
        let shared: Vec<RecipientId> = (0..SHARED).map(|_| fresh()).collect();
        let levels: Vec<Vec<RecipientId>> = LEVELS.iter().map(|&n| (0..n).map(|_| fresh()).collect()).collect();
        for &u in &users {
            index.upsert_recipient(u, facts(RecipientType::UserMailbox), &[]);
        }
        for &s in &shared {
            index.upsert_recipient(s, facts(RecipientType::SharedMailbox), &[]);
        }
        // Children lists let the bench find a user below a group.
        let mut children: FxHashMap<RecipientId, Vec<RecipientId>> = FxHashMap::default();
        for groups in &levels {
            for &g in groups {
                index.upsert_recipient(g, facts(RecipientType::MailUniversalSecurityGroup), &[]);
            }
        }
        for &u in &users {
            for _ in 0..3 {
                let g = rng.pick(&levels[0]);
                index.add_member(g, u);
                children.entry(g).or_default().push(u);
            }
        }
        for level in 0..LEVELS.len() - 1 {
            for &g in &levels[level] {
                let parents = if rng.below(10) < 3 { 2 } else { 1 };
                for _ in 0..parents {
                    let up = rng.pick(&levels[level + 1]);
                    index.add_member(up, g);
                    children.entry(up).or_default().push(g);
                }
            }
        }
        let is_user: FxHashSet<RecipientId> = users.iter().copied().collect();
        let is_shared: FxHashSet<RecipientId> = shared.iter().copied().collect();
        let mailboxes: Vec<RecipientId> = users.iter().chain(&shared).copied().collect();
        let all_groups: Vec<RecipientId> = levels.iter().flatten().copied().collect();
        let leaf_below = |rng: &mut Rng, mut g: RecipientId| {
            while let Some(kids) = children.get(&g) {
                g = rng.pick(kids);
            }
            g
        };
        let trustee = |rng: &mut Rng| if rng.below(10) < 7 { rng.pick(&users) } else { rng.pick(&all_groups) };

        let (mut nested, mut direct, mut denied, mut folder_qs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..FULL_ACCESS {
            let target = rng.pick(&mailboxes);
            let t = trustee(&mut rng);
            let deny = i % 50 == 0;
            let rights = MailboxRights::FULL_ACCESS;
            let automapping = true;
            index.put_mailbox_ace(&MailboxAce {
                target,
                trustee: t,
                rights,
                deny,
                inheritance: InheritanceType::All,
                automapping,
            });
            if i % 8 == 0 {
                if is_user.contains(&t) {
                    direct.push((t, Action::OpenMailbox, target));
                } else {
                    nested.push((leaf_below(&mut rng, t), Action::OpenMailbox, target));
                }
            }
        }
        for _ in 0..SEND_AS {
            let target = rng.pick(&mailboxes);
            let t = trustee(&mut rng);
            index.put_send_as(&SendAsAce { target, trustee: t, deny: false });
            if rng.below(8) == 0 {
                let q = if is_user.contains(&t) { &mut direct } else { &mut nested };
                q.push((leaf_below(&mut rng, t), Action::Send, target));
            }
        }
        let mut sob: FxHashMap<RecipientId, Vec<RecipientId>> = FxHashMap::default();
        for _ in 0..SEND_ON_BEHALF {
            let target = rng.pick(&mailboxes);
            let t = trustee(&mut rng);
            sob.entry(target).or_default().push(t);
            if rng.below(8) == 0 {
                nested.push((leaf_below(&mut rng, t), Action::Send, target));
            }
        }
        for (target, list) in &sob {
            let kind =
                if is_shared.contains(target) { RecipientType::SharedMailbox } else { RecipientType::UserMailbox };
            index.upsert_recipient(*target, facts(kind), list);
        }
        let mut folders = Vec::with_capacity(mailboxes.len() * 2);
        for (i, &m) in mailboxes.iter().enumerate() {
            for cal in [false, true] {
                let f = FolderId::from_u128(((i as u128) << 1) | u128::from(cal));
                index.put_folder(f, m, cal);
                folders.push((f, m));
            }
        }
        for _ in 0..FOLDER_ENTRIES {
            let (folder, mailbox) = rng.pick(&folders);
            let t = trustee(&mut rng);
            let role = FolderRole::ALL[rng.below(FolderRole::ALL.len())];
            let user = FolderUser::Recipient(t);
            index.put_folder_ace(&FolderAce {
                mailbox,
                folder,
                user,
                rights: role.rights(),
                flags: SharingFlags::empty(),
            });
            if rng.below(4) == 0 {
                let op = FolderOp::EditItem { creator: Some(leaf_below(&mut rng, t)) };
                folder_qs.push((leaf_below(&mut rng, t), Action::Folder { folder, op }, mailbox));
            }
        }
        for _ in 0..SAMPLES {
            let action = if rng.below(2) == 0 { Action::OpenMailbox } else { Action::Send };
            denied.push((rng.pick(&users), action, rng.pick(&mailboxes)));
        }
        Self { index, users, nested, direct, denied, folders: folder_qs }
    }

    /// The realistic mix: 30% nested group, 30% direct, 30% denied, 10% folder.
    fn mix(&self, n: usize) -> Vec<Question> {
        let mut rng = Rng(7);
        (0..n)
            .map(|_| match rng.below(10) {
                0..=2 => rng.pick(&self.nested),
                3..=5 => rng.pick(&self.direct),
                6..=8 => rng.pick(&self.denied),
                _ => rng.pick(&self.folders),
            })
            .collect()
    }
}

/// Median and p99 of single timed calls.
fn percentiles(mut ns: Vec<u64>) -> (u64, u64) {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 * q) as usize).min(ns.len() - 1)];
    (at(0.5), at(0.99))
}

fn time_each<T: Copy>(inputs: &[T], mut f: impl FnMut(T)) -> Vec<u64> {
    inputs
        .iter()
        .map(|&x| {
            let start = Instant::now();
            f(x);
            start.elapsed().as_nanos() as u64
        })
        .collect()
}

fn report(world: &World) {
    let mix = world.mix(SAMPLES);
    // Warm up caches and branch predictors the way a running server would be.
    for &(p, a, t) in &mix {
        black_box(world.index.decide(p, a, t));
    }
    let mut map: FxHashMap<RecipientId, u32> = FxHashMap::default();
    for (i, &u) in world.users.iter().enumerate() {
        map.insert(u, i as u32);
    }
    let keys: Vec<RecipientId> = mix.iter().map(|&(p, _, _)| p).collect();
    let timer = percentiles(time_each(&keys, |k| {
        black_box(k);
    }));
    let base = percentiles(time_each(&keys, |k| {
        black_box(map.get(&k));
    }));
    println!("\n== single-call timings, {SAMPLES} samples each (ns; Instant overhead included) ==");
    println!("{:<32} {:>8} {:>8} {:>10} {:>10}", "", "median", "p99", "median/bl", "p99/bl");
    let line = |name: &str, (m, p): (u64, u64)| {
        let ratio = |a: u64, b: u64| a as f64 / b.max(1) as f64;
        println!("{name:<32} {m:>8} {p:>8} {:>10.1} {:>10.1}", ratio(m, base.0), ratio(p, base.1));
    };
    line("empty timed section", timer);
    line("baseline: FxHashMap lookup", base);
    let cases: [(&str, &[Question]); 5] = [
        ("decide: realistic mix", &mix),
        ("decide: via nested group", &world.nested),
        ("decide: direct grant", &world.direct),
        ("decide: denied (random pair)", &world.denied),
        ("decide: folder entry", &world.folders),
    ];
    let mut mix_p99 = 0;
    for (name, qs) in cases {
        let qs: Vec<_> = qs.iter().cycle().take(SAMPLES).copied().collect();
        let allowed = qs.iter().filter(|&&(p, a, t)| world.index.decide(p, a, t).allowed).count();
        let fig = percentiles(time_each(&qs, |(p, a, t)| {
            black_box(world.index.decide(p, a, t));
        }));
        if name.ends_with("mix") {
            mix_p99 = fig.1;
        }
        line(&format!("{name} ({}% allowed)", allowed * 100 / qs.len()), fig);
    }
    let principals: Vec<RecipientId> = world.users.iter().take(10_000).copied().collect();
    let sizes: usize = principals.iter().map(|&p| world.index.delegations(p).len()).sum();
    let fig = percentiles(time_each(&principals, |p| {
        black_box(world.index.delegations(p));
    }));
    line(&format!("delegations (avg {} entries)", sizes / principals.len()), fig);
    let verdict = if mix_p99 < 2_000 { "met" } else { "NOT met" };
    println!("goal p99(decide, mix) < 2000 ns: {verdict} ({mix_p99} ns)\n");
}

fn main() {
    let start = Instant::now();
    let world = World::build();
    println!("built 100,000 recipients, 1,000,000 grants, 5 nesting levels in {:.1} s", start.elapsed().as_secs_f64());
    report(&world);

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    let mix = world.mix(SAMPLES);
    let mut i = 0;
    let mut bench_list = |c: &mut Criterion, name: &str, qs: &[Question]| {
        c.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % qs.len();
                let (p, a, t) = qs[i];
                black_box(world.index.decide(p, a, t))
            })
        });
    };
    bench_list(&mut c, "decide/mix", &mix);
    bench_list(&mut c, "decide/nested_group", &world.nested);
    bench_list(&mut c, "decide/denied", &world.denied);
    let mut map: FxHashMap<RecipientId, u32> = FxHashMap::default();
    for (n, &u) in world.users.iter().enumerate() {
        map.insert(u, n as u32);
    }
    let mut j = 0;
    c.bench_function("baseline/fxhashmap_lookup", |b| {
        b.iter(|| {
            j = (j + 1) % world.users.len();
            black_box(map.get(&world.users[j]))
        })
    });
    let mut k = 0;
    c.bench_function("delegations", |b| {
        b.iter(|| {
            k = (k + 1) % world.users.len();
            black_box(world.index.delegations(world.users[k]))
        })
    });
    c.final_summary();
}
