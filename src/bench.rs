//! `anolab bench`: timings of the work a sweep repeats, on fixed sizes, as a table of
//! median and spread. Speed is measured here, never asserted in tests.

use crate::config::RunConfig;
use crate::data::{mitdb, Windows};
use crate::kinds::SplitName;
use crate::metrics;
use crate::models::beatgan::BeatganConfig;
use crate::models::{Build, Detector, Finished, InputShape, ModelConfig, TrainConfig, MODEL_NAMES};
use crate::plan::RunSpec;
use crate::rng::SplitMix64;
use crate::store::{Location, Metric, RunResult, ScoreSet, Store, SweepRecord};
use anyhow::{Context, Result};
use candle_core::Device;
use std::path::Path;
use std::time::Instant;

/// One benchmark: what was timed, the unit, and the repeated measurements.
pub struct Timing {
    pub name: String,
    /// What one measurement counts, e.g. "s per step".
    pub unit: &'static str,
    pub samples: Vec<f64>,
}

impl Timing {
    /// (median, min, max).
    pub fn summary(&self) -> (f64, f64, f64) {
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        (s[s.len() / 2], s[0], s[s.len() - 1])
    }
}

/// The benchmark groups, as `--only` names them.
pub const ITEMS: [&str; 8] = [
    "step",
    "epochs",
    "baselines",
    "scoring",
    "metrics",
    "extraction",
    "store",
    "queue",
];

/// What to run; `repeats` measurements of each item (after one warm-up).
pub struct BenchOptions<'a> {
    pub repeats: usize,
    /// Items of [`ITEMS`] to run; empty: all.
    pub only: Vec<String>,
    /// MIT-BIH folder for the 44-record extraction; skipped when absent.
    pub mitdb: Option<&'a Path>,
    pub device: &'a Device,
    /// A PostgreSQL server for the queue benchmark (each sample in a new sweep there).
    pub postgres: Option<Location>,
}

const LENGTH: usize = 320;

fn random_windows(n: usize, length: usize, seed: u64) -> Windows {
    let mut rng = SplitMix64::new(seed);
    Windows {
        data: (0..n * length)
            .map(|_| (rng.normal() * 0.3).tanh() as f32)
            .collect(),
        n,
        channels: 1,
        length,
        labels: (0..n).map(|i| i % 10 == 0).collect(),
        classes: (0..n)
            .map(|i| if i % 10 == 0 { "V" } else { "N" }.to_string())
            .collect(),
        image: None,
    }
}

/// Runs `f` once to warm up, then `repeats` times, and returns the measurements
/// (`f` returns the quantity to record, e.g. its own elapsed seconds or a rate).
fn measure(repeats: usize, mut f: impl FnMut() -> Result<f64>) -> Result<Vec<f64>> {
    f()?;
    (0..repeats).map(|_| f()).collect()
}

fn seconds(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

impl BenchOptions<'_> {
    fn wants(&self, item: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == item)
    }
}

