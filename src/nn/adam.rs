//! Adam on the CPU as one in-place pass per variable.
//!
//! candle-nn's `AdamW` makes about a dozen full-size temporaries per variable and step
//! (the moments, their corrections, the update) and copies three of them back. This
//! optimiser keeps the moments in plain vectors and updates weight and moments in one
//! loop that performs exactly AdamW's f32 operations in AdamW's order, so the weights
//! it produces are bit-for-bit those of `AdamW` (tests/adam.rs). Variables on other
//! devices are stepped by candle's `AdamW`.

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp2, Layout, Result, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use rayon::prelude::*;
use std::sync::Mutex;

/// Adam (AdamW with `weight_decay`) over a fixed set of variables.
pub struct Adam {
    params: ParamsAdamW,
    step_t: i32,
    cpu: Vec<(Var, Mutex<Moments>)>,
    /// The variables not on the CPU, stepped by candle.
    other: Option<AdamW>,
}

/// First and second moments of one variable.
#[derive(Default)]
struct Moments {
    m: Vec<f32>,
    v: Vec<f32>,
}

/// One update of one variable, applied in place to its storage with its gradient.
struct Step<'a> {
    moments: &'a Mutex<Moments>,
    /// (beta1, beta2, scale_m, scale_v, 1 − lr·λ, lr, eps) as AdamW computes them.
    k: [f64; 7],
}

impl Optimizer for Adam {
    type Config = ParamsAdamW;

    fn new(vars: Vec<Var>, params: ParamsAdamW) -> Result<Self> {
        let (cpu, other): (Vec<Var>, Vec<Var>) = vars
            .into_iter()
            .filter(|v| v.dtype().is_float())
            .partition(|v| v.device().is_cpu() && v.dtype() == candle_core::DType::F32);
        let other = if other.is_empty() {
            None
        } else {
            Some(AdamW::new(other, params.clone())?)
        };
        Ok(Adam {
            cpu: cpu
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
        for (var, moments) in &self.cpu {
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
    /// `out` under `prefix`, for an epoch-end checkpoint. `false`: the state lives in
    /// candle's optimiser (variables on a GPU) and cannot be saved.
    pub fn save_state(
        &self,
        prefix: &str,
        out: &mut std::collections::HashMap<String, candle_core::Tensor>,
    ) -> Result<bool> {
        if self.other.is_some() {
            return Ok(false);
        }
        let cpu = candle_core::Device::Cpu;
        out.insert(
            format!("{prefix}.step"),
            candle_core::Tensor::new(&[i64::from(self.step_t)], &cpu)?,
        );
        for (i, (_, moments)) in self.cpu.iter().enumerate() {
            let moments = moments.lock().expect("adam moments");
            for (name, values) in [("m", &moments.m), ("v", &moments.v)] {
                out.insert(
                    format!("{prefix}.{i}.{name}"),
                    candle_core::Tensor::from_slice(values, values.len(), &cpu)?,
                );
            }
        }
        Ok(true)
    }

    /// Restores what [`Adam::save_state`] saved under `prefix`, for the same variables.
    pub fn load_state(
        &mut self,
        prefix: &str,
        state: &std::collections::HashMap<String, candle_core::Tensor>,
    ) -> Result<()> {
        let get = |name: String| {
            state
                .get(&name)
                .ok_or_else(|| candle_core::Error::Msg(format!("the checkpoint lacks `{name}`")))
        };
        let step = get(format!("{prefix}.step"))?.to_vec1::<i64>()?;
        self.step_t = i32::try_from(step[0])
            .map_err(|_| candle_core::Error::Msg(format!("{prefix}.step out of range")))?;
        for (i, (var, moments)) in self.cpu.iter().enumerate() {
            let mut moments = moments.lock().expect("adam moments");
            let m = get(format!("{prefix}.{i}.m"))?.to_vec1::<f32>()?;
            let v = get(format!("{prefix}.{i}.v"))?.to_vec1::<f32>()?;
            if !(m.is_empty() || m.len() == var.elem_count()) || m.len() != v.len() {
                candle_core::bail!(
                    "{prefix}.{i}: moments of {} values for a variable of {}",
                    m.len(),
                    var.elem_count()
                );
            }
            *moments = Moments { m, v };
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
        let Moments { m, v } = &mut *moments;
        if m.len() != theta.len() {
            *m = vec![0.0; theta.len()];
            *v = vec![0.0; theta.len()];
        }
        // Each constant rounded to f32 as candle's affine ops round them; `x * c + 0`
        // there is `x * c` here (adding +0 changes no value AdamW can produce).
        let [b1, b2, scale_m, scale_v, decay, lr, eps] = self.k.map(|c| c as f32);
        let (one_minus_b1, one_minus_b2) = ((1.0 - self.k[0]) as f32, (1.0 - self.k[1]) as f32);
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
}
