//! The device halves of our custom ops on CUDA (the `cuda` feature): launches of the
//! kernels in `cuda/kernels.cu` (PTX made by build.rs, loaded once per device through
//! candle's module cache) and the cuBLAS products between them. The ops themselves, their
//! shapes and their gradients live with the CPU code (`conv_op`, `act`, `adam`, `norm`);
//! this module only
//! moves f32 data through the GPU, and must not decide anything the CPU path would
//! decide differently.
//!
//! Matrix products go through `cublasGemmEx` with the compute type candle's own matmul
//! uses: plain f32, or TF32 tensor cores when `train.precision: tf32` has set candle's
//! process-wide switch (`set_gemm_reduced_precision_f32`).

use super::conv_op::Geometry;
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::cublas::{result as blas, sys};
use candle_core::cuda_backend::cudarc::driver::{
    CudaSlice, CudaView, CudaViewMut, DevicePtr, DevicePtrMut, LaunchConfig, PushKernelArg,
};
use candle_core::cuda_backend::WrapErr;
use candle_core::{CudaDevice, CudaStorage, Layout, Result};

/// The f32 views and buffers every function here takes and returns.
pub(super) type View<'a> = CudaView<'a, f32>;
pub(super) type Slice = CudaSlice<f32>;

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/anolab_kernels.ptx"));
const MODULE: &str = "anolab_kernels";

/// The contiguous f32 elements of an argument (our wrappers call `.contiguous()`; other
/// element types are not supported on the GPU and are named here).
pub(super) fn view<'a>(s: &'a CudaStorage, l: &Layout, op: &str) -> Result<View<'a>> {
    let Some((start, end)) = l.contiguous_offsets() else {
        candle_core::bail!("{op}: the kernel needs contiguous arguments");
    };
    let Ok(slice) = s.as_cuda_slice::<f32>() else {
        candle_core::bail!("{op}: on CUDA only f32 is supported, got {:?}", s.dtype());
    };
    Ok(slice.slice(start..end))
}

/// A (small) argument's elements on the host, e.g. a batch norm's weights.
pub(super) fn to_host(dev: &CudaDevice, v: &View) -> Result<Vec<f32>> {
    dev.cuda_stream().clone_dtoh(v).w()
}

/// A grid-stride launch over `n` outputs.
fn grid(n: usize) -> LaunchConfig {
    LaunchConfig::for_num_elems(n.clamp(1, u32::MAX as usize) as u32)
}

fn to_u32(v: usize, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| candle_core::Error::Msg(format!("{what} {v} exceeds u32")))
}

/// The sizes the column kernels take: B, C, L, K, T, stride, padding.
fn dims(geo: &Geometry) -> Result<[u32; 7]> {
    let g = geo;
    let all = [
        g.batch, g.c_in, g.len_in, g.kernel, g.len_out, g.stride, g.padding,
    ];
    let mut out = [0; 7];
    for (o, v) in out.iter_mut().zip(all) {
        *o = to_u32(v, "convolution size")?;
    }
    Ok(out)
}

/// `col = im2col(x)`: `(C·K) × (B·T)` from `x: B×C×L` (zero in the padding).
pub(super) fn im2col(dev: &CudaDevice, x: &View, geo: &Geometry) -> Result<Slice> {
    let n = geo.c_in * geo.kernel * geo.batch * geo.len_out;
    column_kernel(dev, "anolab_im2col_f32", x, n, geo)
}

/// `x̄ = col2im(col)`: the adjoint of [`im2col`], `B×C×L`.
pub(super) fn col2im(dev: &CudaDevice, col: &View, geo: &Geometry) -> Result<Slice> {
    let n = geo.batch * geo.c_in * geo.len_in;
    column_kernel(dev, "anolab_col2im_f32", col, n, geo)
}

/// Launches one of the two column kernels, which take (src, dst, B, C, L, K, T, s, p)
/// and write all `n` elements of dst.
fn column_kernel(
    dev: &CudaDevice,
    name: &str,
    src: &View,
    n: usize,
    geo: &Geometry,
) -> Result<Slice> {
    let dims = dims(geo)?;
    // SAFETY: the kernel writes all n elements.
    let mut dst = unsafe { dev.alloc::<f32>(n)? };
    let func = dev.get_or_load_custom_func(name, MODULE, PTX)?;
    let mut b = func.builder();
    b.arg(src);
    b.arg(&mut dst);
    for d in &dims {
        b.arg(d);
    }
    // SAFETY: src holds the B·C·L (im2col) or (C·K)·(B·T) (col2im) elements the kernel
    // reads, as the geometry sizes them, and dst the n it writes.
    unsafe { b.launch(grid(n)) }.w()?;
    drop(b);
    Ok(dst)
}

