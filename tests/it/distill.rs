//! Knowledge distillation: the KD and AT terms against hand computation, and the teacher
//! dependency (trained once for many students, its failure failing them).

use crate::common;

use anolab::nn::loss::{attention_transfer, kd_kl};
use anolab::runner::run_sweep;
use anolab::store::{Cell, Store};
use candle_core::{Device, Tensor};

fn t3(values: &[f64], shape: (usize, usize, usize)) -> Tensor {
    Tensor::from_vec(values.to_vec(), shape, &Device::Cpu).unwrap()
}

fn scalar(t: Tensor) -> f64 {
    t.to_scalar::<f64>().unwrap()
}

fn softmax(v: &[f64]) -> Vec<f64> {
    let e: Vec<f64> = v.iter().map(|x| x.exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|x| x / sum).collect()
}

#[test]
fn kd_is_zero_for_equal_codes_and_matches_hand_computation() {
    let s = t3(&[1.0, 2.0, 3.0, 0.5, -1.0, 0.0], (2, 3, 1));
    assert!(scalar(kd_kl(&s, &s, 4.0).unwrap()).abs() < 1e-12);

    // Batch of 2, nz 3, one position, T = 2.
    let student = [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]];
    let teacher = [[3.0, 2.0, 1.0], [0.0, 0.0, 2.0]];
    let temperature = 2.0;
    let mut want = 0.0;
    for (s, t) in student.iter().zip(&teacher) {
        let p = softmax(&t.map(|x| x / temperature));
        let q = softmax(&s.map(|x| x / temperature));
        want += p
            .iter()
            .zip(&q)
            .map(|(p, q)| p * (p.ln() - q.ln()))
            .sum::<f64>();
    }
    want = want / 2.0 * temperature * temperature;
    let got = scalar(
        kd_kl(
            &t3(&student.concat(), (2, 3, 1)),
            &t3(&teacher.concat(), (2, 3, 1)),
            temperature,
        )
        .unwrap(),
    );
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

#[test]
fn attention_transfer_is_zero_for_identical_maps_and_handles_channel_counts() {
    let a = t3(&[1.0, -2.0, 0.5, 3.0, 0.0, 1.0, 2.0, -1.0], (1, 2, 4));
    assert!(
        scalar(attention_transfer(std::slice::from_ref(&a), std::slice::from_ref(&a)).unwrap())
            .abs()
            < 1e-12
    );
    // 3 channels whose mean of squares per position equals `a`'s: the same attention.
    let msq: Vec<f64> = (0..4)
        .map(|l| {
            let a: Vec<f64> = a.flatten_all().unwrap().to_vec1().unwrap();
            (a[l] * a[l] + a[4 + l] * a[4 + l]) / 2.0
        })
        .collect();
    let b: Vec<f64> = (0..3).flat_map(|_| msq.iter().map(|m| m.sqrt())).collect();
    let b = t3(&b, (1, 3, 4));
    assert!(scalar(attention_transfer(std::slice::from_ref(&a), &[b]).unwrap()).abs() < 1e-12);

    // By hand: one map each, 1 channel, L = 2: a(s) = (1,0), a(t) = (3,4)²/‖·‖ = (9,16)/√337.
    let s = t3(&[1.0, 0.0], (1, 1, 2));
    let t = t3(&[3.0, 4.0], (1, 1, 2));
    let n = 337f64.sqrt();
    let want = ((1.0 - 9.0 / n).powi(2) + (16.0 / n).powi(2)) / 2.0;
    let got = scalar(attention_transfer(&[s.clone(), s.clone()], &[t.clone(), s]).unwrap());
    assert!(
        (got - want).abs() < 1e-12,
        "sums over layers: {got} vs {want}"
    );
    assert!(attention_transfer(&[a], &[]).is_err());
}

const KD: &str = "
name: kd
dataset: { name: mitdb, path: DATA, records: ['208'], max_train: 128 }
model:
  name: beatgan_kd
  teacher: { nz: 4, ndf: 8, ngf: 8 }
  student_ndf: 4
  student_ngf: 4
  alpha: [0.0, 0.9]
  beta: [0.0, 100.0]
train: { epochs: 1, batch_size: 32, lr: 1.0e-3 }
seeds: [0]
";

