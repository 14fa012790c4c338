//! Small sorted collections: [`SortedMap`], a map kept as a sorted `Vec` for the session's
//! small maps (at most `MAX_PARTICIPANTS` peers, at most `REORDER_WINDOW` buffered messages),
//! and [`sort_dedup_few`] for sets of enum codes. They stand in for `BTreeMap` and `sort`,
//! for the wasm's size (docs/DEVELOPING.md, "Why size shapes the code"); for a handful of
//! entries they are as fast. `SortedMap` iterates in key order, like `BTreeMap`, so replacing
//! one with the other changes no behaviour.

/// Sorts and de-duplicates `v`, with the same result as `sort_unstable()` + `dedup()`, for
/// values with few distinct possibilities (enum variants, byte codes).
///
/// Each value is binary-searched in the (de-duplicated) output and inserted if new, so the
/// cost is O(n log d + d²) for `d` distinct values — linear in a hostile input's length,
/// since `d` is bounded by the type.
pub(crate) fn sort_dedup_few<T: Ord + Copy>(v: &mut Vec<T>) {
    let mut out: Vec<T> = Vec::new();
    for &x in v.iter() {
        if let Err(i) = out.binary_search(&x) {
            out.insert(i, x);
        }
    }
    *v = out;
}

/// A map from `K` to `V`, sorted by key.
#[derive(Clone)]
pub(crate) struct SortedMap<K, V>(Vec<(K, V)>);

/// Prints like `BTreeMap`: `{k: v, …}`.
impl<K: core::fmt::Debug, V: core::fmt::Debug> core::fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// An empty map.
    pub(crate) const fn new() -> Self {
        Self(Vec::new())
    }

    fn find(&self, key: &K) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.cmp(key))
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `key` has a value.
    pub(crate) fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// The value of `key`.
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        let i = self.find(key).ok()?;
        self.0.get(i).map(|(_, v)| v)
    }

    /// The value of `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let i = self.find(key).ok()?;
        self.0.get_mut(i).map(|(_, v)| v)
    }

    /// Sets the value of `key`, returning the previous one.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => self.0.get_mut(i).map(|(_, v)| core::mem::replace(v, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// The value of `key`, inserting `make()` first if it has none (`BTreeMap`'s
    /// `entry(key).or_insert_with(make)`).
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "part of the map's API; tested here")
    )]
    pub(crate) fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key, make()));
                i
            }
        };
        // `i` is in bounds: `find` found it, or it was just inserted there.
        &mut self.0[i].1
    }

    /// Removes every entry, dropping them in key order (as `BTreeMap::clear` does).
    #[cfg_attr(
        not(all(target_arch = "wasm32", feature = "web-call")),
        allow(dead_code, reason = "used by the browser driver only")
    )]
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let i = self.find(key).ok()?;
        Some(self.0.remove(i).1)
    }

    /// The keys, in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values, in key order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    /// The values, mutably, in key order.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, v)| v)
    }

    /// The entries, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The entries, values mutably, in key order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }
}

impl<K: Ord, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn sort_dedup_few_matches_sort_and_dedup() {
        let mut x: u32 = 1;
        for len in 0..200usize {
            let mut v: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    ((x >> 16) % 23) as u8
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            want.dedup();
            sort_dedup_few(&mut v);
            assert_eq!(v, want);
        }
    }

    #[test]
    fn behaves_like_a_btreemap() {
        let mut a = SortedMap::new();
        let mut b = BTreeMap::new();
        // A fixed pseudo-random sequence of inserts and removes over a small key space.
        let mut x: u32 = 7;
        for step in 0..2000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let key = (x >> 16) % 40;
            if x % 3 == 0 {
                assert_eq!(a.remove(&key), b.remove(&key));
            } else {
                assert_eq!(a.insert(key, step), b.insert(key, step));
            }
            assert_eq!(a.len(), b.len());
            assert_eq!(a.get(&key), b.get(&key));
            assert_eq!(a.contains_key(&key), b.contains_key(&key));
        }
        assert!(a.iter().eq(b.iter()));
        assert!(a.keys().eq(b.keys()));
        if let Some(v) = a.get_mut(&3) {
            *v = 99;
        }
        if let Some(v) = b.get_mut(&3) {
            *v = 99;
        }
        for (v, w) in a.values_mut().zip(b.values_mut()) {
            *v += 1;
            *w += 1;
        }
        for ((_, v), (_, w)) in a.iter_mut().zip(b.iter_mut()) {
            *v *= 2;
            *w *= 2;
        }
        assert!(a.values().eq(b.values()));
        for key in [5, 41, 0, 41, 17] {
            let made = 1000 + key;
            *a.get_or_insert_with(key, || made) += 1;
            *b.entry(key).or_insert_with(|| made) += 1;
        }
        assert!(a.iter().eq(b.iter()));
        a.clear();
        b.clear();
        assert_eq!(a.len(), b.len());
    }
}
