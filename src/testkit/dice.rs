//! The generator's seeded random choices (ChaCha8): the same seed gives the same practice.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seeded random choices.
pub(super) struct Dice(ChaCha8Rng);

impl Dice {
    pub(super) fn seeded(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.0.random_range(0..n) }
    }

    /// Uniform index into a collection of `len` items (0 when it is empty).
    pub(super) fn index(&mut self, len: usize) -> usize {
        if len == 0 {
            0
        } else {
            self.0.random_range(0..len)
        }
    }

    /// True with probability `percent`/100.
    pub(super) fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One item of a constant, non-empty list.
    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }
}
