//! Cluster launchers: the Slurm job array (submitted to a real single-node Slurm when
//! `.ci/run` started one: `SLURM_TEST=1`) and the Kubernetes Indexed Job (no cluster can
//! start here: its structure is checked).

use crate::common;

use anolab::kinds::RunStatus;
use anolab::store::Store;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SWEEP: &str = "
name: launched
dataset: { name: mitdb, path: DATA, records: ['208'], max_train: 256 }
model: { name: pca }
seeds: [0, 1, 2, 3, 4, 5]
";

fn anolab(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_anolab"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "anolab {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_slurm_array_of_workers_trains_the_queued_sweep() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sweep.yaml"),
        SWEEP.replace("DATA", &common::mini_data()),
    )
    .unwrap();
    let db = dir.path().join("store.sqlite").display().to_string();
    let live = std::env::var("SLURM_TEST").is_ok_and(|v| v == "1");
    let mut args = vec![
        "slurm",
        "sweep.yaml",
        "--workers",
        "3",
        "--cpus-per-worker",
        "1",
        "--time",
        "00:10:00",
        "--db",
        &db,
    ];
    if live {
        args.push("--submit");
    } else {
        eprintln!("(Slurm submission skipped: SLURM_TEST=1 is not set; .ci/run sets it once it has started a cluster)");
    }
    let out = anolab(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("sweep `launched`: 6 runs planned, 6 queued (6 can start now)"),
        "{stdout}"
    );
    let script = std::fs::read_to_string(dir.path().join("launched/slurm.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-2",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --requeue",
        "#SBATCH --signal=B:USR1@120",
        "#SBATCH --time=00:10:00",
        &format!("#SBATCH --chdir={}", dir.path().display()),
        &format!(
            "exec {} worker --db {db} --artifacts {} --sweep launched --exit-when-idle --device cpu --jobs 1 --lease-seconds 120 --log-format plain",
            env!("CARGO_BIN_EXE_anolab"),
            dir.path().display()
        ),
    ] {
        assert!(script.lines().any(|l| l == line), "no `{line}` in\n{script}");
    }
    if !live {
        return;
    }
    let job = stdout
        .split_whitespace()
        .skip_while(|w| *w != "job")
        .nth(1)
        .expect("a job id")
        .trim_end_matches(';')
        .to_string();
    let start = Instant::now();
    loop {
        let queue = Command::new("squeue")
            .args(["-h", "-j", &job])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&queue.stdout).trim().is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "job {job} still queued or running after 3 minutes"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let store = Store::open_read_only(Path::new(&db)).unwrap();
    let done = store.runs(Some("launched"), Some(RunStatus::Done)).unwrap();
    assert_eq!(done.len(), 6, "every run done by the array's workers");
    let workers = common::count(&store, "SELECT count(DISTINCT owner) FROM attempts");
    assert!((1..=3).contains(&workers), "{workers} workers");
    assert_eq!(common::count(&store, "SELECT count(*) FROM attempts"), 6);
    eprintln!(
        "Slurm job {job}: 6 runs done by {workers} array tasks in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn the_kubernetes_job_runs_one_worker_per_pod_on_the_shared_store() {
    let Some(location) = common::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sweep.yaml"),
        SWEEP.replace("DATA", &common::mini_data()),
    )
    .unwrap();
    let url = location.as_arg();
    let artifacts = dir.path().join("artifacts").display().to_string();
    anolab(
        dir.path(),
        &[
            "k8s",
            "sweep.yaml",
            "--workers",
            "5",
            "--gpus-per-worker",
            "1",
            "--image",
            "registry.example/anolab:1",
            "--workdir",
            "/work",
            "--artifacts",
            &artifacts,
            "--out",
            "job.json",
            "--db",
            &url,
        ],
    );
    let job: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("job.json")).unwrap())
            .unwrap();
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 5);
    assert_eq!(job["spec"]["parallelism"], 5);
    let pod = &job["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "registry.example/anolab:1");
    assert_eq!(container["workingDir"], "/work");
    assert_eq!(container["resources"]["limits"]["nvidia.com/gpu"], "1");
    let command: Vec<&str> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        command.join(" "),
        format!("anolab worker --db $(STORE_URL) --artifacts {artifacts} --sweep launched --exit-when-idle --device cuda:0 --jobs 1 --lease-seconds 120 --log-format plain")
    );
    assert_eq!(
        container["volumeMounts"][0]["mountPath"],
        artifacts.as_str()
    );
    assert_eq!(
        container["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        "anolab-store"
    );
    assert!(
        !std::fs::read_to_string(dir.path().join("job.json"))
            .unwrap()
            .contains(&url),
        "the store's URL stays in the Secret"
    );
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "anolab-artifacts"
    );
    // The sweep was queued for the pods.
    let store = Store::open_read_only(&location).unwrap();
    assert_eq!(store.pending(Some("launched")).unwrap().queued, 6);
}
