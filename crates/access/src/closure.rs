//! The groups a principal belongs to, transitively (spec §2, §6).
//!
//! Computed per question by a breadth-first walk up the membership edges, so a
//! membership change is visible to the very next decision without any cache to
//! invalidate. Breadth-first order makes the first matching group also the one
//! with the shortest chain.

use crate::index::{AccessIndex, Ix};
use deputy_types::RecipientId;
use rustc_hash::FxHashMap;

/// Above this many groups, membership tests switch from a scan to a hash map.
const SCAN_LIMIT: usize = 32;

/// Marks the principal's own slot, which has no predecessor.
const ROOT: u32 = u32::MAX;

/// A principal and its groups in breadth-first order: `items[0]` is the
/// principal, and every other item names the slot it was reached from.
pub(crate) struct Closure {
    items: Vec<(Ix, u32)>,
    lookup: Option<FxHashMap<Ix, u32>>,
}

impl Closure {
    /// Walks up from `principal` through groups that confer permissions:
    /// recipients in the directory whose kind has a stored member list (every
    /// group but dynamic distribution groups). Cycles are tolerated.
    pub(crate) fn of(index: &AccessIndex, principal: Ix) -> Self {
        let mut c = Self { items: Vec::with_capacity(16), lookup: None };
        c.items.push((principal, ROOT));
        let mut head = 0;
        while let Some(&(n, _)) = c.items.get(head) {
            for &g in &index.node(n).parents {
                let confers = index.node(g).facts.is_some_and(|f| f.kind.has_static_members());
                if confers && c.position(g).is_none() {
                    c.push(g, head as u32);
                }
            }
            head += 1;
        }
        c
    }

    fn push(&mut self, node: Ix, from: u32) {
        let slot = self.items.len() as u32;
        self.items.push((node, from));
        if let Some(lookup) = &mut self.lookup {
            lookup.insert(node, slot);
        } else if self.items.len() > SCAN_LIMIT {
            self.lookup = Some(self.items.iter().enumerate().map(|(i, &(n, _))| (n, i as u32)).collect());
        }
    }

    /// The slot of `node`, if it is the principal or one of its groups.
    pub(crate) fn position(&self, node: Ix) -> Option<usize> {
        match &self.lookup {
            Some(lookup) => lookup.get(&node).map(|&i| i as usize),
            None => self.items.iter().position(|&(n, _)| n == node),
        }
    }

    /// The principal followed by its groups, nearest first.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (usize, Ix)> + '_ {
        self.items.iter().enumerate().map(|(i, &(n, _))| (i, n))
    }

    /// The node in a slot.
    pub(crate) fn node_at(&self, slot: usize) -> Ix {
        self.items.get(slot).map_or(ROOT, |&(n, _)| n)
    }

    /// The nearest slot whose node `sorted` contains, with the entry found.
    pub(crate) fn first_in<'a, T>(&self, sorted: &'a [T], key: impl Fn(&T) -> Ix) -> Option<(usize, &'a T)> {
        if sorted.is_empty() {
            return None;
        }
        self.nodes().find_map(|(slot, n)| sorted.binary_search_by_key(&n, &key).ok().map(|at| (slot, &sorted[at])))
    }

    /// The groups from the principal up to the node in `slot` (empty for the
    /// principal itself), as [`crate::Grant::chain`] wants them.
    pub(crate) fn chain(&self, index: &AccessIndex, slot: usize) -> Vec<RecipientId> {
        let mut chain = Vec::new();
        let mut at = slot;
        while let Some(&(n, from)) = self.items.get(at) {
            if from == ROOT {
                break;
            }
            chain.push(index.id(n));
            at = from as usize;
        }
        chain.reverse();
        chain
    }
}
