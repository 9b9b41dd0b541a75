//! Any window length for the conv models: data of a length the stacks do not take (96,
//! 140: UCR's ECG200 and ECG5000) is resampled to the next supported one for them, the
//! lengths are recorded with the run, and a reconstruction figure shows the data's own
//! length. Models of any length (LSTM-AE) see the data as it is.

use crate::common;
use anolab::data::{resample_linear, Windows};
use anolab::nn::stacks::supported_length;
use anolab::runner::run_sweep;
use anolab::store::Store;

#[test]
fn the_next_supported_length_is_chosen() {
    let cases = [
        (96, 160),
        (140, 160),
        (160, 160),
        (320, 320),
        (321, 640),
        (5, 40),
        (40, 40),
        (80, 80),
    ];
    for (length, expected) in cases {
        assert_eq!(supported_length(length), expected, "length {length}");
    }
}

#[test]
fn linear_resampling_keeps_the_ends_and_lines() {
    let ramp: Vec<f32> = (0..96).map(|i| i as f32 / 95.0).collect();
    let up = resample_linear(&ramp, 160);
    assert_eq!(up.len(), 160);
    for (j, v) in up.iter().enumerate() {
        assert!((v - j as f32 / 159.0).abs() < 1e-6, "sample {j}: {v}");
    }
    assert_eq!(resample_linear(&[1.0, 3.0], 3), [1.0, 2.0, 3.0]);
    // Channels are resampled one by one, labels and classes kept.
    let two = Windows {
        data: vec![0.0, 1.0, 10.0, 20.0],
        n: 1,
        channels: 2,
        length: 2,
        labels: vec![true],
        classes: vec!["V".into()],
        image: None,
    };
    let r = two.resampled(3);
    assert_eq!((r.n, r.channels, r.length), (1, 2, 3));
    assert_eq!(r.data, [0.0, 0.5, 1.0, 10.0, 15.0, 20.0]);
    assert_eq!(
        (r.labels.clone(), r.classes.clone()),
        (vec![true], vec!["V".to_string()])
    );
}

/// A UCR-style file of `length`-sample series: class 1 a smooth beat-like bump, class 2
/// the same with a sharp extra spike.
fn ucr_file(dir: &std::path::Path, length: usize) -> std::path::PathBuf {
    let mut text = String::new();
    for i in 0..120 {
        let anomalous = i % 4 == 0;
        let label = if anomalous { 2 } else { 1 };
        let row: Vec<String> = (0..length)
            .map(|t| {
                let x = t as f64 / length as f64;
                let phase = (i % 7) as f64 * 0.01;
                let mut v = (-((x - 0.5 - phase) / 0.05).powi(2)).exp() + 0.1 * (6.0 * x).sin();
                if anomalous && (x - 0.25).abs() < 0.03 {
                    v += 0.8;
                }
                format!("{v:.5}")
            })
            .collect();
        text.push_str(&format!("{label}\t{}\n", row.join("\t")));
    }
    let path = dir.join(format!("series_{length}.tsv"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_conv_model_runs_on_ucr_lengths_96_and_140() {
    let dir = tempfile::tempdir().unwrap();
    for length in [96, 140] {
        let file = ucr_file(dir.path(), length);
        let yaml = format!(
            "
name: lengths_{length}
dataset: {{ name: ucr, path: {}, normal_class: 1 }}
model:
  - {{ name: ae, nz: 4, ndf: 4, ngf: 4 }}
  - {{ name: vae, nz: 4, ndf: 4, ngf: 4 }}
  - {{ name: beatgan, nz: 4, ndf: 4, ngf: 4 }}
  - {{ name: ganomaly, nz: 4, ndf: 4, ngf: 4 }}
  - {{ name: anogan, nz: 4, ndf: 4, ngf: 4, latent_steps: 2 }}
  - {{ name: beatgan_kd, teacher: {{ nz: 4, ndf: 4, ngf: 4 }}, student_ndf: 2, student_ngf: 2 }}
  - {{ name: lstm_ae, nz: 4 }}
train: {{ epochs: 1, batch_size: 16, lr: 1.0e-3 }}
",
            file.display()
        );
        let (spec, runs) = common::sweep(dir.path(), &yaml, &[]);
        let store = Store::open(dir.path().join(format!("s{length}.sqlite"))).unwrap();
        let outcome = run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
        assert!(outcome.failed.is_empty(), "{length}: {:?}", outcome.failed);
        // The student's teacher has the beatgan alternative's settings: the same run.
        assert_eq!(outcome.trained, 7, "{length}");
        let lengths = store
            .query(
                "SELECT p.value_text, \
                        max(CASE WHEN m.name = 'data_length' THEN m.value END), \
                        max(CASE WHEN m.name = 'input_length' THEN m.value END) \
                 FROM runs r JOIN params p ON p.run_id = r.id AND p.name = 'model.name' \
                 JOIN metrics m ON m.run_id = r.id GROUP BY r.id ORDER BY r.id",
            )
            .unwrap();
        for row in &lengths.rows {
            let text: Vec<String> = row.iter().map(|c| format!("{c:?}")).collect();
            let (data, input) = (text[1].clone(), text[2].clone());
            assert_eq!(data, format!("Real({length}.0)"), "{text:?}");
            let expected = if text[0].contains("lstm_ae") {
                length
            } else {
                160
            };
            assert_eq!(input, format!("Real({expected}.0)"), "{text:?}");
        }
    }
}