/// `B×O×T` → `O×(B·T)` (`to_columns`) or back.
pub(super) fn permute(
    dev: &CudaDevice,
    src: &View,
    (batch, channels, len): (usize, usize, usize),
    to_columns: bool,
) -> Result<Slice> {
    let n = batch * channels * len;
    let sizes = [
        to_u32(batch, "batch")?,
        to_u32(channels, "channels")?,
        to_u32(len, "length")?,
    ];
    let name = if to_columns {
        "anolab_batch_to_columns_f32"
    } else {
        "anolab_columns_to_batch_f32"
    };
    // SAFETY: the kernel writes all n elements.
    let mut dst = unsafe { dev.alloc::<f32>(n)? };
    let func = dev.get_or_load_custom_func(name, MODULE, PTX)?;
    let mut b = func.builder();
    b.arg(src);
    b.arg(&mut dst);
    for s in &sizes {
        b.arg(s);
    }
    // SAFETY: src and dst hold n elements each.
    unsafe { b.launch(grid(n)) }.w()?;
    drop(b);
    Ok(dst)
}

/// `out = g · m(x)` with `m(x) = 1` for `x > 0`, else `slope` (the LeakyReLU mask op).
pub(super) fn mask_mul(dev: &CudaDevice, g: &View, x: &View, slope: f32) -> Result<Slice> {
    let n = g.len();
    let n64 = n as u64;
    // SAFETY: the kernel writes all n elements.
    let mut out = unsafe { dev.alloc::<f32>(n)? };
    let func = dev.get_or_load_custom_func("anolab_mask_mul_f32", MODULE, PTX)?;
    let mut b = func.builder();
    b.arg(g);
    b.arg(x);
    b.arg(&mut out);
    b.arg(&n64);
    b.arg(&slope);
    // SAFETY: g, x and out hold n elements each (the caller checked the shapes).
    unsafe { b.launch(grid(n)) }.w()?;
    drop(b);
    Ok(out)
}

/// One Adam step in place on `theta` with gradient `g` and moments `m`, `v` (all of one
/// length); `k` = (β₁, β₂, 1 − β₁, 1 − β₂, scale_m, scale_v, 1 − lr·λ, lr, ε) as f32.
pub(super) fn adam_step(
    dev: &CudaDevice,
    theta: &mut CudaViewMut<f32>,
    g: &View,
    (m, v): (&mut Slice, &mut Slice),
    k: [f32; 9],
) -> Result<()> {
    let n = g.len();
    if theta.len() != n || m.len() != n || v.len() != n {
        candle_core::bail!("adam-step: weight, gradient and moments differ in length");
    }
    let n64 = n as u64;
    let func = dev.get_or_load_custom_func("anolab_adam_f32", MODULE, PTX)?;
    let mut b = func.builder();
    b.arg(theta);
    b.arg(g);
    b.arg(m);
    b.arg(v);
    b.arg(&n64);
    for c in &k {
        b.arg(c);
    }
    // SAFETY: the four buffers hold n elements each (checked above).
    unsafe { b.launch(grid(n)) }.w()?;
    Ok(())
}

/// The sizes of a batch norm's input `B × C × S`.
pub(super) type NormShape = (usize, usize, usize);

