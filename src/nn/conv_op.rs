//! The 1-D convolution family as candle custom ops: im2col + one matrix product per call,
//! on the CPU (here, with the `gemm` crate) and on CUDA (the same steps as kernels and a
//! cuBLAS product, `cuda.rs`).
//!
//! Profiling the BeatGAN step through candle's 2-D kernels showed the time going to page
//! faults on fresh buffers, thread barriers and copies rather than to arithmetic. Here a
//! convolution is three linear maps sharing one geometry (input `x: B×C×L`, weight
//! `w: O×C×K`, output `y: B×O×T`):
//!
//! - `Forward`     y = conv(x, w)           y[b,o,t]  = Σ_{c,k} w[o,c,k] · x[b,c,t·s+k−p]
//! - `InputGrad`   x̄ = convᵀ(ȳ, w)          x̄[b,c,i]  = Σ_{o,k,t: t·s+k−p=i} w[o,c,k] · ȳ[b,o,t]
//! - `WeightGrad`  w̄ = corr(x, ȳ)           w̄[o,c,k]  = Σ_{b,t} ȳ[b,o,t] · x[b,c,t·s+k−p]
//!
//! Each is linear in each argument, and the derivatives of each are again members of the
//! family, so `bwd` is written with these same ops: gradients stay differentiable, which
//! TadGAN's gradient penalty (a gradient of a gradient) needs. A transposed convolution is
//! `InputGrad` with its own input in the place of ȳ.
//!
//! Each op gathers the input into a column matrix `col: (C·K) × (B·T)` (zero where the
//! window hangs over the padding; shared by the ops that gather the same tensor) and
//! makes one matrix product, split over the pool's threads; the `B×O×T` tensors are
//! permuted to and from `O × (B·T)` around it. `tests/conv.rs` checks the ops against
//! direct loops, central finite differences and candle's 2-D kernels, and `tests/gpu.rs`
//! the CUDA half against the CPU one. README "Speed" has the measurements behind each
//! choice. On CUDA the column matrix is not shared between ops (gathering it again costs
//! one kernel launch).

use super::cpu::{dispatch, slice, written_by, Scalar};
#[cfg(feature = "cuda")]
use super::cuda;
use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::sync::{Arc, OnceLock};

/// Which member of the family an op computes (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// (x, w) → y
    Forward,
    /// (ȳ, w) → x̄
    InputGrad,
    /// (x, ȳ) → w̄
    WeightGrad,
}

/// Sizes of one convolution: input `B×C×L`, weight `O×C×K`, output `B×O×T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub batch: usize,
    pub c_in: usize,
    pub len_in: usize,
    pub c_out: usize,
    pub kernel: usize,
    pub len_out: usize,
    pub stride: usize,
    pub padding: usize,
}

impl Geometry {
    /// The output positions `t` whose tap `k` reads inside the input, i.e.
    /// `0 ≤ t·s + k − p < L`; the input position read is then `t·s + k − p`.
    fn valid(&self, k: usize) -> std::ops::Range<usize> {
        let (s, p) = (self.stride, self.padding);
        let lo = p.saturating_sub(k).div_ceil(s);
        let hi = (self.len_in + p)
            .saturating_sub(k)
            .div_ceil(s)
            .min(self.len_out);
        lo..hi.max(lo)
    }

    fn rows(&self) -> usize {
        self.c_in * self.kernel
    }

    fn cols(&self) -> usize {
        self.batch * self.len_out
    }

    /// Kernel 4, stride 2, padding 1 over an even length: every stride-2 layer of the
    /// BeatGAN-family stacks (half of all their im2col/col2im time), given loops of its own.
    fn is_halving(&self) -> bool {
        (self.kernel, self.stride, self.padding) == (4, 2, 1)
            && self.len_in == 2 * self.len_out
            && self.len_out >= 2
    }
}

/// The column matrix of an op's input `x` (see [`im2col`]), shared by the ops that need
/// the same one: a convolution and its weight gradient read the same `x`, and the two
/// gradients of a transposed convolution both gather its output gradient. Computing it
/// once instead of twice took a sixth of the BeatGAN step's convolution time.
type SharedCol = Arc<OnceLock<CpuStorage>>;

struct ConvOp {
    kind: Kind,
    geo: Geometry,
    /// The column matrix of the first argument (`Forward`, `WeightGrad`; unused by
    /// `InputGrad`).
    col: SharedCol,
}

