//! The recordIds seen so far in a job: each as a keyed 64-bit hash, with where it first
//! appeared.
//!
//! An open-addressing table of our own rather than a `HashMap`, for one reason: the slot a
//! record needs can be prefetched while the next record is parsed. A job of a million records
//! holds a million ids; the table outgrows the caches and every lookup is a read from memory,
//! which the prefetch hides behind the parse (a `HashMap` does not say where a key will live).

/// Slots are `[key, value]`; key 0 marks an empty slot (a hash of 0 is stored as 1: one more
/// chance in 2^64 of a false duplicate, beside the hash's own).
pub struct IdTable {
    slots: Vec<[u64; 2]>,
    len: usize,
}

impl Default for IdTable {
    fn default() -> Self {
        IdTable { slots: vec![[0, 0]; 1024], len: 0 }
    }
}

/// A zeroed table of `n` slots. From 2 MiB up it asks Linux to back it with huge pages: a
/// lookup lands on a random page, and with 4 KiB pages a million-record table misses the TLB
/// on nearly every one, a page walk the prefetch does not hide. Advice only: where the kernel
/// declines, the table works the same.
fn zeroed(n: usize) -> Vec<[u64; 2]> {
    let v = vec![[0u64, 0]; n];
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let (start, bytes) = (v.as_ptr() as usize, n * 16);
        let aligned = start.next_multiple_of(HUGE);
        let len = (start + bytes).saturating_sub(aligned) / HUGE * HUGE;
        if len > 0 {
            // SAFETY: the range lies inside the Vec's allocation; MADV_HUGEPAGE changes how its
            // pages are backed, never their contents.
            unsafe { libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
        }
    }
    v
}

impl IdTable {
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Asks the CPU to bring `key`'s slot into the cache; a hint, with no effect on the result.
    #[inline]
    pub fn prefetch(&self, key: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.slots.as_ptr().wrapping_add(key.max(1) as usize & self.mask());
            // SAFETY: a prefetch never faults and reads nothing the program sees; `p` is a slot
            // of the table in any case.
            unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = key;
    }

    /// Stores `value` under `key` unless the key is there already; then returns the value stored
    /// first (and keeps it).
    pub fn insert(&mut self, key: u64, value: u64) -> Option<u64> {
        let key = key.max(1);
        // At most half full: linear probing stays short, and four slots share a cache line.
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut i = key as usize & mask;
        loop {
            let [k, v] = self.slots[i];
            if k == 0 {
                self.slots[i] = [key, value];
                self.len += 1;
                return None;
            }
            if k == key {
                return Some(v);
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let bigger = zeroed(self.slots.len() * 2);
        let old = std::mem::replace(&mut self.slots, bigger);
        let mask = self.mask();
        for [k, v] in old.into_iter().filter(|s| s[0] != 0) {
            let mut i = k as usize & mask;
            while self.slots[i][0] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = [k, v];
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::IdTable;

    #[test]
    fn keeps_the_first_value_and_finds_every_key_after_growing() {
        let mut t = IdTable::default();
        // Keys that share their low bits collide in the table; 0 and 1 are the same key.
        let keys: Vec<u64> = (1..=5000u64).map(|n| n.wrapping_mul(0x9E37_79B9_7F4A_7C15) << 12).chain([0]).collect();
        for (n, &k) in keys.iter().enumerate() {
            assert_eq!(t.insert(k, n as u64), None, "key {n} is new");
        }
        assert_eq!(t.len(), keys.len());
        for (n, &k) in keys.iter().enumerate() {
            t.prefetch(k);
            assert_eq!(t.insert(k, 99_999), Some(n as u64), "key {n} keeps its first value");
        }
        assert_eq!(t.insert(1, 7), Some(5000), "0 is stored as 1");
        assert_eq!(t.len(), keys.len());
    }
}
