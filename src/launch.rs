//! Launchers on cluster engines: the text of a Slurm job array and of a Kubernetes
//! Indexed Job whose tasks each run `anolab worker` against one shared store. The
//! engines schedule, restart and requeue; the store's queue gives every run to one
//! worker. This module writes text only: planning the sweep and submitting the job are
//! the caller's.

use crate::store::Location;
use std::path::PathBuf;

/// What every task of a launched job runs, and on what.
#[derive(Debug, Clone)]
pub struct Launch {
    pub sweep: String,
    pub workers: usize,
    /// The store every worker reaches (PostgreSQL, or SQLite on a filesystem they share).
    pub db: Location,
    /// The artifacts folder every worker mounts, absolute.
    pub artifacts: PathBuf,
    /// The folder workers start in (data paths in the sweep are relative to it).
    pub workdir: PathBuf,
    /// The `anolab` binary the tasks run (Slurm; the image's own for Kubernetes).
    pub anolab: PathBuf,
    pub cpus_per_worker: usize,
    pub gpus_per_worker: usize,
    /// Runs each worker trains at once (`anolab worker --jobs`).
    pub jobs_per_worker: usize,
    pub lease_seconds: u64,
}

impl Launch {
    /// The arguments of each task's `anolab worker`; `db` is how the store's address
    /// is written (the address, or a variable the engine fills in).
    fn worker_args(&self, db: &str) -> Vec<String> {
        let device = if self.gpus_per_worker > 0 {
            (0..self.gpus_per_worker)
                .map(|g| format!("cuda:{g}"))
                .collect::<Vec<_>>()
                .join(",")
        } else {
            "cpu".into()
        };
        [
            "worker",
            "--db",
            db,
            "--artifacts",
            &self.artifacts.display().to_string(),
            "--sweep",
            &self.sweep,
            "--exit-when-idle",
            "--device",
            &device,
            "--jobs",
            &self.jobs_per_worker.max(1).to_string(),
            "--lease-seconds",
            &self.lease_seconds.to_string(),
            "--log-format",
            "plain",
        ]
        .map(String::from)
        .to_vec()
    }
}

/// Options of an sbatch array beyond [`Launch`].
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--time`, e.g. `04:00:00`.
    pub time: Option<String>,
    pub partition: Option<String>,
    /// Memory per task, e.g. `16G`.
    pub mem: Option<String>,
}

/// An sbatch script: an array of `workers` tasks, each one worker; requeued when
/// preempted (a worker's unfinished run goes back to the queue, see the store's leases).
pub fn slurm_script(launch: &Launch, slurm: &SlurmOptions) -> String {
    let logs = launch.artifacts.join(&launch.sweep);
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!(
            "# anolab workers for sweep `{}`: {} tasks, each `anolab worker` on the shared store.",
            launch.sweep, launch.workers
        ),
        "# Submit with: sbatch THIS_FILE (or `anolab slurm ... --submit`).".into(),
        format!("#SBATCH --job-name=anolab-{}", launch.sweep),
        format!("#SBATCH --array=0-{}", launch.workers.max(1) - 1),
        "#SBATCH --ntasks=1".into(),
        format!("#SBATCH --cpus-per-task={}", launch.cpus_per_worker.max(1)),
        format!("#SBATCH --chdir={}", launch.workdir.display()),
        format!("#SBATCH --output={}/slurm-%A_%a.out", logs.display()),
        // A preempted task goes back in the queue; its run is taken back by whichever
        // worker looks first (the lease, or at once on the same node).
        "#SBATCH --requeue".into(),
        // Two minutes before the time limit the worker is told to stop: it finishes the
        // batch, puts its run back (with its last epoch-end checkpoint) and exits.
        "#SBATCH --signal=B:USR1@120".into(),
    ];
    if let Some(t) = &slurm.time {
        lines.push(format!("#SBATCH --time={t}"));
    }
    if let Some(p) = &slurm.partition {
        lines.push(format!("#SBATCH --partition={p}"));
    }
    if let Some(m) = &slurm.mem {
        lines.push(format!("#SBATCH --mem={m}"));
    }
    if launch.gpus_per_worker > 0 {
        lines.push(format!("#SBATCH --gres=gpu:{}", launch.gpus_per_worker));
    }
    lines.extend([
        String::new(),
        "set -euo pipefail".into(),
        "# candle sizes its CPU pools from this: the task's own cores, not the node's.".into(),
        "export RAYON_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}".into(),
        format!(
            "exec {} {}",
            shell_quote(&launch.anolab.display().to_string()),
            launch
                .worker_args(&launch.db.as_arg())
                .iter()
                .map(|a| shell_quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        String::new(),
    ]);
    lines.join("\n")
}

/// Options of a Kubernetes Indexed Job beyond [`Launch`].
#[derive(Debug, Clone)]
pub struct KubernetesOptions {
    /// The container image, with anolab on its PATH and the sweep's data in `workdir`.
    pub image: String,
    /// The Secret holding the store's URL under key `url` (never written in the manifest).
    pub db_secret: String,
    /// The PersistentVolumeClaim mounted at `artifacts` in every pod.
    pub artifacts_claim: String,
}

/// An Indexed Job (JSON, which `kubectl apply -f` reads as YAML): `workers` pods at
/// once, each one worker; a pod that fails or is evicted is started again, and the
/// run it held goes back to the queue when its lease expires.
pub fn kubernetes_job(launch: &Launch, k8s: &KubernetesOptions) -> serde_json::Value {
    let name = format!("anolab-{}", launch.sweep.replace('_', "-").to_lowercase());
    // Kubernetes itself puts the Secret's value in place of `$(STORE_URL)`.
    let mut command = vec!["anolab".to_string()];
    command.extend(launch.worker_args("$(STORE_URL)"));
    let mut resources = serde_json::json!({
        "requests": {"cpu": launch.cpus_per_worker.max(1).to_string()},
        "limits": {"cpu": launch.cpus_per_worker.max(1).to_string()},
    });
    if launch.gpus_per_worker > 0 {
        resources["limits"]["nvidia.com/gpu"] = launch.gpus_per_worker.to_string().into();
    }
    serde_json::json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": {"app": "anolab", "anolab/sweep": launch.sweep}},
        "spec": {
            "completionMode": "Indexed",
            "completions": launch.workers,
            "parallelism": launch.workers,
            // Pods restarted after failures, over the whole job.
            "backoffLimit": 4 * launch.workers,
            "template": {
                "metadata": {"labels": {"app": "anolab", "anolab/sweep": launch.sweep}},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "terminationGracePeriodSeconds": 60,
                    "containers": [{
                        "name": "worker",
                        "image": k8s.image,
                        "workingDir": launch.workdir.display().to_string(),
                        "command": command,
                        "env": [
                            {"name": "STORE_URL", "valueFrom": {"secretKeyRef": {"name": k8s.db_secret, "key": "url"}}},
                            {"name": "RAYON_NUM_THREADS", "value": launch.cpus_per_worker.max(1).to_string()}
                        ],
                        "resources": resources,
                        "volumeMounts": [{"name": "artifacts", "mountPath": launch.artifacts.display().to_string()}]
                    }],
                    "volumes": [{"name": "artifacts", "persistentVolumeClaim": {"claimName": k8s.artifacts_claim}}]
                }
            }
        }
    })
}

/// `'text'` for a POSIX shell (single quotes, each `'` as `'\''`).
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
    {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}
