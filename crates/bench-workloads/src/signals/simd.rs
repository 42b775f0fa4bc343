//! AVX2 kernel of [`super::signals_prefix`]: the exact window-sum difference of four bars per
//! instruction, sign bits gathered into 64-bar masks. Exact zeros (ties) are rare; a block with
//! one is redone by the scalar code, so ties are decided exactly as everywhere else.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// `(above, below)` masks of a full 64-bar block, or `None` when a difference is exactly zero.
///
/// # Safety
/// The CPU must support AVX2 and FMA, and each slice must hold at least 64 values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn block(
    now: &[f64],
    fast_lag: &[f64],
    slow_lag: &[f64],
    a: f64,
    b: f64,
    c: f64,
) -> Option<(u64, u64)> {
    debug_assert!(now.len() >= 64 && fast_lag.len() >= 64 && slow_lag.len() >= 64);
    let (va, vb, vc) = (_mm256_set1_pd(a), _mm256_set1_pd(b), _mm256_set1_pd(c));
    let zero = _mm256_setzero_pd();
    let mut zeros = _mm256_setzero_pd();
    let mut below = 0u64;
    let mut j = 0;
    while j < 64 {
        // SAFETY: j + 4 ≤ 64 ≤ every slice's length.
        let (x, y, z) = unsafe {
            (
                _mm256_loadu_pd(now.as_ptr().add(j)),
                _mm256_loadu_pd(fast_lag.as_ptr().add(j)),
                _mm256_loadu_pd(slow_lag.as_ptr().add(j)),
            )
        };
        // a·x − b·y + c·z: every product and partial sum is an exact integer below 2^53.
        let d = _mm256_fmadd_pd(vc, z, _mm256_fmsub_pd(va, x, _mm256_mul_pd(vb, y)));
        zeros = _mm256_or_pd(zeros, _mm256_cmp_pd::<_CMP_EQ_OQ>(d, zero));
        // No −0.0 can arise (a sum of exact terms that cancels is +0.0), so the sign bit is d < 0.
        below |= (_mm256_movemask_pd(d) as u64) << j;
        j += 4;
    }
    if _mm256_movemask_pd(zeros) != 0 {
        return None;
    }
    Some((!below, below))
}
