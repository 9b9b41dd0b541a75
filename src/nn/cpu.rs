//! Plumbing shared by our CPU custom ops (`conv_op`, `norm`, `act`): the element types
//! they run on, contiguous views of candle's storage, and the dispatch on dtype.

use candle_core::{CpuStorage, Layout, Result};
use std::mem::MaybeUninit;

/// The element types our CPU kernels run on (f32 for training, f64 for gradient checks
/// and the baselines' exact distances).
pub trait Scalar:
    Copy
    + Default
    + Send
    + Sync
    + 'static
    + PartialOrd
    + std::ops::AddAssign
    + std::ops::Add<Output = Self>
    + std::ops::Mul<Output = Self>
{
    const ONE: Self;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    /// The storage holding `v`, and back (None for another element type).
    fn into_storage(v: Vec<Self>) -> CpuStorage;
    fn of_storage(s: &CpuStorage) -> Option<&[Self]>;
}
impl Scalar for f32 {
    const ONE: f32 = 1.0;
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    fn into_storage(v: Vec<f32>) -> CpuStorage {
        CpuStorage::F32(v)
    }
    fn of_storage(s: &CpuStorage) -> Option<&[f32]> {
        match s {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
}
impl Scalar for f64 {
    const ONE: f64 = 1.0;
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn into_storage(v: Vec<f64>) -> CpuStorage {
        CpuStorage::F64(v)
    }
    fn of_storage(s: &CpuStorage) -> Option<&[f64]> {
        match s {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
}

/// A vector of `n` elements written by `fill` without being zeroed first (several of
/// these buffers are megabytes, written once per call).
///
/// # Safety
/// `fill` must write every element of the slice it is given.
pub(super) unsafe fn written_by<T: Scalar>(
    n: usize,
    fill: impl FnOnce(&mut [MaybeUninit<T>]),
) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    fill(&mut v.spare_capacity_mut()[..n]);
    // SAFETY: the caller's `fill` initialised all `n` elements.
    unsafe { v.set_len(n) };
    v
}

/// The contiguous elements of an argument; our kernels are only called on contiguous
/// tensors (their wrappers call `.contiguous()`), so anything else is a bug named here.
pub(super) fn slice<'a, T>(s: &'a [T], l: &Layout, op: &str) -> Result<&'a [T]> {
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&s[start..end]),
        None => candle_core::bail!("{op}: the kernel needs contiguous arguments"),
    }
}

/// `dispatch!(name, (s1, s2, …), |v1, v2, …| body)`: runs `body` on the slices of f32 or
/// f64 storages (all of one type) and wraps the result in the same type.
macro_rules! dispatch {
    ($name:expr, ($($s:ident),+), |$($v:ident),+| $body:expr) => {
        match ($($s),+) {
            ($(candle_core::CpuStorage::F32($v)),+) => candle_core::CpuStorage::F32($body),
            ($(candle_core::CpuStorage::F64($v)),+) => candle_core::CpuStorage::F64($body),
            _ => candle_core::bail!("{}: f32 or f64 arguments of one type", $name),
        }
    };
}
pub(super) use dispatch;
