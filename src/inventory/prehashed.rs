//! Maps keyed by values that are hashes already (`key_of`'s SipHash of a
//! kind, namespace and name; a finding's SHA-256 fingerprint): the map
//! uses the key's own bits instead of hashing them a second time with
//! SipHash on every insert and lookup (a rule asks the inventory once per
//! object or more).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` whose keys (`u64`, `u128`) are uniformly distributed hashes.
pub type PrehashedMap<K, V> = HashMap<K, V, BuildHasherDefault<Prehashed>>;

/// Passes a hash through. Keys of other types still hash (FNV-1a over
/// their bytes), only not as well: the map is meant for hash keys.
#[derive(Default)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
    fn write_u128(&mut self, n: u128) {
        self.0 ^= n as u64 ^ (n >> 64) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_keys_pass_through_and_maps_still_work() {
        let mut h = Prehashed::default();
        h.write_u64(0xdead_beef);
        assert_eq!(h.finish(), 0xdead_beef);
        let mut m: PrehashedMap<u128, usize> = PrehashedMap::default();
        for i in 0..1000u128 {
            m.insert(i << 64 | i.wrapping_mul(0x9e37_79b9_7f4a_7c15), 0);
        }
        assert_eq!(m.len(), 1000);
        assert!(m.contains_key(&(5 << 64 | 5u128.wrapping_mul(0x9e37_79b9_7f4a_7c15))));
    }
}