/// The chosen benchmarks, in order; `progress` is told each item's name as it starts.
pub fn run(opts: &BenchOptions, mut progress: impl FnMut(&str)) -> Result<Vec<Timing>> {
    if let Some(bad) = opts.only.iter().find(|o| !ITEMS.contains(&o.as_str())) {
        anyhow::bail!(
            "unknown benchmark `{bad}`; choose from {}",
            ITEMS.join(", ")
        );
    }
    let mut out = Vec::new();
    let shape = InputShape::signal(1, LENGTH);
    let train = TrainConfig::default();
    let dir = tempfile_dir()?;

    // 1. One BeatGAN D+G step at the paper's size: 64 windows at batch 64 = one step.
    progress("beatgan step");
    let batch = random_windows(64, LENGTH, 1);
    let mut model = build(
        &ModelConfig::Beatgan(BeatganConfig::default()),
        &train,
        shape,
        opts.device,
        &[],
    )?;
    let mut rng = SplitMix64::new(0);
    if opts.wants("step") {
        out.push(Timing {
            name: "beatgan train step (batch 64, 1x320, ndf 32, nz 50)".into(),
            unit: "s",
            samples: measure(opts.repeats, || {
                seconds(|| {
                    model
                        .fit_epoch(&batch, &mut rng, &mut || Ok(()))
                        .map(|_| ())
                })
            })?,
        });
    }

    // 2. One epoch of each model at its defaults.
    if opts.wants("epochs") {
        out.extend(model_epochs(opts, &train, &dir, &mut rng, &mut progress)?);
    }

    // 2b. The classical baselines at MIT-BIH scale, and the per-run bootstrap.
    if opts.wants("baselines") {
        out.extend(baselines(opts, &train, &mut progress)?);
    }

    // 3. Scoring throughput of the paper-size BeatGAN.
    if opts.wants("scoring") {
        progress("scoring");
        let to_score = random_windows(4096, LENGTH, 3);
        out.push(Timing {
            name: "beatgan scoring (4,096 windows)".into(),
            unit: "windows/s",
            samples: measure(opts.repeats, || {
                Ok(to_score.n as f64 / seconds(|| model.score(&to_score).map(|_| ()))?)
            })?,
        });
    }

    // 4. Metrics on a million scores.
    if opts.wants("metrics") {
        progress("metrics");
        out.push(metrics_timing(opts.repeats)?);
    }

    // 5. Beat extraction over BeatGAN's 44 records.
    match opts
        .mitdb
        .filter(|d| d.is_dir() && opts.wants("extraction"))
    {
        Some(dir) => {
            progress("beat extraction");
            let records = mitdb::list_records(dir)?;
            for (rpeak_check, what) in [(false, ""), (true, ", with the R-peak check")] {
                out.push(Timing {
                    name: format!("MIT-BIH beat extraction ({} records{what})", records.len()),
                    unit: "s",
                    samples: measure(opts.repeats.min(3), || {
                        seconds(|| {
                            mitdb::extract_beats(
                                dir,
                                &records,
                                mitdb::Filter::default(),
                                rpeak_check,
                            )
                            .map(|_| ())
                            .map_err(Into::into)
                        })
                    })?,
                });
            }
        }
        None if opts.wants("extraction") => {
            eprintln!("beat extraction skipped: no MIT-BIH folder (--mitdb PATH)")
        }
        None => {}
    }

    // 6. Store writes: a run's epochs and its finished results with 100,000 scores.
    if opts.wants("store") {
        progress("store writes");
        let mut round = 0;
        out.push(Timing {
            name: "store: 100 epochs x 6 values + finish with 100,000 scores".into(),
            unit: "s",
            samples: measure(opts.repeats.min(5), || {
                round += 1;
                let store = Store::open(dir.join(format!("bench{round}.sqlite")))?;
                store_round_trip(&store)
            })?,
        });
    }
    // 7. The queue: claims and finishes of no-op runs by many workers on one store.
    if opts.wants("queue") {
        let mut round = 0;
        let mut engines = vec![(Location::Sqlite(dir.join("queue.sqlite")), 8, 400)];
        match &opts.postgres {
            Some(url) => engines.push((url.clone(), 32, 2000)),
            None => eprintln!("queue on PostgreSQL skipped: no --postgres URL"),
        }
        for (location, workers, runs) in engines {
            progress(&format!("queue on {location}"));
            let store = Store::open(&location)?;
            out.push(Timing {
                name: format!(
                    "queue: claim + finish, {workers} workers on {}, {runs} no-op runs",
                    match location {
                        Location::Sqlite(_) => "SQLite",
                        Location::Postgres(_) => "PostgreSQL",
                    }
                ),
                unit: "runs/s",
                samples: measure(opts.repeats.min(3), || {
                    round += 1;
                    queue_throughput(&store, &location, workers, runs, round)
                })?,
            });
        }
    }
    // Best effort: a leftover folder in the temp dir harms nothing.
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}

