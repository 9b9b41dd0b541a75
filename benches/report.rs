//! Times `anolab report` rendering of a 1,000-run sweep: a real SQLite store filled
//! through the Store API (5 nz × 4 w_adv × 5 ndf × 10 seeds, 2,758 test scores and 10
//! epochs per run, like the quick start's test split), then `report::render` five times.
//! The figures stay in `target/report-bench/figures` to be looked at.
//!
//!     cargo bench --bench report

#[path = "../tests/it/report_fixture/mod.rs"]
mod fixture;

use anolab::report::{self, ReportOptions};
use std::time::Instant;

const SWEEP: &str = "
name: bench
dataset: { name: mitdb, path: DATA }
model: { name: beatgan, nz: [8, 16, 32, 64, 128], w_adv: [0.1, 0.3, 1.0, 3.0], ndf: [4, 8, 16, 32, 64], ngf: 8 }
train: { epochs: 10 }
seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
report: { heatmap: [model.nz, model.w_adv] }
";

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let start = Instant::now();
    let (store, _, runs) = fixture::fill(&dir, SWEEP, 2758, 10);
    println!(
        "filled {} runs in {:.1} s",
        runs.len(),
        start.elapsed().as_secs_f64()
    );
    let out = dir.join("figures");
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let r = report::render(&store, "bench", &out, &ReportOptions::default())
            .unwrap()
            .unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(r.summary.groups.len(), 100);
    }
    let t = Instant::now();
    let details = store.sweep_details("bench").unwrap();
    let load = t.elapsed().as_secs_f64();
    assert_eq!(details.len(), 1000);
    times.sort_by(f64::total_cmp);
    println!(
        "report of {} runs: median {:.2} s (min {:.2}, max {:.2} over {} renders); of which loading the runs (Store::sweep_details) {:.2} s",
        runs.len(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len(),
        load
    );
}
