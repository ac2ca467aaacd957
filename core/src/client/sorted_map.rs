//! A map kept as a vector sorted by key: the client's tables (wanted rooms, pending requests).
//!
//! They hold a handful of entries, so a binary search over one vector serves as well as a
//! `BTreeMap`, whose node code is about 20 KB in the browser package (four instantiations)
//! against a few hundred bytes here (docs/DECISIONS.md, "The browser package's size"). Iterating
//! is in key order, as a `BTreeMap`'s.

use crate::prelude::*;

/// Entries sorted by key, each key once.
#[derive(Clone, Debug)]
pub(crate) struct SortedMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap(Vec::new())
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    fn find(&self, key: &K) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.cmp(key))
    }

    /// Sets `key`'s value, replacing any earlier one.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        match self.find(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    /// `key`'s value, inserted by `value` first when there is none.
    pub(crate) fn get_or_insert_with(&mut self, key: K, value: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (key, value()));
                i
            }
        };
        &mut self.0[i].1
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    pub(crate) fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }
}

impl<K, V> SortedMap<K, V> {
    /// The entries, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, v)| v)
    }

    /// Every entry, in key order, leaving the map empty.
    pub(crate) fn drain(&mut self) -> Vec<(K, V)> {
        core::mem::take(&mut self.0)
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn keeps_one_entry_per_key_in_key_order() {
        let mut map = SortedMap::default();
        for (k, v) in [(5, "e"), (1, "a"), (3, "c"), (1, "A")] {
            map.insert(k, v);
        }
        assert_eq!(map.iter().collect::<Vec<_>>(), [(&1, &"A"), (&3, &"c"), (&5, &"e")]);
        *map.get_or_insert_with(4, || "d") = "D";
        assert_eq!(map.get_or_insert_with(4, || "x"), &"D");
        assert_eq!(map.remove(&3), Some("c"));
        assert_eq!(map.remove(&3), None);
        assert!(map.contains_key(&4) && !map.contains_key(&3));
        assert_eq!(map.get(&5), Some(&"e"));
        assert_eq!(map.drain().into_iter().map(|(k, _)| k).collect::<Vec<_>>(), [1, 4, 5]);
        assert_eq!(map.keys().count(), 0);
    }
}
