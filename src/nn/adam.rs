//! Adam as one in-place pass per variable, on the CPU and on CUDA.
//!
//! candle-nn's `AdamW` makes about a dozen full-size temporaries per variable and step
//! (the moments, their corrections, the update) and copies three of them back. This
//! optimiser keeps the moments itself (plain vectors, or device buffers for a variable
//! on a GPU) and updates weight and moments in one loop (one kernel, `cuda.rs`) that
//! performs exactly AdamW's f32 operations in AdamW's order, so the weights it produces
//! are bit-for-bit those of `AdamW` (tests/adam.rs; tests/gpu.rs for the kernel).
//! Variables of other element types than f32 are stepped by candle's `AdamW`.

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, Device, InplaceOp2, Layout, Result, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Mutex;

/// Adam (AdamW with `weight_decay`) over a fixed set of variables.
pub struct Adam {
    params: ParamsAdamW,
    step_t: i32,
    own: Vec<(Var, Mutex<Moments>)>,
    /// The variables of other element types than f32, stepped by candle.
    other: Option<AdamW>,
}

/// First and second moments of one variable, where the variable lives; empty until its
/// first step.
#[derive(Default)]
struct Moments {
    m: Vec<f32>,
    v: Vec<f32>,
    /// Those of a variable on a GPU (`m` and `v` above stay empty then).
    #[cfg(feature = "cuda")]
    gpu: Option<(crate::nn::cuda::Slice, crate::nn::cuda::Slice)>,
}

impl Moments {
    /// Both moments on the host (empty before the first step).
    fn to_host(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        #[cfg(feature = "cuda")]
        if let Some((m, v)) = &self.gpu {
            let stream = m.stream();
            return Ok((
                stream.clone_dtoh(m).map_err(cuda_error)?,
                stream.clone_dtoh(v).map_err(cuda_error)?,
            ));
        }
        Ok((self.m.clone(), self.v.clone()))
    }

    /// Moments restored from the host, placed on `device`.
    fn from_host(m: Vec<f32>, v: Vec<f32>, device: &Device) -> Result<Self> {
        match device {
            #[cfg(feature = "cuda")]
            Device::Cuda(dev) if !m.is_empty() => {
                let stream = dev.cuda_stream();
                let gpu = (
                    stream.clone_htod(&m).map_err(cuda_error)?,
                    stream.clone_htod(&v).map_err(cuda_error)?,
                );
                Ok(Moments {
                    gpu: Some(gpu),
                    ..Moments::default()
                })
            }
            // With the cuda feature the struct has a `gpu` field too.
            #[allow(clippy::needless_update)]
            _ => Ok(Moments {
                m,
                v,
                ..Moments::default()
            }),
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda_error(e: impl std::fmt::Display) -> candle_core::Error {
    candle_core::Error::Msg(format!("adam moments: {e}"))
}

/// One update of one variable, applied in place to its storage with its gradient.
struct Step<'a> {
    moments: &'a Mutex<Moments>,
    /// (beta1, beta2, scale_m, scale_v, 1 − lr·λ, lr, eps) as AdamW computes them.
    k: [f64; 7],
}

impl Step<'_> {
    /// The constants rounded to f32 as candle's affine ops round them, with 1 − β₁ and
    /// 1 − β₂ computed in f64 first: (β₁, β₂, 1 − β₁, 1 − β₂, scale_m, scale_v, decay,
    /// lr, ε).
    fn constants(&self) -> [f32; 9] {
        let [b1, b2, scale_m, scale_v, decay, lr, eps] = self.k.map(|c| c as f32);
        let (one_minus_b1, one_minus_b2) = ((1.0 - self.k[0]) as f32, (1.0 - self.k[1]) as f32);
        [
            b1,
            b2,
            one_minus_b1,
            one_minus_b2,
            scale_m,
            scale_v,
            decay,
            lr,
            eps,
        ]
    }
}

impl Optimizer for Adam {
    type Config = ParamsAdamW;

    fn new(vars: Vec<Var>, params: ParamsAdamW) -> Result<Self> {
        let (own, other): (Vec<Var>, Vec<Var>) = vars
            .into_iter()
            .filter(|v| v.dtype().is_float())
            .partition(|v| v.dtype() == candle_core::DType::F32);
        let other = if other.is_empty() {
            None
        } else {
            Some(AdamW::new(other, params.clone())?)
        };
        Ok(Adam {
            own: own
                .into_iter()
                .map(|v| (v, Mutex::new(Moments::default())))
                .collect(),
            params,
            step_t: 0,
            other,
        })
    }