/// `y = conv(x, w)` for contiguous-or-not `x: B×C×L`, `w: O×C×K`.
pub fn forward(x: &Tensor, w: &Tensor, geo: Geometry) -> Result<Tensor> {
    apply(Kind::Forward, geo, x, w, SharedCol::default())
}

/// `x̄ = convᵀ(ȳ, w)`: the input gradient, and the transposed convolution.
pub fn input_grad(dy: &Tensor, w: &Tensor, geo: Geometry) -> Result<Tensor> {
    apply(Kind::InputGrad, geo, dy, w, SharedCol::default())
}

fn apply(kind: Kind, geo: Geometry, a: &Tensor, b: &Tensor, col: SharedCol) -> Result<Tensor> {
    a.contiguous()?
        .apply_op2(&b.contiguous()?, ConvOp { kind, geo, col })
}

/// A row-major or transposed view of a matrix for `gemm`: (pointer, column stride, row stride).
type View<T> = (*const T, isize, isize);

/// `a · bᵀ` for row-major `a` (m×k) and `b` (n×k): the m×n inner products of their
/// rows, row-major, on the current rayon pool. The nearest-neighbour and matrix-profile
/// baselines compute their distances from these.
pub fn inner_products<T: Scalar>(a: &[T], b: &[T], k: usize) -> Vec<T> {
    assert!(
        k > 0 && a.len().is_multiple_of(k) && b.len().is_multiple_of(k),
        "rows of {k} values"
    );
    let (m, n) = (a.len() / k, b.len() / k);
    if m == 0 || n == 0 {
        return Vec::new();
    }
    // lhs: row-major m×k (column stride 1, row stride k); rhs: bᵀ, element (r, c) at
    // b[c·k + r] (column stride k, row stride 1). Both stay inside their slices.
    matmul(
        (m, n, k),
        (a.as_ptr(), 1, k as isize),
        (b.as_ptr(), k as isize, 1),
    )
}

/// `lhs (m×k) · rhs (k×n)` as a row-major `m×n` vector, multi-threaded.
fn matmul<T: Scalar>((m, n, k): (usize, usize, usize), lhs: View<T>, rhs: View<T>) -> Vec<T> {
    assert!(k > 0, "an empty product");
    // One single-threaded gemm per thread of the current pool (the whole machine, or one
    // job's share of it) on a slice of the longer side: rows of lhs and dst, or columns of
    // rhs and dst. Each slice packs the shared operand again, but nothing synchronises
    // inside: gemm's own threading, which synchronises per block, ran the BeatGAN step's
    // products in 61 ms on 2 cores (1.65× its single thread), this in 54 ms.
    let parts = rayon::current_num_threads().min(m.max(n));
    let split_rows = m >= n;
    let side = if split_rows { m } else { n };
    // Raw pointers are not Send; their addresses are.
    let (lhs_at, rhs_at) = (lhs.0 as usize, rhs.0 as usize);
    let ((_, lhs_cs, lhs_rs), (_, rhs_cs, rhs_rs)) = (lhs, rhs);
    let fill = |dst: &mut [MaybeUninit<T>]| {
        let dst_at = dst.as_mut_ptr() as usize;
        (0..parts).into_par_iter().for_each(|i| {
            let (from, to) = (side * i / parts, side * (i + 1) / parts);
            let (dst, lhs, rhs) = (dst_at as *mut T, lhs_at as *const T, rhs_at as *const T);
            // SAFETY: `dst` holds m·n elements written row-major (column stride 1, row
            // stride n); part i writes only its rows (or columns) [from, to), and with
            // `read_dst = false` gemm writes every element of them without reading any
            // (k > 0). The callers build `lhs` and `rhs` views whose strides stay inside
            // their slices for every (row < m or k, column < k or n) they address; the
            // offsets move to row `from` of lhs or column `from` of rhs, and the slices
            // outlive the call.
            unsafe {
                let (dst, lhs, rhs, rows, cols) = if split_rows {
                    let lhs = lhs.offset(from as isize * lhs_rs);
                    (dst.add(from * n), lhs, rhs, to - from, n)
                } else {
                    let rhs = rhs.offset(from as isize * rhs_cs);
                    (dst.add(from), lhs, rhs, m, to - from)
                };
                gemm::gemm(
                    rows,
                    cols,
                    k,
                    dst,
                    1,
                    n as isize,
                    false,
                    lhs,
                    lhs_cs,
                    lhs_rs,
                    rhs,
                    rhs_cs,
                    rhs_rs,
                    T::default(),
                    T::ONE,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                )
            }
        })
    };
    // SAFETY: the parts cover every row (or column) of the m×n result.
    unsafe { written_by(m * n, fill) }
}