#[test]
fn the_teacher_is_trained_once_for_all_students() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(dir.path(), KD, &[]);
    assert_eq!(runs.len(), 4);
    let teacher_key = runs[0].dependencies[0].1.key.clone();
    assert!(runs.iter().all(|r| r.dependencies.len() == 1
        && r.dependencies[0].0 == "teacher"
        && r.dependencies[0].1.key == teacher_key));
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome = run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert_eq!(outcome.trained, 5, "one teacher + four students");
    assert_eq!(
        common::count(&store, "SELECT count(*) FROM runs WHERE model = 'beatgan'"),
        1
    );
    assert_eq!(
        common::count(
            &store,
            &format!(
                "SELECT count(*) FROM runs r JOIN run_dependencies d ON d.run_id = r.id
                 WHERE d.role = 'teacher' AND d.key = '{teacher_key}' AND r.status = 'done'"
            )
        ),
        4
    );
    // The teacher's epoch rows exist once; students log the KD and AT terms.
    assert_eq!(common::count(&store, "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.model = 'beatgan'"), 6);
    assert_eq!(
        common::count(
            &store,
            "SELECT count(*) FROM epochs WHERE name IN ('err_g_kd', 'err_g_at')"
        ),
        8
    );
    for metric in [
        "auc_retention",
        "compression_ratio",
        "teacher_ms_per_window",
        "student_ms_per_window",
    ] {
        assert_eq!(
            common::count(
                &store,
                &format!("SELECT count(*) FROM metrics WHERE name = '{metric}' AND value > 0")
            ),
            4,
            "{metric}"
        );
    }
    // Widths 8 → 4 on the generator: parameters shrink by about 4.
    let r = store
        .query("SELECT min(value), max(value) FROM metrics WHERE name = 'compression_ratio'")
        .unwrap();
    let (Cell::Real(lo), Cell::Real(hi)) = (&r.rows[0][0], &r.rows[0][1]) else {
        panic!()
    };
    assert!(*lo > 2.5 && hi == lo, "{lo} {hi}");
    // auc_retention is the student's AUC over the teacher's.
    let r = store
        .query(&format!(
            "SELECT m.value, s.value, (SELECT value FROM metrics t JOIN runs tr ON tr.id = t.run_id
                                       WHERE tr.key = '{teacher_key}' AND t.name = 'auc_roc' AND t.split = 'test')
             FROM metrics m JOIN metrics s ON s.run_id = m.run_id AND s.name = 'auc_roc' AND s.split = 'test'
             WHERE m.name = 'auc_retention' LIMIT 1"
        ))
        .unwrap();
    let [Cell::Real(ret), Cell::Real(student), Cell::Real(teacher)] = &r.rows[0][..] else {
        panic!()
    };
    assert!((ret - student / teacher).abs() < 1e-12);

    // The report draws the α × β heatmap and AUC against compression (teacher at 1),
    // leaving the teacher out of the heatmap.
    let out = dir.path().join("report");
    let opts = anolab::report::ReportOptions {
        runs: Vec::new(),
        skip_overlays: true,
        ..Default::default()
    };
    let report = anolab::report::render(&store, "kd", &out, &opts)
        .unwrap()
        .unwrap();
    let stems: Vec<String> = report
        .figures
        .iter()
        .flat_map(|f| f.files.iter())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "heatmap_auc_roc_alpha_beta.png",
        "auc_roc_vs_compression.png",
        "auc_roc_vs_compression.svg",
    ] {
        assert!(
            stems.iter().any(|s| s == want),
            "{want} not in {stems:?}; notes {:?}",
            report.notes
        );
        assert!(
            std::fs::metadata(out.join(want)).unwrap().len() > 10_000,
            "{want} is drawn"
        );
    }

    // Each distilled setting against the student trained alone (α = β = 0), seed by seed.
    let md = std::fs::read_to_string(&report.markdown).unwrap();
    let section = &md[md
        .find("## Against the control setting")
        .unwrap_or_else(|| panic!("no control section: {md}"))..];
    let rows: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| beatgan_kd"))
        .collect();
    assert_eq!(rows.len(), 3, "three distilled settings: {section}");
    let auc = |alpha: f64, beta: f64| -> f64 {
        let r = store
            .query(&format!(
                "SELECT m.value FROM metrics m
                 JOIN params a ON a.run_id = m.run_id AND a.name = 'model.alpha' AND a.value_num = {alpha}
                 JOIN params b ON b.run_id = m.run_id AND b.name = 'model.beta' AND b.value_num = {beta}
                 WHERE m.name = 'auc_roc' AND m.split = 'test'"
            ))
            .unwrap();
        let Cell::Real(v) = r.rows[0][0] else {
            panic!()
        };
        v
    };
    let row = rows
        .iter()
        .find(|l| l.starts_with("| beatgan_kd alpha=0.9, beta=0.0 |"))
        .expect("α 0.9, β 0");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert_eq!((cells[2], cells[3]), ("alpha=0, beta=0", "1"), "{row}");
    let want = auc(0.9, 0.0) - auc(0.0, 0.0);
    assert_eq!(cells[4], format!("{want:+.4}"), "{row}");
    assert_eq!(cells[9], "no difference shown", "one seed: {row}");

    // More students of the same teacher in a second sweep: the teacher is not retrained.
    let (spec2, runs2) = common::sweep(
        dir.path(),
        &KD.replace("name: kd", "name: kd2"),
        &["model.alpha=0.5"],
    );
    let again = run_sweep(&store, &spec2, &runs2, &common::options(dir.path())).unwrap();
    assert_eq!((again.trained, again.already_done), (2, 1));
    assert_eq!(
        common::count(&store, "SELECT count(*) FROM runs WHERE model = 'beatgan'"),
        1
    );
}

#[test]
fn a_failed_teacher_fails_its_students_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (spec, runs) = common::sweep(dir.path(), KD, &["train.lr=1e30", "model.beta=0"]);
    let store = Store::open(dir.path().join("anolab.sqlite")).unwrap();
    let outcome = run_sweep(&store, &spec, &runs, &common::options(dir.path())).unwrap();
    assert_eq!(outcome.trained, 0);
    assert_eq!(outcome.failed.len(), 3, "{:?}", outcome.failed);
    let students: Vec<_> = outcome
        .failed
        .iter()
        .filter(|f| f.1.starts_with("alpha"))
        .collect();
    assert_eq!(students.len(), 2);
    for (_, label, error) in students {
        assert!(
            error.contains("teacher") && error.contains("diverged"),
            "{label}: {error}"
        );
    }
    assert_eq!(
        common::count(
            &store,
            "SELECT count(*) FROM epochs e JOIN run_dependencies d ON d.run_id = e.run_id"
        ),
        0,
        "no student trained"
    );
}
