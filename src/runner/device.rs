//! `--device cpu | cuda:0 | cuda:0,1`: where runs train. Several CUDA devices are used
//! round-robin by a worker's jobs; each job opens its own device (one stream), tuned by
//! `nn::cuda::tune_device`. Also the process-wide precision switch (`train.precision`).

use crate::models::Precision;
use anyhow::{anyhow, bail, Result};
use candle_core::Device;
use std::str::FromStr;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    Cpu,
    Cuda(Vec<usize>),
}

impl FromStr for DeviceSpec {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s == "cpu" {
            return Ok(DeviceSpec::Cpu);
        }
        let Some(list) = s.strip_prefix("cuda:") else {
            bail!("unknown device `{s}`: use cpu, cuda:0 or cuda:0,1");
        };
        let ids = list
            .split(',')
            .map(|id| {
                id.trim()
                    .parse::<usize>()
                    .map_err(|_| anyhow!("unknown device `{s}`: `{id}` is not a GPU number; use cpu, cuda:0 or cuda:0,1"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DeviceSpec::Cuda(ids))
    }
}

impl DeviceSpec {
    /// The device for the `index`-th run started, with its name as stored.
    pub fn pick(&self, index: usize) -> Result<(String, Device)> {
        match self {
            DeviceSpec::Cpu => Ok(("cpu".into(), Device::Cpu)),
            DeviceSpec::Cuda(ids) => {
                let id = ids[index % ids.len()];
                if !cfg!(feature = "cuda") {
                    bail!("device cuda:{id} needs anolab built with `--features cuda`");
                }
                let device = Device::new_cuda(id).map_err(|e| anyhow!("opening cuda:{id}: {e}"))?;
                #[cfg(feature = "cuda")]
                if let Device::Cuda(cuda) = &device {
                    crate::nn::cuda::tune_device(cuda)
                        .map_err(|e| anyhow!("setting up cuda:{id}: {e}"))?;
                }
                Ok((format!("cuda:{id}"), device))
            }
        }
    }
}

/// The precision of the GPU runs training now in this process, and how many there are.
static IN_FLIGHT: Mutex<(Precision, usize)> = Mutex::new((Precision::F32, 0));

/// A run's hold on candle's process-wide TF32 switch (`set_gemm_reduced_precision_f32`,
/// which our convolutions read too); released when dropped.
pub struct PrecisionHold {
    counted: bool,
}

/// Sets the switch for a run at precision `p` on `device`. Runs training at once in one
/// process must agree on it: a run at another precision than those in flight is refused
/// (and recorded failed with this reason) instead of silently computing at theirs.
pub fn hold_precision(p: Precision, device: &Device) -> Result<PrecisionHold> {
    if device.is_cpu() {
        if p != Precision::F32 {
            bail!(
                "train.precision: {} needs a CUDA device; the CPU computes in f32",
                p.name()
            );
        }
        return Ok(PrecisionHold { counted: false });
    }
    let mut held = IN_FLIGHT.lock().expect("precision lock");
    if held.1 > 0 && held.0 != p {
        bail!(
            "train.precision: {} while this process trains other runs at {}: the switch is \
             process-wide; run sweeps of different precisions in separate workers, or with --jobs 1",
            p.name(),
            held.0.name()
        );
    }
    *held = (p, held.1 + 1);
    #[cfg(feature = "cuda")]
    candle_core::cuda_backend::set_gemm_reduced_precision_f32(p == Precision::Tf32);
    Ok(PrecisionHold { counted: true })
}

impl Drop for PrecisionHold {
    fn drop(&mut self) {
        if self.counted {
            IN_FLIGHT.lock().expect("precision lock").1 -= 1;
        }
    }
}