/// Outputs per (channel, tap, batch) row below which [`im2col`] loops over the batch
/// innermost and [`col2im`] works in blocks of samples × channels: for the final layers
/// (T = 1) a loop over t per (c, k, b) did one element of work per setup, and those two
/// layers took half of all im2col time.
const SHORT_ROWS: usize = 8;

/// Each tap k's valid outputs and the input position read by the first of them.
fn taps(geo: &Geometry) -> Vec<(std::ops::Range<usize>, usize)> {
    (0..geo.kernel)
        .map(|k| {
            let valid = geo.valid(k);
            let first = if valid.is_empty() {
                0
            } else {
                valid.start * geo.stride + k - geo.padding
            };
            (valid, first)
        })
        .collect()
}

/// `col[(c·K+k), (b·T+t)] = x[b, c, t·s+k−p]` (zero in the padding).
fn im2col<T: Scalar>(x: &[T], geo: &Geometry) -> Vec<T> {
    if geo.is_halving() {
        return im2col_halving(x, geo);
    }
    let (cols, k_n, t_n, l_n, s) = (geo.cols(), geo.kernel, geo.len_out, geo.len_in, geo.stride);
    let taps = taps(geo);
    let fill = |col: &mut [MaybeUninit<T>]| {
        col.par_chunks_mut(k_n * cols)
            .enumerate()
            .for_each(|(c, rows)| {
                for ((valid, first), row) in taps.iter().zip(rows.chunks_mut(cols)) {
                    // x[b, c, ·] starts at (b·C + c)·L.
                    let x_c = &x[c * l_n..];
                    if t_n < SHORT_ROWS {
                        for t in 0..t_n {
                            let dst = row[t..].iter_mut().step_by(t_n);
                            if valid.contains(&t) {
                                let at = first + (t - valid.start) * s;
                                let src = x_c[at..].iter().step_by(geo.c_in * l_n);
                                for (d, v) in dst.zip(src) {
                                    d.write(*v);
                                }
                            } else {
                                for d in dst {
                                    d.write(T::default());
                                }
                            }
                        }
                        continue;
                    }
                    for b in 0..geo.batch {
                        let dst = &mut row[b * t_n..][..t_n];
                        // Zero where the window hangs over the padding, copy the rest.
                        for d in &mut dst[..valid.start] {
                            d.write(T::default());
                        }
                        for d in &mut dst[valid.end..] {
                            d.write(T::default());
                        }
                        let src = &x_c[b * geo.c_in * l_n + first..];
                        for (d, v) in dst[valid.clone()].iter_mut().zip(src.iter().step_by(s)) {
                            d.write(*v);
                        }
                    }
                }
            })
    };
    // SAFETY: every (c, k) row is written in full: per (b, t), zero or copied.
    unsafe { written_by(geo.rows() * cols, fill) }
}

/// The adjoint of [`im2col`]: x̄[b, c, t·s+k−p] += col[(c·K+k), (b·T+t)].
fn col2im<T: Scalar>(col: &[T], geo: &Geometry) -> Vec<T> {
    if geo.is_halving() {
        return col2im_halving(col, geo);
    }
    let (cols, k_n, t_n, l_n, s) = (geo.cols(), geo.kernel, geo.len_out, geo.len_in, geo.stride);
    let taps = taps(geo);
    let mut x = vec![T::default(); geo.batch * geo.c_in * l_n];
    // Adds the taps of channel c, sample b, into its row of x.
    let add_row = |dst: &mut [T], b: usize, c: usize| {
        for ((valid, first), k) in taps.iter().zip(0..) {
            let src = &col[(c * k_n + k) * cols + b * t_n..][valid.clone()];
            for (d, v) in dst[*first..].iter_mut().step_by(s).zip(src) {
                *d += *v;
            }
        }
    };
    if t_n >= SHORT_ROWS {
        // One task per (b, c) input row: no two tasks write the same element.
        x.par_chunks_mut(l_n).enumerate().for_each(|(bc, dst)| {
            add_row(dst, bc / geo.c_in, bc % geo.c_in);
        });
        return x;
    }
    // Short rows (the final layers, T = 1): row by row, each row's K reads hit K cache
    // lines that no nearby row reuses (0.8 ms a call at B 64, C 512, K 10). Here a task
    // takes 16 samples, and per block of 16 channels adds sample after sample, so that
    // the lines of the block's col rows serve all 16 samples while in cache.
    const SAMPLES: usize = 16;
    const CHANNELS: usize = 16;
    let sample_len = geo.c_in * l_n;
    x.par_chunks_mut(SAMPLES * sample_len)
        .enumerate()
        .for_each(|(group, samples)| {
            for c0 in (0..geo.c_in).step_by(CHANNELS) {
                let channels = c0..(c0 + CHANNELS).min(geo.c_in);
                for (i, sample) in samples.chunks_mut(sample_len).enumerate() {
                    let b = group * SAMPLES + i;
                    for c in channels.clone() {
                        add_row(&mut sample[c * l_n..][..l_n], b, c);
                    }
                }
            }
        });
    x
}

