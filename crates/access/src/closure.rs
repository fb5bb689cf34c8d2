//! The principal and the groups it belongs to, transitively (spec §2, §6).
//!
//! A principal's groups are the union of its direct groups' cached upward
//! closures (see `index.rs`), so asking "does this grant reach the principal"
//! is a few binary searches. Distances give the shortest chain.

use crate::index::{AccessIndex, Ix, NONE, Up};
use deputy_types::RecipientId;
use std::cell::OnceCell;

/// Above this ratio of entries to holders, a list is searched holder by holder.
const SCAN_RATIO: usize = 4;

/// How a holder reaches the principal: membership steps and the direct group
/// it goes through (`NONE` for the principal itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Path {
    /// The holder: the principal or one of its groups.
    pub(crate) node: Ix,
    /// Membership steps from the principal.
    pub(crate) dist: u32,
    /// The principal's direct group on a shortest path.
    pub(crate) via: Ix,
}

/// A principal and every group whose grants reach it.
pub(crate) struct Closure<'a> {
    index: &'a AccessIndex,
    principal: Ix,
    /// The principal's direct groups (those that do not confer have no closure).
    parents: &'a [Ix],
    /// Every holder, nearest first; built only when needed.
    all: OnceCell<Vec<Path>>,
}

impl<'a> Closure<'a> {
    /// The holders for `principal`: itself and its conferring groups, with cycles tolerated.
    pub(crate) fn of(index: &'a AccessIndex, principal: Ix) -> Self {
        Self { index, principal, parents: &index.node(principal).parents, all: OnceCell::new() }
    }

    /// The principal's direct groups that confer, with their closures.
    fn direct(&self) -> impl Iterator<Item = (Ix, &'a [Up])> + '_ {
        let index = self.index;
        self.parents.iter().filter(move |&&g| index.confers(g)).map(move |&g| (g, index.node(g).up.as_slice()))
    }

    /// The principal's index.
    pub(crate) fn principal(&self) -> Ix {
        self.principal
    }

    /// How `node` reaches the principal, if it does.
    pub(crate) fn path(&self, node: Ix) -> Option<Path> {
        if node == self.principal {
            return Some(Path { node, dist: 0, via: NONE });
        }
        let mut best: Option<Path> = None;
        for (g, up) in self.direct() {
            if let Ok(at) = up.binary_search_by_key(&node, |u| u.node) {
                let dist = up[at].dist + 1;
                if best.is_none_or(|b| dist < b.dist) {
                    best = Some(Path { node, dist, via: g });
                }
            }
        }
        best
    }

    /// Every holder, nearest first (the principal first).
    pub(crate) fn all(&self) -> &[Path] {
        self.all.get_or_init(|| {
            let mut all = vec![Path { node: self.principal, dist: 0, via: NONE }];
            for (g, up) in self.direct() {
                all.extend(up.iter().map(|u| Path { node: u.node, dist: u.dist + 1, via: g }));
            }
            all.sort_unstable_by_key(|p| (p.node, p.dist));
            all.dedup_by_key(|p| p.node);
            all.sort_by_key(|p| p.dist);
            all
        })
    }

    fn size_hint(&self) -> usize {
        1 + self.direct().map(|(_, up)| up.len()).sum::<usize>()
    }

    /// The nearest holder that `sorted` (by node) contains, with the entry found.
    pub(crate) fn first_in<'e, T>(&self, sorted: &'e [T], key: impl Fn(&T) -> Ix) -> Option<(Path, &'e T)> {
        if sorted.is_empty() {
            return None;
        }
        if sorted.len() > SCAN_RATIO * self.size_hint() {
            return self
                .all()
                .iter()
                .find_map(|p| sorted.binary_search_by_key(&p.node, &key).ok().map(|at| (*p, &sorted[at])));
        }
        let mut best: Option<(Path, &T)> = None;
        for e in sorted {
            if let Some(p) = self.path(key(e))
                && best.is_none_or(|(b, _)| p.dist < b.dist)
            {
                best = Some((p, e));
            }
        }
        best
    }

    /// The groups from the principal up to `path.node` (empty for the
    /// principal itself), as [`crate::Grant::chain`] wants them.
    pub(crate) fn chain(&self, path: Path) -> Vec<RecipientId> {
        let Some((_, up)) = self.direct().find(|(g, _)| *g == path.via) else { return Vec::new() };
        let mut chain = Vec::with_capacity(path.dist as usize);
        let mut at = path.node;
        // Each step follows a shortest-path predecessor towards `via`; the
        // bound guards against a malformed closure rather than loop forever.
        while chain.len() < up.len() {
            chain.push(self.index.id(at));
            match up.binary_search_by_key(&at, |u| u.node) {
                Ok(i) if up[i].pred != NONE => at = up[i].pred,
                _ => break,
            }
        }
        chain.reverse();
        chain
    }
}