/// Per channel of `x` (`B × C × S`), the batch norm's two sums in f64, on the host:
/// without `grad`, (Σ x, Σ x²); with `grad = (g, [a; b])`, (Σ d, Σ d·x) where
/// d = g · m(a·x + b) (m: 1 where positive, else `slope`).
pub(super) fn norm_sums(
    dev: &CudaDevice,
    x: &View,
    grad: Option<(&View, &[f32])>,
    (batch, channels, len): NormShape,
    slope: f32,
) -> Result<Vec<(f64, f64)>> {
    let sizes = [
        to_u32(batch, "batch")?,
        to_u32(channels, "channels")?,
        to_u32(len, "length")?,
    ];
    let stream = dev.cuda_stream();
    let mut out = dev.alloc_zeros::<f64>(2 * channels)?;
    let ab = match grad {
        Some((_, ab)) => Some(stream.clone_htod(ab).w()?),
        None => None,
    };
    let func = dev.get_or_load_custom_func("anolab_bn_sums_f32", MODULE, PTX)?;
    let mut b = func.builder();
    // The statistics pass gets null pointers for g and [a; b] (the kernel tests g).
    let null: u64 = 0;
    b.arg(x);
    match (&grad, &ab) {
        (Some((g, _)), Some(ab)) => {
            b.arg(*g);
            b.arg(ab);
        }
        _ => {
            b.arg(&null);
            b.arg(&null);
        }
    }
    b.arg(&mut out);
    for s in &sizes {
        b.arg(s);
    }
    b.arg(&slope);
    let config = LaunchConfig {
        grid_dim: (sizes[1].max(1), 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: x (and g) hold B·C·S elements, [a; b] 2·C, out 2·C; the kernel's shared
    // arrays hold 1024 ≥ 256 partial sums.
    unsafe { b.launch(config) }.w()?;
    drop(b);
    let flat = stream.clone_dtoh(&out).w()?;
    Ok(flat.chunks_exact(2).map(|p| (p[0], p[1])).collect())
}

/// `y = z · m(z)` with `z = scale·x + shift` per channel; `affine = [scale; shift]`.
pub(super) fn norm_act(
    dev: &CudaDevice,
    x: &View,
    affine: &[f32],
    shape: NormShape,
    slope: f32,
) -> Result<Slice> {
    let (n, sizes) = (x.len(), norm_sizes(shape)?);
    let affine = dev.cuda_stream().clone_htod(affine).w()?;
    // SAFETY: the kernel writes all n elements.
    let mut y = unsafe { dev.alloc::<f32>(n)? };
    let func = dev.get_or_load_custom_func("anolab_bn_act_f32", MODULE, PTX)?;
    let mut b = func.builder();
    let n64 = n as u64;
    b.arg(x);
    b.arg(&affine);
    b.arg(&mut y);
    b.arg(&n64);
    for s in &sizes {
        b.arg(s);
    }
    b.arg(&slope);
    // SAFETY: x and y hold n elements, affine 2·C.
    unsafe { b.launch(grid(n)) }.w()?;
    drop(b);
    Ok(y)
}

/// The batch norm's gradient, flat `[∂x; ∂weight; ∂bias]`: ∂x = c₁·d + c₂·x + c₃ with
/// d = g · m(a·x + b) from the per-channel `coefficients = [a; b; c₁; c₂; c₃]`, then
/// `dparams` (2·C, computed on the host) appended.
pub(super) fn norm_act_grad(
    dev: &CudaDevice,
    (x, g): (&View, &View),
    coefficients: &[f32],
    dparams: &[f32],
    shape: NormShape,
    slope: f32,
) -> Result<Slice> {
    let (n, sizes) = (x.len(), norm_sizes(shape)?);
    let stream = dev.cuda_stream();
    let k = stream.clone_htod(coefficients).w()?;
    // SAFETY: the kernel writes the first n elements, the copy below the rest.
    let mut out = unsafe { dev.alloc::<f32>(n + dparams.len())? };
    let func = dev.get_or_load_custom_func("anolab_bn_act_grad_f32", MODULE, PTX)?;
    let mut b = func.builder();
    let n64 = n as u64;
    b.arg(x);
    b.arg(g);
    b.arg(&k);
    b.arg(&mut out);
    b.arg(&n64);
    for s in &sizes {
        b.arg(s);
    }
    b.arg(&slope);
    // SAFETY: x and g hold n elements, k 5·C, out n + 2·C (the kernel writes n).
    unsafe { b.launch(grid(n)) }.w()?;
    drop(b);
    let mut tail = out.slice_mut(n..);
    stream.memcpy_htod(dparams, &mut tail).w()?;
    Ok(out)
}

/// C and S as the element-wise batch-norm kernels take them.
fn norm_sizes((_, channels, len): NormShape) -> Result<[u32; 2]> {
    Ok([to_u32(channels, "channels")?, to_u32(len, "length")?])
}

/// One operand of [`matmul`]: a row-major matrix, used as it is or transposed.
pub(super) struct Operand<'a, 'b> {
    pub data: &'a View<'b>,
    pub transposed: bool,
}

/// Row-major `c (m×n) = op(a) · op(b)`, `op(a)` being m×k: `a` holds a row-major m×k
/// matrix, or k×m when `transposed` (likewise `b`: k×n, or n×k).
pub(super) fn matmul(
    dev: &CudaDevice,
    (m, n, k): (usize, usize, usize),
    a: Operand,
    b: Operand,
) -> Result<Slice> {
    use sys::cublasOperation_t::{CUBLAS_OP_N, CUBLAS_OP_T};
    let [mi, ni, ki] = [m, n, k].map(|v| i32::try_from(v).unwrap_or(i32::MAX));
    if [mi, ni, ki].contains(&i32::MAX) {
        candle_core::bail!("matmul {m}×{k}·{k}×{n} exceeds cuBLAS's int sizes");
    }
    // cuBLAS is column-major, where a row-major matrix reads as its transpose: compute
    // cᵀ (n×m) = op(b)ᵀ · op(a)ᵀ.
    let (op_b, ldb) = if b.transposed {
        (CUBLAS_OP_T, ki)
    } else {
        (CUBLAS_OP_N, ni)
    };
    let (op_a, lda) = if a.transposed {
        (CUBLAS_OP_T, mi)
    } else {
        (CUBLAS_OP_N, ki)
    };
    let compute = if candle_core::cuda_backend::gemm_reduced_precision_f32() {
        sys::cublasComputeType_t::CUBLAS_COMPUTE_32F_FAST_TF32
    } else {
        sys::cublasComputeType_t::CUBLAS_COMPUTE_32F
    };
    let (alpha, beta) = (1f32, 0f32);
    let stream = dev.cuda_stream();
    let cublas = dev.cublas_handle();
    // SAFETY: cuBLAS writes all m·n elements (beta 0).
    let mut c = unsafe { dev.alloc::<f32>(m * n)? };
    {
        let (pb, _sync_b) = b.data.device_ptr(&stream);
        let (pa, _sync_a) = a.data.device_ptr(&stream);
        let (pc, _sync_c) = c.device_ptr_mut(&stream);
        // SAFETY: a and b hold m·k and k·n elements laid out as the leading dimensions
        // say (the callers pass the matrices the geometry sizes), c holds m·n.
        unsafe {
            blas::gemm_ex(
                *cublas.handle(),
                op_b,
                op_a,
                ni,
                mi,
                ki,
                &alpha as *const f32 as *const _,
                pb as *const _,
                sys::cudaDataType_t::CUDA_R_32F,
                ldb,
                pa as *const _,
                sys::cudaDataType_t::CUDA_R_32F,
                lda,
                &beta as *const f32 as *const _,
                pc as *mut _,
                sys::cudaDataType_t::CUDA_R_32F,
                ni,
                compute,
                sys::cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT_TENSOR_OP,
            )
        }
        .w()?;
    }
    Ok(c)
}

/// Start-up settings for a CUDA device, applied once when a job opens it:
/// - the memory pool keeps what it has (release threshold: unlimited) instead of
///   returning it to the driver at every synchronisation (cudarc allocates with
///   `cuMemAllocAsync` from the device's default pool, whose threshold is 0);
/// - no per-allocation event tracking: candle gives each `Device` one stream and a job's
///   tensors never leave it, which is the condition cudarc states for turning it off.
pub fn tune_device(dev: &CudaDevice) -> Result<()> {
    use candle_core::cuda_backend::cudarc::driver::sys as drv;
    let stream = dev.cuda_stream();
    let ctx = stream.context();
    ctx.bind_to_thread().w()?;
    let mut pool = std::ptr::null_mut();
    let mut threshold = u64::MAX;
    // SAFETY: plain driver calls on this context's device, with out-pointers to locals.
    unsafe {
        drv::cuDeviceGetDefaultMemPool(&mut pool, ctx.cu_device())
            .result()
            .w()?;
        drv::cuMemPoolSetAttribute(
            pool,
            drv::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
            &mut threshold as *mut u64 as *mut _,
        )
        .result()
        .w()?;
        // SAFETY: see the doc comment; every tensor of the job is used on its one stream.
        dev.disable_event_tracking();
    }
    Ok(())
}
