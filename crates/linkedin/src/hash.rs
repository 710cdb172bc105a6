//! Stable hashing for the sandbox: every simulated decision is a pure function of its inputs.
//!
//! Rule: a decision is `Hasher::new(seed).str(purpose).…finish()`; each purpose has its own
//! label so that decisions are independent, and the algorithm (FNV-1a over the bytes, then the
//! SplitMix64 finaliser) is fixed forever — changing it would change every simulated network.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// Separates fields so that `("ab", "c")` and `("a", "bc")` hash differently.
const FIELD_SEPARATOR: u8 = 0x1f;
/// 2^53, the number of distinct `f64` values in `[0, 1)` that [`unit`] produces.
const UNIT_SCALE: f64 = 9_007_199_254_740_992.0;

/// Builds one decision hash from a seed and labelled fields.
#[derive(Debug, Clone, Copy)]
pub struct Hasher(u64);

impl Hasher {
    pub fn new(seed: u64) -> Self {
        Self(FNV_OFFSET).u64(seed)
    }

    pub fn bytes(mut self, bytes: &[u8]) -> Self {
        for byte in bytes.iter().chain(std::iter::once(&FIELD_SEPARATOR)) {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        self
    }

    pub fn str(self, text: &str) -> Self {
        self.bytes(text.as_bytes())
    }

    pub fn u64(self, value: u64) -> Self {
        self.bytes(&value.to_le_bytes())
    }

    pub fn i64(self, value: i64) -> Self {
        self.bytes(&value.to_le_bytes())
    }

    pub fn finish(self) -> u64 {
        splitmix64(self.0)
    }

    /// The decision as a fraction in `[0, 1)`.
    pub fn unit(self) -> f64 {
        unit(self.finish())
    }

    /// The decision as an index below `len` (`len` must be non-zero).
    pub fn index(self, len: usize) -> usize {
        let len = u64::try_from(len).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.finish() % len).unwrap_or(0)
    }
}

/// The SplitMix64 finaliser: spreads every input bit over the whole output.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A hash as a fraction in `[0, 1)`.
pub fn unit(hash: u64) -> f64 {
    // 53 bits fit an f64 mantissa exactly.
    let top = (hash >> 11) as f64;
    top / UNIT_SCALE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_hash_and_fields_are_separated() {
        let a = Hasher::new(7).str("accept").str("jane-doe").finish();
        assert_eq!(a, Hasher::new(7).str("accept").str("jane-doe").finish());
        assert_ne!(a, Hasher::new(8).str("accept").str("jane-doe").finish());
        assert_ne!(
            Hasher::new(1).str("ab").str("c").finish(),
            Hasher::new(1).str("a").str("bc").finish()
        );
    }

    #[test]
    fn units_are_in_range_and_spread() {
        let values: Vec<f64> = (0..10_000u64)
            .map(|i| Hasher::new(3).u64(i).unit())
            .collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let below_half = values.iter().filter(|v| **v < 0.5).count();
        assert!((4_800..5_200).contains(&below_half), "{below_half}");
    }
}