/// [`im2col`] for [`Geometry::is_halving`]: the four taps of output t read x at 2t−1,
/// 2t, 2t+1 and 2t+2, so each (c, b) row is split into its odd and even elements in
/// loops that vectorise, instead of four strided gathers.
fn im2col_halving<T: Scalar>(x: &[T], geo: &Geometry) -> Vec<T> {
    let (cols, t_n, l_n) = (geo.cols(), geo.len_out, geo.len_in);
    let fill = |col: &mut [MaybeUninit<T>]| {
        col.par_chunks_mut(4 * cols)
            .enumerate()
            .for_each(|(c, rows)| {
                let (r0, rest) = rows.split_at_mut(cols);
                let (r1, rest) = rest.split_at_mut(cols);
                let (r2, r3) = rest.split_at_mut(cols);
                for b in 0..geo.batch {
                    let src = &x[(b * geo.c_in + c) * l_n..][..l_n];
                    let [d0, d1, d2, d3] =
                        [&mut *r0, &mut *r1, &mut *r2, &mut *r3].map(|r| &mut r[b * t_n..][..t_n]);
                    for ((e, o), pair) in d1.iter_mut().zip(d2.iter_mut()).zip(src.chunks_exact(2))
                    {
                        e.write(pair[0]); // x[2t]
                        o.write(pair[1]); // x[2t+1]
                    }
                    d0[0].write(T::default()); // x[−1]: padding
                    for (d, pair) in d0[1..].iter_mut().zip(src[1..].chunks_exact(2)) {
                        d.write(pair[0]); // x[2t−1]
                    }
                    for (d, pair) in d3.iter_mut().zip(src[2..].chunks_exact(2)) {
                        d.write(pair[0]); // x[2t+2]
                    }
                    d3[t_n - 1].write(T::default()); // x[2T]: padding
                }
            })
    };
    // SAFETY: per (c, b), rows 1 and 2 get all T elements (T pairs of x), row 0 its first
    // and T − 1 more (x[1..] holds 2T − 1 elements: T − 1 pairs), row 3 T − 1 (x[2..]
    // holds 2T − 2) and its last.
    unsafe { written_by(geo.rows() * cols, fill) }
}

/// [`col2im`] for [`Geometry::is_halving`]: x̄[2j] = c₁[j] + c₃[j−1] and
/// x̄[2j+1] = c₂[j] + c₀[j+1] from the tap rows c_k of the (c, b) row, one pass.
fn col2im_halving<T: Scalar>(col: &[T], geo: &Geometry) -> Vec<T> {
    let (cols, t_n, l_n) = (geo.cols(), geo.len_out, geo.len_in);
    let fill = |x: &mut [MaybeUninit<T>]| {
        x.par_chunks_mut(l_n).enumerate().for_each(|(bc, dst)| {
            let (b, c) = (bc / geo.c_in, bc % geo.c_in);
            let [c0, c1, c2, c3] =
                [0, 1, 2, 3].map(|k| &col[(c * 4 + k) * cols + b * t_n..][..t_n]);
            // The first and last pairs miss a tap (the window hangs over the padding).
            let last = t_n - 1;
            dst[0].write(c1[0]);
            dst[1].write(c2[0] + c0[1]);
            dst[2 * last].write(c1[last] + c3[last - 1]);
            dst[2 * last + 1].write(c2[last]);
            let middle = dst[2..2 * last].chunks_exact_mut(2);
            let even = c1[1..last].iter().zip(&c3[..last - 1]);
            let odd = c2[1..last].iter().zip(&c0[2..]);
            for (pair, ((a, b), (c, d))) in middle.zip(even.zip(odd)) {
                pair[0].write(*a + *b);
                pair[1].write(*c + *d);
            }
        });
    };
    // SAFETY: per (b, c) row of 2T elements, pairs 0 and T − 1 are written above and the
    // T − 2 pairs between them in the loop (all its iterators have T − 2 items).
    unsafe { written_by(geo.batch * geo.c_in * l_n, fill) }
}