/// Plans `runs` no-op runs in a new sweep, then times `workers` threads, each with its
/// own connections (as separate processes would have), claiming and finishing them
/// until none is left. Returns runs per second.
fn queue_throughput(
    store: &Store,
    location: &Location,
    workers: usize,
    runs: usize,
    round: usize,
) -> Result<f64> {
    let config: RunConfig = serde_json::from_value(serde_json::json!({
        "dataset": { "name": "mitdb" },
        "model": { "name": "random" },
    }))?;
    let specs: Vec<RunSpec> = (0..runs)
        .map(|i| RunSpec::new(config.clone(), &format!("queue-bench-{round}-{i}")))
        .collect();
    let name = format!("queue_bench_{}_{round}", std::process::id());
    let document = serde_json::json!({ "name": name });
    let record = SweepRecord {
        name: &name,
        description: None,
        spec: &document,
        source_file: "bench",
        git_commit: None,
        git_dirty: None,
        host: "bench",
    };
    store.plan(&record, &specs).context("plan")?;
    let stores: Vec<Store> = (0..workers)
        .map(|_| Store::open(location))
        .collect::<Result<_>>()?;
    let result = RunResult {
        n_params: 0,
        best_epoch: 0,
        protocol: "clean".into(),
        duration_s: 0.0,
        metrics: Vec::new(),
        scores: Vec::new(),
        artifacts: Vec::new(),
    };
    let start = Instant::now();
    let claimed: Vec<Result<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(w, store)| {
                let (name, result) = (&name, &result);
                s.spawn(move || -> Result<usize> {
                    let owner = format!("bench:{w}");
                    let who = crate::store::Claimant {
                        owner: &owner,
                        device: "cpu",
                        lease: crate::store::DEFAULT_LEASE,
                    };
                    let mut n = 0;
                    while let Some(c) = store.claim_next(Some(name), &who).context("claim")? {
                        store.finish(&c.attempt, result).context("finish")?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a bench worker"))
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let total: usize = claimed.into_iter().sum::<Result<usize>>()?;
    anyhow::ensure!(total == runs, "{total} of {runs} runs were claimed");
    Ok(runs as f64 / seconds)
}

/// One epoch of each registered model at its defaults: the conv models on 1,024 windows
/// of 1×320, the recurrent ones (step by step over time, far slower) on 256 of 1×100,
/// TadGAN's NAB window.
fn model_epochs(
    opts: &BenchOptions,
    train: &TrainConfig,
    dir: &Path,
    rng: &mut SplitMix64,
    progress: &mut impl FnMut(&str),
) -> Result<Vec<Timing>> {
    let mut out = Vec::new();
    let conv_data = random_windows(1024, LENGTH, 2);
    let seq_data = random_windows(256, 100, 2);
    for name in MODEL_NAMES {
        progress(&format!("{name} epoch"));
        let config: ModelConfig = serde_json::from_value(serde_json::json!({ "name": name }))?;
        let data = if config.spec().steps_in_time() {
            &seq_data
        } else {
            &conv_data
        };
        let shape = InputShape::of(data);
        // Each run it depends on (a student's teacher), untrained, from a checkpoint.
        let mut needed = Vec::new();
        for needs in config.spec().dependencies() {
            let checkpoint = dir.join(format!("{name}-{}.safetensors", needs.role));
            build(&needs.model, train, shape, opts.device, &[])?.save(&checkpoint)?;
            needed.push(Finished {
                role: needs.role.to_string(),
                checkpoint,
                auc_roc: None,
            });
        }
        let mut m = build(&config, train, shape, opts.device, &needed)?;
        out.push(Timing {
            name: format!(
                "{name} epoch ({} windows of 1x{}, defaults)",
                data.n, data.length
            ),
            unit: "s",
            samples: measure(opts.repeats.min(3), || {
                seconds(|| m.fit_epoch(data, rng, &mut || Ok(())).map(|_| ()))
            })?,
        });
    }
    Ok(out)
}

/// Each classical baseline fitted on 65,536 windows of 1×320 (a 44-record MIT-BIH fold
/// has ~64,700 training beats) and scoring 16,384; the matrix profile's self-join of
/// 20,000 windows of 100; the 1,000-resample bootstrap of AUC-ROC and AP on 28,000 scores
/// (the size of a full MIT-BIH test fold); VUS on a 100,000-step series.
fn baselines(
    opts: &BenchOptions,
    train: &TrainConfig,
    progress: &mut impl FnMut(&str),
) -> Result<Vec<Timing>> {
    let mut out = Vec::new();
    let fit_data = random_windows(65_536, LENGTH, 5);
    let to_score = random_windows(16_384, LENGTH, 6);
    let repeats = opts.repeats.min(3);
    for name in ["template", "pca", "knn", "iforest", "random"] {
        progress(&format!("{name} fit + score"));
        let config: ModelConfig = serde_json::from_value(serde_json::json!({ "name": name }))?;
        let shape = InputShape::of(&fit_data);
        let mut rng = SplitMix64::new(0);
        out.push(Timing {
            name: format!("{name} fit 65,536 + score 16,384 windows of 1x320"),
            unit: "s",
            samples: measure(repeats, || {
                seconds(|| {
                    let mut m = build(&config, train, shape, opts.device, &[])?;
                    m.fit_epoch(&fit_data, &mut rng, &mut || Ok(()))?;
                    m.score(&to_score).map(|_| ())
                })
            })?,
        });
    }
    progress("matrix_profile");
    let series = random_windows(20_000, 100, 7);
    out.push(Timing {
        name: "matrix_profile self-join of 20,000 windows of 100".into(),
        unit: "s",
        samples: measure(repeats, || {
            seconds(|| {
                crate::models::matrix_profile::matrix_profile(&series);
                Ok(())
            })
        })?,
    });
    progress("vus");
    let mut rng = SplitMix64::new(9);
    let steps: Vec<bool> = (0..100_000).map(|i| (i / 500) % 20 == 7).collect();
    let step_scores: Vec<f64> = steps
        .iter()
        .map(|&l| rng.normal() + if l { 1.0 } else { 0.0 })
        .collect();
    out.push(Timing {
        name: "vus_roc + vus_pr on 100,000 steps (window 100, 5% anomalous)".into(),
        unit: "s",
        samples: measure(repeats, || {
            seconds(|| {
                metrics::vus::vus(&steps, &step_scores, 100)?;
                Ok(())
            })
        })?,
    });
    progress("bootstrap");
    let mut rng = SplitMix64::new(8);
    let labels: Vec<bool> = (0..28_000).map(|_| rng.next_f64() < 0.3).collect();
    let scores: Vec<f64> = labels
        .iter()
        .map(|&l| rng.normal() + if l { 1.0 } else { 0.0 })
        .collect();
    out.push(Timing {
        name: "bootstrap of auc_roc + auc_pr, 1,000 resamples of 28,000 scores".into(),
        unit: "s",
        samples: measure(opts.repeats, || {
            seconds(|| {
                metrics::intervals::bootstrap(&labels, &scores, metrics::intervals::RESAMPLES)?;
                Ok(())
            })
        })?,
    });
    Ok(out)
}

/// AUC-ROC, AP and best F1 on a million seeded scores.
fn metrics_timing(repeats: usize) -> Result<Timing> {
    let mut rng = SplitMix64::new(4);
    let labels: Vec<bool> = (0..1_000_000).map(|_| rng.next_f64() < 0.1).collect();
    let scores: Vec<f64> = labels
        .iter()
        .map(|&l| rng.normal() + if l { 1.0 } else { 0.0 })
        .collect();
    Ok(Timing {
        name: "auc_roc + auc_pr + best_f1 on 1,000,000 scores".into(),
        unit: "s",
        samples: measure(repeats, || {
            seconds(|| {
                metrics::auc_roc(&labels, &scores)?;
                metrics::auc_pr(&labels, &scores)?;
                metrics::best_f1(&labels, &scores)?;
                Ok(())
            })
        })?,
    })
}

fn store_round_trip(store: &Store) -> Result<f64> {
    let config: RunConfig = serde_json::from_value(serde_json::json!({
        "dataset": { "name": "mitdb" },
        "model": { "name": "beatgan" },
    }))?;
    let run = RunSpec::new(config, "bench");
    let document = serde_json::json!({ "name": "bench" });
    let record = SweepRecord {
        name: "bench",
        description: None,
        spec: &document,
        source_file: "bench",
        git_commit: None,
        git_dirty: None,
        host: "bench",
    };
    let n = 100_000;
    let result = RunResult {
        n_params: 1,
        best_epoch: 0,
        protocol: "clean".into(),
        duration_s: 0.0,
        metrics: vec![Metric {
            split: SplitName::Test,
            name: "auc_roc".into(),
            value: 0.5,
        }],
        scores: vec![ScoreSet {
            split: SplitName::Test,
            labels: vec![false; n],
            scores: vec![0.5; n],
            classes: vec!["N".into(); n],
        }],
        artifacts: Vec::new(),
    };
    seconds(|| {
        let id = store.plan(&record, std::slice::from_ref(&run))?[0].id;
        let attempt = store
            .claim(id, "cpu", "bench:0")?
            .ok_or_else(|| anyhow::anyhow!("the bench run could not be claimed"))?;
        for epoch in 0..100 {
            let values: Vec<(String, f64)> = (0..6).map(|i| (format!("loss{i}"), 0.1)).collect();
            store.record_epoch(&attempt, epoch, &values)?;
        }
        store.finish(&attempt, &result)
    })
}

/// A detector of `model` initialised from seed 0.
fn build(
    model: &ModelConfig,
    train: &TrainConfig,
    shape: InputShape,
    device: &Device,
    dependencies: &[Finished],
) -> Result<Box<dyn Detector>> {
    model.build(&Build {
        train,
        shape,
        device,
        seed: 0,
        dependencies,
    })
}

/// A fresh folder under the system temp dir for the benchmark's files.
fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("anolab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