    fn learning_rate(&self) -> f64 {
        self.params.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.params.lr = lr;
        if let Some(o) = &mut self.other {
            o.set_learning_rate(lr);
        }
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step_t += 1;
        let p = &self.params;
        let k = [
            p.beta1,
            p.beta2,
            1f64 / (1f64 - p.beta1.powi(self.step_t)),
            1f64 / (1f64 - p.beta2.powi(self.step_t)),
            1f64 - p.lr * p.weight_decay,
            p.lr,
            p.eps,
        ];
        for (var, moments) in &self.own {
            if let Some(g) = grads.get(var) {
                var.as_tensor()
                    .inplace_op2(&g.contiguous()?, &Step { moments, k })?;
            }
        }
        if let Some(o) = &mut self.other {
            o.step(grads)?;
        }
        Ok(())
    }
}

impl Adam {
    /// Adds the optimiser's state (step count and both moments of every variable) to
    /// `out` under `prefix`, for an epoch-end checkpoint. `false`: part of the state
    /// lives in candle's optimiser (variables of another element type than f32) and
    /// cannot be saved.
    pub fn save_state(&self, prefix: &str, out: &mut HashMap<String, Tensor>) -> Result<bool> {
        if self.other.is_some() {
            return Ok(false);
        }
        let cpu = Device::Cpu;
        out.insert(
            format!("{prefix}.step"),
            Tensor::new(&[i64::from(self.step_t)], &cpu)?,
        );
        for (i, (_, moments)) in self.own.iter().enumerate() {
            let (m, v) = moments.lock().expect("adam moments").to_host()?;
            for (name, values) in [("m", m), ("v", v)] {
                let n = values.len();
                out.insert(
                    format!("{prefix}.{i}.{name}"),
                    Tensor::from_vec(values, n, &cpu)?,
                );
            }
        }
        Ok(true)
    }

    /// Restores what [`Adam::save_state`] saved under `prefix`, for the same variables.
    pub fn load_state(&mut self, prefix: &str, state: &HashMap<String, Tensor>) -> Result<()> {
        let get = |name: String| {
            state
                .get(&name)
                .ok_or_else(|| candle_core::Error::Msg(format!("the checkpoint lacks `{name}`")))
        };
        let step = get(format!("{prefix}.step"))?.to_vec1::<i64>()?;
        self.step_t = i32::try_from(step[0])
            .map_err(|_| candle_core::Error::Msg(format!("{prefix}.step out of range")))?;
        for (i, (var, moments)) in self.own.iter().enumerate() {
            let m = get(format!("{prefix}.{i}.m"))?.to_vec1::<f32>()?;
            let v = get(format!("{prefix}.{i}.v"))?.to_vec1::<f32>()?;
            if !(m.is_empty() || m.len() == var.elem_count()) || m.len() != v.len() {
                candle_core::bail!(
                    "{prefix}.{i}: moments of {} values for a variable of {}",
                    m.len(),
                    var.elem_count()
                );
            }
            *moments.lock().expect("adam moments") = Moments::from_host(m, v, var.device())?;
        }
        Ok(())
    }
}

impl InplaceOp2 for Step<'_> {
    fn name(&self) -> &'static str {
        "adam-step"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let (CpuStorage::F32(theta), CpuStorage::F32(g)) = (s1, s2) else {
            candle_core::bail!("adam-step: f32 weights and gradients");
        };
        let (Some((t0, t1)), Some((g0, g1))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            candle_core::bail!("adam-step: contiguous weights and gradients");
        };
        let (theta, g) = (&mut theta[t0..t1], &g[g0..g1]);
        let mut moments = self.moments.lock().expect("adam moments");
        let Moments { m, v, .. } = &mut *moments;
        if m.len() != theta.len() {
            *m = vec![0.0; theta.len()];
            *v = vec![0.0; theta.len()];
        }
        // `x * c + 0` in candle's affine ops is `x * c` here (adding +0 changes no value
        // AdamW can produce).
        let [b1, b2, one_minus_b1, one_minus_b2, scale_m, scale_v, decay, lr, eps] =
            self.constants();
        const CHUNK: usize = 1 << 14;
        theta
            .par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK).zip(v.par_chunks_mut(CHUNK)))
            .for_each(|((theta, g), (m, v))| {
                for i in 0..theta.len() {
                    let gi = g[i];
                    let next_m = m[i] * b1 + gi * one_minus_b1;
                    let next_v = v[i] * b2 + (gi * gi) * one_minus_b2;
                    let m_hat = next_m * scale_m;
                    let v_hat = next_v * scale_v;
                    let adjusted = m_hat / (v_hat.sqrt() + eps);
                    theta[i] = theta[i] * decay - adjusted * lr;
                    m[i] = next_m;
                    v[i] = next_v;
                }
            });
        Ok(())
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        s1: &mut candle_core::CudaStorage,
        l1: &Layout,
        s2: &candle_core::CudaStorage,
        l2: &Layout,
    ) -> Result<()> {
        use crate::nn::cuda;
        let (Some((t0, t1)), Some((g0, g1))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            candle_core::bail!("adam-step: contiguous weights and gradients");
        };
        let dev = s1.device.clone();
        let g = cuda::view(s2, l2, self.name())?;
        let n = t1 - t0;
        if g.len() != n || g1 - g0 != n {
            candle_core::bail!("adam-step: {n} weights, {} gradients", g.len());
        }
        let mut moments = self.moments.lock().expect("adam moments");
        if moments.gpu.is_none() {
            moments.gpu = Some((dev.alloc_zeros::<f32>(n)?, dev.alloc_zeros::<f32>(n)?));
        }
        let (m, v) = moments.gpu.as_mut().expect("allocated above");
        let Ok(theta) = s1.as_cuda_slice_mut::<f32>() else {
            candle_core::bail!("adam-step: f32 weights and gradients");
        };
        let mut theta = theta.slice_mut(t0..t1);
        cuda::adam_step(&dev, &mut theta, &g, (m, v), self.constants())
    }
}