/// `B×O×T` → `O×(B·T)` (the layout the column matrix pairs with).
fn batch_to_columns<T: Scalar>(y: &[T], geo: &Geometry) -> Vec<T> {
    let (o_n, t_n) = (geo.c_out, geo.len_out);
    let fill = |out: &mut [MaybeUninit<T>]| {
        out.par_chunks_mut(geo.cols())
            .enumerate()
            .for_each(|(o, row)| {
                for b in 0..geo.batch {
                    row[b * t_n..][..t_n].write_copy_of_slice(&y[(b * o_n + o) * t_n..][..t_n]);
                }
            })
    };
    // SAFETY: row o is the B blocks of T elements copied from y, in full.
    unsafe { written_by(o_n * geo.cols(), fill) }
}

/// `O×(B·T)` → `B×O×T`.
fn columns_to_batch<T: Scalar>(m: &[T], geo: &Geometry) -> Vec<T> {
    let (o_n, t_n) = (geo.c_out, geo.len_out);
    let fill = |out: &mut [MaybeUninit<T>]| {
        out.par_chunks_mut(o_n * t_n)
            .enumerate()
            .for_each(|(b, dst)| {
                for (o, row) in dst.chunks_mut(t_n).enumerate() {
                    row.write_copy_of_slice(&m[o * geo.cols() + b * t_n..][..t_n]);
                }
            })
    };
    // SAFETY: batch b is the O rows of T elements copied from m, in full.
    unsafe { written_by(geo.batch * o_n * t_n, fill) }
}

impl ConvOp {
    /// im2col of the first argument `x`, computed by the first op of its group to run.
    fn col<'a, T: Scalar>(&'a self, x: &[T]) -> &'a [T] {
        let col = self
            .col
            .get_or_init(|| T::into_storage(im2col(x, &self.geo)));
        T::of_storage(col).expect("the ops sharing a column matrix have one element type")
    }

    fn run<T: Scalar>(&self, a: &[T], b: &[T]) -> Vec<T> {
        let geo = &self.geo;
        let (rows, cols, o_n) = (geo.rows(), geo.cols(), geo.c_out);
        match self.kind {
            Kind::Forward => {
                // Y (O × B·T) = W (O × C·K) · col (C·K × B·T)
                let col = self.col(a);
                let y = matmul(
                    (o_n, cols, rows),
                    (b.as_ptr(), 1, rows as isize),
                    (col.as_ptr(), 1, cols as isize),
                );
                columns_to_batch(&y, geo)
            }
            Kind::InputGrad => {
                // col̄ (C·K × B·T) = Wᵀ (C·K × O) · Ȳ (O × B·T), then scattered back.
                let dy = batch_to_columns(a, geo);
                let col = matmul(
                    (rows, cols, o_n),
                    (b.as_ptr(), rows as isize, 1),
                    (dy.as_ptr(), 1, cols as isize),
                );
                col2im(&col, geo)
            }
            Kind::WeightGrad => {
                // W̄ (O × C·K) = Ȳ (O × B·T) · colᵀ (B·T × C·K)
                let col = self.col(a);
                let dy = batch_to_columns(b, geo);
                matmul(
                    (o_n, rows, cols),
                    (dy.as_ptr(), 1, cols as isize),
                    (col.as_ptr(), cols as isize, 1),
                )
            }
        }
    }

    /// [`Self::run`] on the GPU: the same products, as kernels and cuBLAS calls.
    #[cfg(feature = "cuda")]
    fn run_cuda(
        &self,
        dev: &candle_core::CudaDevice,
        a: &cuda::View,
        b: &cuda::View,
    ) -> Result<cuda::Slice> {
        use cuda::Operand;
        let geo = &self.geo;
        let (rows, cols, o_n) = (geo.rows(), geo.cols(), geo.c_out);
        let outputs = (geo.batch, o_n, geo.len_out);
        let plain = |data| Operand {
            data,
            transposed: false,
        };
        let transposed = |data| Operand {
            data,
            transposed: true,
        };
        match self.kind {
            Kind::Forward => {
                // Y (O × B·T) = W (O × C·K) · col (C·K × B·T)
                let col = cuda::im2col(dev, a, geo)?;
                let y = cuda::matmul(dev, (o_n, cols, rows), plain(b), plain(&col.as_view()))?;
                cuda::permute(dev, &y.as_view(), outputs, false)
            }
            Kind::InputGrad => {
                // col̄ (C·K × B·T) = Wᵀ (C·K × O) · Ȳ (O × B·T), then gathered back.
                let dy = cuda::permute(dev, a, outputs, true)?;
                let col =
                    cuda::matmul(dev, (rows, cols, o_n), transposed(b), plain(&dy.as_view()))?;
                cuda::col2im(dev, &col.as_view(), geo)
            }
            Kind::WeightGrad => {
                // W̄ (O × C·K) = Ȳ (O × B·T) · colᵀ (B·T × C·K)
                let col = cuda::im2col(dev, a, geo)?;
                let dy = cuda::permute(dev, b, outputs, true)?;
                cuda::matmul(
                    dev,
                    (o_n, rows, cols),
                    plain(&dy.as_view()),
                    transposed(&col.as_view()),
                )
            }
        }
    }

    /// The arguments' shapes are the ones the geometry says.
    fn check_args(&self, l1: &Layout, l2: &Layout) -> Result<()> {
        let [want1, want2] = self.arg_shapes();
        if l1.shape() != &want1 || l2.shape() != &want2 {
            candle_core::bail!(
                "{}: arguments {:?} and {:?}, expected {:?} and {:?}",
                self.name(),
                l1.shape(),
                l2.shape(),
                want1,
                want2
            );
        }
        Ok(())
    }

    fn out_shape(&self) -> Shape {
        let g = &self.geo;
        match self.kind {
            Kind::Forward => (g.batch, g.c_out, g.len_out).into(),
            Kind::InputGrad => (g.batch, g.c_in, g.len_in).into(),
            Kind::WeightGrad => (g.c_out, g.c_in, g.kernel).into(),
        }
    }

    /// The shapes the two arguments must have.
    fn arg_shapes(&self) -> [Shape; 2] {
        let g = &self.geo;
        let x: Shape = (g.batch, g.c_in, g.len_in).into();
        let w: Shape = (g.c_out, g.c_in, g.kernel).into();
        let y: Shape = (g.batch, g.c_out, g.len_out).into();
        match self.kind {
            Kind::Forward => [x, w],
            Kind::InputGrad => [y, w],
            Kind::WeightGrad => [x, y],
        }
    }
}

