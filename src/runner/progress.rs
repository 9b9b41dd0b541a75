//! What a sweep says while it runs, on stderr: progress bars on a terminal; a plain line
//! per run and per epoch where there is none (nohup, CI, a cluster's log file); one JSON
//! object per event for tools (`--log-format json`); or only failures (`--quiet`). It
//! shows what the runner reports and decides nothing.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::time::Instant;

/// How progress is written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Bars when stderr is a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// Progress bars.
    Bars,
    /// A line per run and per epoch: losses, validation metric, elapsed time, ETA.
    Plain,
    /// One JSON object per event and line (`event`: run_start, epoch, run_done,
    /// run_failed, note).
    Json,
    /// Failures only.
    Quiet,
}

impl LogFormat {
    /// `Auto` decided for this process's stderr.
    fn resolved(self) -> LogFormat {
        match self {
            LogFormat::Auto if std::io::stderr().is_terminal() => LogFormat::Bars,
            LogFormat::Auto => LogFormat::Plain,
            other => other,
        }
    }

    /// Writes one event to stderr: `text` (plain, bars), the object `event` (json),
    /// nothing for `quiet` unless the event is a failure.
    pub fn emit(self, text: &str, event: Value) {
        if let Some(line) = self.resolved().line(text, &event) {
            eprintln!("{line}");
        }
    }

    fn line(self, text: &str, event: &Value) -> Option<String> {
        match self {
            LogFormat::Json => Some(event.to_string()),
            LogFormat::Quiet if event["event"] != "run_failed" => None,
            _ => Some(text.to_string()),
        }
    }
}

/// A sweep's progress: the overall count and one [`RunProgress`] per run being trained.
pub struct Progress {
    format: LogFormat,
    multi: MultiProgress,
    overall: ProgressBar,
    total: usize,
}

impl Progress {
    /// Progress over `total` runs to train.
    pub fn new(format: LogFormat, total: usize) -> Progress {
        let format = format.resolved();
        let multi = MultiProgress::new();
        if format != LogFormat::Bars {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        overall.set_prefix("sweep");
        Progress {
            format,
            multi,
            overall,
            total,
        }
    }

    /// [`LogFormat::emit`] above the bars when they are drawn.
    fn emit(&self, text: &str, event: Value) {
        if let Some(line) = self.format.line(text, &event) {
            self.multi.suspend(|| eprintln!("{line}"));
        }
    }

    /// A run starts: its key and label.
    pub fn run(&self, key: &str, label: &str) -> RunProgress<'_> {
        let bar = self.multi.add(ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(key[..8.min(key.len())].to_string());
        bar.set_message(label.to_string());
        let n = self.overall.position() as usize + 1;
        self.emit(
            &format!("start   [{n}/{}] {key} {label}", self.total),
            json!({"event": "run_start", "key": key, "label": label, "n": n, "of": self.total}),
        );
        RunProgress {
            progress: self,
            bar,
            key: key.to_string(),
            label: label.to_string(),
            start: Instant::now(),
        }
    }

    /// A run is through (trained, failed or taken by another process).
    pub fn run_ended(&self) {
        self.overall.inc(1);
    }

    /// Every run is through.
    pub fn finish(&self) {
        self.overall.finish_and_clear();
    }

    /// Run `key` failed with `error` after `seconds`.
    pub fn run_failed(&self, key: &str, label: &str, error: &str, seconds: f64) {
        self.emit(
            &format!("FAILED  {label}: {error}"),
            json!({"event": "run_failed", "key": key, "label": label,
                   "error": error, "seconds": seconds}),
        );
    }

    /// A message about the sweep, not one run.
    pub fn note(&self, message: &str) {
        self.emit(
            &format!("note    {message}"),
            json!({"event": "note", "message": message}),
        );
    }
}

/// One run's progress: batches on its bar, a line per epoch, its end.
pub struct RunProgress<'a> {
    progress: &'a Progress,
    bar: ProgressBar,
    key: String,
    label: String,
    start: Instant,
}

impl RunProgress<'_> {
    /// The run trains `batches` mini-batches in all.
    pub fn set_batches(&self, batches: usize) {
        self.bar.set_length(batches as u64);
    }

    /// One mini-batch is done.
    pub fn batch(&self) {
        self.bar.inc(1);
    }

    /// Epoch `epoch` (0-based) of `epochs` is done with these losses and validation values.
    pub fn epoch(&self, epoch: usize, epochs: usize, values: &[(String, f64)]) {
        let elapsed = self.start.elapsed().as_secs_f64();
        let eta = elapsed / (epoch + 1) as f64 * (epochs - epoch - 1) as f64;
        let shown: Vec<String> = values.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
        let val_auc = values.iter().find(|(k, _)| k == "val_auc_roc");
        self.bar.set_message(format!(
            "{} | epoch {}/{epochs}{}",
            self.label,
            epoch + 1,
            val_auc
                .map(|(_, a)| format!(" val_auc {a:.3}"))
                .unwrap_or_default()
        ));
        let object: serde_json::Map<String, Value> =
            values.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        self.progress.emit(
            &format!(
                "epoch   {} {}/{epochs} {} | {} elapsed, ETA {}",
                &self.key[..8.min(self.key.len())],
                epoch + 1,
                shown.join(" "),
                duration(elapsed),
                duration(eta)
            ),
            json!({"event": "epoch", "key": self.key, "label": self.label, "epoch": epoch,
                   "epochs": epochs, "values": object, "elapsed_s": elapsed, "eta_s": eta}),
        );
    }

    /// Something the run does that the user should know (a resampling).
    pub fn note(&self, message: &str) {
        self.progress.emit(
            &format!("note    {}: {message}", &self.key[..8.min(self.key.len())]),
            json!({"event": "note", "key": self.key, "message": message}),
        );
    }

    /// The run is done, with its test AUC-ROC.
    pub fn done(self, auc: f64) {
        let seconds = self.start.elapsed().as_secs_f64();
        self.close();
        self.progress.emit(
            &format!("done    {}: test AUC {auc:.4} ({seconds:.1} s)", self.label),
            json!({"event": "run_done", "key": self.key, "label": self.label,
                   "auc_roc": auc, "seconds": seconds}),
        );
    }

    /// Seconds since the run started.
    pub fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn close(&self) {
        self.bar.finish_and_clear();
    }
}

/// `75.0` → `1m15s`; `3725.0` → `1h02m`.
/// `42s`, `3m05s`, `2h10m`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}
