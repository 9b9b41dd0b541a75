//! `--device cpu | cuda:0 | cuda:0,1`: where runs train. Several CUDA devices are used
//! round-robin, one run each at a time.

use anyhow::{anyhow, bail, Result};
use candle_core::Device;
use std::str::FromStr;

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
                Ok((format!("cuda:{id}"), device))
            }
        }
    }
}