impl CustomOp2 for ConvOp {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Forward => "conv1d-im2col",
            Kind::InputGrad => "conv1d-input-grad",
            Kind::WeightGrad => "conv1d-weight-grad",
        }
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        self.check_args(l1, l2)?;
        let out = dispatch!(self.name(), (s1, s2), |a, b| self
            .run(slice(a, l1, self.name())?, slice(b, l2, self.name())?));
        Ok((out, self.out_shape()))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        self.check_args(l1, l2)?;
        let dev = &s1.device;
        let (a, b) = (
            cuda::view(s1, l1, self.name())?,
            cuda::view(s2, l2, self.name())?,
        );
        let out = self.run_cuda(dev, &a, &b)?;
        Ok((
            candle_core::CudaStorage::wrap_cuda_slice(out, dev.clone()),
            self.out_shape(),
        ))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let geo = self.geo;
        // Only the arguments that lead to a variable get a gradient: the input batch of a
        // first layer, or a weight held constant (`forward_frozen`), needs none.
        let (need_a, need_b) = (a.track_op(), b.track_op());
        let op =
            |kind, a: &Tensor, b: &Tensor, col: &SharedCol| apply(kind, geo, a, b, col.clone());
        let fresh = SharedCol::default();
        let (da, db) = match self.kind {
            // a = x, b = w; the weight gradient gathers the same x as this op.
            Kind::Forward => (
                need_a.then(|| op(Kind::InputGrad, grad, b, &fresh)),
                need_b.then(|| op(Kind::WeightGrad, a, grad, &self.col)),
            ),
            // a = ȳ, b = w, grad has x's shape; both results gather `grad`.
            Kind::InputGrad => (
                need_a.then(|| op(Kind::Forward, grad, b, &fresh)),
                need_b.then(|| op(Kind::WeightGrad, grad, a, &fresh)),
            ),
            // a = x, b = ȳ, grad has w's shape; the second result gathers the same x.
            Kind::WeightGrad => (
                need_a.then(|| op(Kind::InputGrad, b, grad, &fresh)),
                need_b.then(|| op(Kind::Forward, a, grad, &self.col)),
            ),
        };
        Ok((da.transpose()?, db.transpose()?))
    }
}
