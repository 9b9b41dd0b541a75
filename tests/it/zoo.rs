//! Every zoo detector on tiny shapes of the synthetic ECG-like data (length 80):
//! a few epochs reduce its training loss and give finite scores; briefly trained, its
//! scores rank the planted anomalies above the normals (the LSTM-AE on smooth sinusoids:
//! see `lstm_ae_ranks_anomalies_on_sinusoids`); save/load through safetensors
//! round-trips to identical scores; same seed, same scores; the parameter count is
//! recorded. GANomaly on images (its 2-D stacks) is tested the same way on the shipped
//! 8×8 digits. TadGAN's training needs second-order gradients, so every test sets
//! `CANDLE_GRAD_DO_NOT_DETACH` before its first backward pass.

use crate::common::build;
use anolab::data::synthetic::{generate, SyntheticConfig};
use anolab::data::Split;
use anolab::metrics::auc_roc;
use anolab::models::anogan::AnoganConfig;
use anolab::models::autoencoder::{AeConfig, VaeConfig};
use anolab::models::ganomaly::GanomalyConfig;
use anolab::models::lstm_ae::LstmAeConfig;
use anolab::models::tadgan::TadganConfig;
use anolab::models::{Detector, InputShape};
use anolab::models::{ModelConfig, TrainConfig};
use anolab::nn::gp::DO_NOT_DETACH_ENV;
use anolab::rng::SplitMix64;
use std::sync::Once;

const LENGTH: usize = 80; // 10·2³, accepted by the conv stacks

pub(crate) fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var(DO_NOT_DETACH_ENV, "1"));
}

fn data(n_train: usize) -> Split {
    generate(&SyntheticConfig {
        n_train,
        n_val: 20,
        n_test: 200,
        anomaly_rate: 0.5,
        length: LENGTH,
        seed: 9,
    })
}

/// Tiny versions of each model (small widths and latent sizes).
fn config(name: &str) -> ModelConfig {
    match name {
        "ae" => ModelConfig::Ae(AeConfig {
            nz: 8,
            ndf: 8,
            ngf: 8,
        }),
        "vae" => ModelConfig::Vae(VaeConfig {
            nz: 8,
            ndf: 8,
            ngf: 8,
            beta_kl: 0.01,
        }),
        "lstm_ae" => ModelConfig::LstmAe(LstmAeConfig { nz: 32 }),
        "ganomaly" => ModelConfig::Ganomaly(GanomalyConfig {
            nz: 8,
            ndf: 8,
            ngf: 8,
            ..GanomalyConfig::default()
        }),
        "anogan" => ModelConfig::Anogan(AnoganConfig {
            nz: 8,
            ndf: 8,
            ngf: 8,
            latent_steps: 30,
            latent_lr: 5e-2,
            ..AnoganConfig::default()
        }),
        "tadgan" => ModelConfig::Tadgan(TadganConfig {
            nz: 8,
            enc_hidden: 8,
            gen_hidden: 8,
            critic_channels: 8,
            critic_z_hidden: 8,
            n_critic: 2,
            ..TadganConfig::default()
        }),
        other => panic!("no tiny config for {other}"),
    }
}

fn model(name: &str, seed: u64) -> Box<dyn Detector> {
    setup();
    let train = TrainConfig {
        batch_size: 16,
        // The LSTM autoencoder's repeated-code decoder learns slowly; a larger step lets
        // a few short epochs show it working.
        lr: if name == "lstm_ae" { 5e-3 } else { 2e-3 },
        ..TrainConfig::default()
    };
    let shape = InputShape::signal(1, LENGTH);
    build(&config(name), &train, shape, seed).unwrap()
}

/// Trains `epochs` epochs; returns the loss term `watch` of the first and last epoch.
fn train(m: &mut dyn Detector, split: &Split, epochs: usize, watch: &str) -> (f64, f64) {
    let mut rng = SplitMix64::new(1);
    let mut values = Vec::new();
    for _ in 0..epochs {
        let losses = m.fit_epoch(&split.train, &mut rng, &mut || Ok(())).unwrap();
        let v = losses
            .iter()
            .find(|(n, _)| *n == watch)
            .unwrap_or_else(|| panic!("no loss `{watch}` in {losses:?}"))
            .1;
        values.push(v);
    }
    (values[0], *values.last().unwrap())
}

fn test_auc(m: &dyn Detector, split: &Split) -> f64 {
    let scores = m.score(&split.test).unwrap();
    assert_eq!(scores.len(), split.test.n);
    assert!(scores.iter().all(|s| s.is_finite()), "{scores:?}");
    auc_roc(&split.test.labels, &scores).unwrap()
}

/// The watched term falls by `factor` within `epochs` short epochs; scores are finite.
fn loss_falls(name: &str, watch: &str, epochs: usize, factor: f64) {
    let split = data(64);
    let mut m = model(name, 0);
    let (first, last) = train(m.as_mut(), &split, epochs, watch);
    assert!(
        last < factor * first,
        "{name}: {watch} {first} -> {last} (want < {factor}×)"
    );
    test_auc(m.as_ref(), &split);
}

/// Trained for `epochs` on 128 normal windows, the mean test AUC over three seeds (60
/// normal, 60 planted anomalies: spikes, flattened segments, premature beats) is above
/// `bound`. One seed is not enough: GAN training is chaotic, and a change of summation
/// order in a kernel moved one seed's GANomaly AUC from 0.75 to 0.65.
fn ranks_anomalies(name: &str, epochs: usize, bound: f64) {
    let split = data(128);
    let aucs: Vec<f64> = (0..3)
        .map(|seed| {
            let mut m = model(name, seed);
            train(m.as_mut(), &split, epochs, m_first_loss(name));
            test_auc(m.as_ref(), &split)
        })
        .collect();
    let mean = aucs.iter().sum::<f64>() / aucs.len() as f64;
    println!("{name}: synthetic test AUC {aucs:.3?} after {epochs} epochs, mean {mean:.3}");
    assert!(mean > bound, "{name}: mean AUC {mean} ≤ {bound} ({aucs:?})");
}

fn m_first_loss(name: &str) -> &'static str {
    match name {
        "ae" | "lstm_ae" => "err_rec",
        "vae" => "loss",
        "ganomaly" | "anogan" => "err_d",
        "tadgan" => "err_eg_rec",
        _ => unreachable!(),
    }
}

/// One epoch, save, load into a differently seeded model: identical scores; the same
/// seed trained the same way gives the same scores; snapshot/restore brings them back.
fn round_trips(name: &str) {
    round_trips_on(name, &data(32), &|seed| model(name, seed));
}

fn round_trips_on(name: &str, split: &Split, model: &dyn Fn(u64) -> Box<dyn Detector>) {
    let mut a = model(7);
    let mut b = model(7);
    a.fit_epoch(&split.train, &mut SplitMix64::new(1), &mut || Ok(()))
        .unwrap();
    b.fit_epoch(&split.train, &mut SplitMix64::new(1), &mut || Ok(()))
        .unwrap();
    let test = split.test.select(&(0..16).collect::<Vec<_>>());
    let sa = a.score(&test).unwrap();
    assert_eq!(
        sa,
        b.score(&test).unwrap(),
        "{name}: same seed, same scores"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    a.save(&path).unwrap();
    let mut c = model(99);
    assert_ne!(c.score(&test).unwrap(), sa);
    c.load(&path).unwrap();
    assert_eq!(
        c.score(&test).unwrap(),
        sa,
        "{name}: loaded model scores the same"
    );

    let snap = a.snapshot().unwrap();
    a.fit_epoch(&split.train, &mut SplitMix64::new(2), &mut || Ok(()))
        .unwrap();
    assert_ne!(a.score(&test).unwrap(), sa);
    a.restore(&snap).unwrap();
    assert_eq!(a.score(&test).unwrap(), sa, "{name}: restored snapshot");
    assert!(a.n_params() > 0);
}

// Loss tests: 6 epochs × 4 batches of 16. The reconstruction terms start near the
// data's variance and halve quickly; GAN discriminator losses fall from ≈ 1.39 (chance)
// as D learns; TadGAN's reconstruction term is the one its E/G loss mostly minimises.
#[test]
fn ae_training_reduces_loss() {
    loss_falls("ae", "err_rec", 6, 0.5);
}
#[test]
fn vae_training_reduces_loss() {
    loss_falls("vae", "err_rec", 6, 0.7);
}
#[test]
fn lstm_ae_training_reduces_loss() {
    loss_falls("lstm_ae", "err_rec", 6, 0.7);
}
#[test]
fn ganomaly_training_reduces_loss() {
    loss_falls("ganomaly", "err_g_con", 6, 0.7);
}
#[test]
fn anogan_training_reduces_discriminator_loss() {
    loss_falls("anogan", "err_d", 6, 0.9);
}
#[test]
fn tadgan_training_reduces_reconstruction_loss() {
    loss_falls("tadgan", "err_eg_rec", 6, 0.9);
}

// Ranking tests. Chance is 0.5; with 100 + 100 test windows the AUC of random scores
// has a standard deviation of ≈ 0.041 (≈ 0.024 for a mean of three independent ones).
// The bound on the three-seed mean is 0.7 (≈ 5σ of one AUC above chance) where the model
// clears it comfortably, and lower where short GAN training leaves it weak: GANomaly
// 0.65 (its means: 0.726 through candle's 2-D conv kernels, 0.690 through ours; the
// scores of a trained model agree to 2e-7 between the two, the training trajectories
// drift apart), AnoGAN 0.55 (30-step latent search, far short of the paper's 500;
// means 0.609 and 0.582). Training is seeded, so a pass is not luck of the draw either.
#[test]
fn ae_ranks_synthetic_anomalies() {
    ranks_anomalies("ae", 15, 0.7);
}
#[test]
fn vae_ranks_synthetic_anomalies() {
    ranks_anomalies("vae", 15, 0.7);
}
// The LSTM-AE is tested on smooth periodic windows instead (`lstm_ae_ranks_anomalies_on_
// sinusoids` below). On the synthetic ECG windows it does not get past the mean template
// at any budget a test can afford: its err_rec stays at 0.184–0.189 from epoch 10 to
// epoch 60 (480 steps) while the MSE of the training windows' mean template is 0.186,
// and its test AUC (0.56–0.65) is about the template MSE's 0.570 (at epoch 15: spike
// 0.75, flat 0.43, premature 0.50; the template: 0.77, 0.43, 0.50).
// Those windows start at a random phase and hold three beats whose R peaks are one
// sample wide; to do better, the code must carry the phase and the decoder, fed the same
// code at every step, must place one-sample peaks from it, which this architecture
// learns very slowly. Against the template a spike adds error, a flat segment removes
// the varying part (hence AUC < 0.5) and a premature beat moves a peak the template
// never had.
#[test]
fn ganomaly_ranks_synthetic_anomalies() {
    ranks_anomalies("ganomaly", 15, 0.65);
}
#[test]
fn anogan_ranks_synthetic_anomalies() {
    ranks_anomalies("anogan", 15, 0.55);
}
#[test]
#[ignore = "slow (~95 s on 2 cores); passes with mean AUC 0.81: cargo test --release --test zoo -- --ignored tadgan"]
fn tadgan_ranks_synthetic_anomalies() {
    ranks_anomalies("tadgan", 15, 0.7);
}

#[test]
fn ae_save_load_round_trips() {
    round_trips("ae");
}
#[test]
fn vae_save_load_round_trips() {
    round_trips("vae");
}
#[test]
fn lstm_ae_save_load_round_trips() {
    round_trips("lstm_ae");
}
#[test]
fn ganomaly_save_load_round_trips() {
    round_trips("ganomaly");
}
#[test]
fn anogan_save_load_round_trips() {
    round_trips("anogan");
}
#[test]
fn tadgan_save_load_round_trips() {
    round_trips("tadgan");
}

// GANomaly on images: the shipped 8×8 digits (`data/digits`), whose windows say they are
// 8×8 images, so GANomaly builds its 2-D stacks.

const DIGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits/digits.csv");

/// Leave-one-class-out digits: `abnormal` is the anomaly (split seed 0, 10 % validation).
fn digits(abnormal: u8) -> Split {
    anolab::data::digits::load(std::path::Path::new(DIGITS), abnormal, 0, 0.1).unwrap()
}

/// A small image GANomaly (nz 16, widths 16) for `shape`.
fn image_ganomaly(shape: InputShape, seed: u64) -> anyhow::Result<Box<dyn Detector>> {
    let cfg = ModelConfig::Ganomaly(GanomalyConfig {
        nz: 16,
        ndf: 16,
        ngf: 16,
        ..GanomalyConfig::default()
    });
    let train = TrainConfig {
        batch_size: 32,
        lr: 2e-3,
        ..TrainConfig::default()
    };
    build(&cfg, &train, shape, seed)
}

#[test]
fn ganomaly_uses_2d_stacks_on_images() {
    let split = digits(0);
    let shape = InputShape::of(&split.train);
    assert_eq!(shape.image, Some((8, 8)));
    let m = image_ganomaly(shape, 0).unwrap();
    // Every conv kernel is 4×4 (rank 4); the only rank-1 variables are the decoder's
    // batch norm (no BN in the encoders at 8×8: one stride-2 layer, then the final conv).
    let vars = m.vars().data().lock().unwrap();
    for (name, var) in vars.iter() {
        let rank = var.dims().len();
        assert!(
            (rank == 4 && name.ends_with("weight") && var.dims()[2..] == [4, 4])
                || (rank == 1 && name.starts_with("g.dec.bn0")),
            "{name}: {:?}",
            var.dims()
        );
    }
    drop(vars);
    // Parameters by hand (nz 16, ndf = ngf = 16, 1 channel): each encoder
    // 1·16·16 + 16·16·16 = 4352 (D: 16·1·16 in place of 16·16·16: 512), decoder
    // 16·16·16 + 2·16 + 16·1·16 = 4384; 2·4352 + 4384 + 512 = 13600.
    assert_eq!(m.n_params(), 13600);

    // Windows of 64 samples that are not images: the 1-D stacks refuse the length.
    let e = image_ganomaly(InputShape::signal(1, 64), 0).err().unwrap();
    assert!(e.to_string().contains("10·2^n"), "{e}");
    // An image side the 2-D stacks cannot halve down to 4: refused, naming the rule.
    let e = image_ganomaly(
        InputShape {
            channels: 1,
            length: 36,
            image: Some((6, 6)),
        },
        0,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("6×6"), "{e}");
}

#[test]
fn ganomaly_2d_training_reduces_loss() {
    setup();
    let mut split = digits(0);
    split.train = split.train.select(&(0..128).collect::<Vec<_>>());
    let mut m = image_ganomaly(InputShape::of(&split.train), 0).unwrap();
    let (first, last) = train(m.as_mut(), &split, 6, "err_g_con");
    assert!(last < 0.7 * first, "err_g_con {first} -> {last}");
    test_auc(m.as_ref(), &split);
    let rec = m.reconstruct(&split.test).unwrap().unwrap();
    assert_eq!(
        (rec.n, rec.length, rec.image),
        (split.test.n, 64, Some((8, 8)))
    );
}

#[test]
fn ganomaly_2d_save_load_round_trips() {
    setup();
    let mut split = digits(3);
    split.train = split.train.select(&(0..64).collect::<Vec<_>>());
    let shape = InputShape::of(&split.train);
    round_trips_on("ganomaly (2-D)", &split, &|seed| {
        image_ganomaly(shape, seed).unwrap()
    });
}

/// Digit 0 as the anomaly among the other nine (GANomaly's leave-one-class-out protocol):
/// 1,165 training images, 8 epochs of the small image GANomaly, the epoch kept as the
/// clean protocol keeps it (lowest mean score of the normal validation images; the
/// last-epoch AUC swings between 0.80 and 0.95 from epoch 3 on, as latent-score GANs
/// do). Test holds 324 normal images and 178 zeros; the AUC of random scores has a
/// standard deviation of √((n₀ + n₁ + 1) / (12·n₀·n₁)) ≈ 0.027 there, so the bound 0.8
/// is 11σ above chance. Zeros are among the digits the `ganomaly_digits` sweep finds
/// easiest (0.95 ± 0.02); classes such as 1 or 8 sit far lower (README), so a bound this
/// high is only justified for this class.
#[test]
fn ganomaly_2d_ranks_an_unseen_digit() {
    setup();
    let split = digits(0);
    assert_eq!((split.test.n, split.train.n), (502, 1165));
    let mut m = image_ganomaly(InputShape::of(&split.train), 0).unwrap();
    let mut rng = SplitMix64::new(1);
    let mut best: Option<(f64, usize, anolab::models::Snapshot)> = None;
    for epoch in 0..8 {
        m.fit_epoch(&split.train, &mut rng, &mut || Ok(())).unwrap();
        let val = m.score(&split.val).unwrap();
        let val_loss = val.iter().sum::<f64>() / val.len() as f64;
        if best.as_ref().is_none_or(|(b, _, _)| val_loss < *b) {
            best = Some((val_loss, epoch, m.snapshot().unwrap()));
        }
    }
    let (_, epoch, snapshot) = best.unwrap();
    m.restore(&snapshot).unwrap();
    let auc = test_auc(m.as_ref(), &split);
    println!("ganomaly (2-D): digit 0 vs the rest, test AUC {auc:.3} (epoch {epoch} kept)");
    assert!(auc > 0.8, "AUC {auc} ≤ 0.8");
}

/// Windows of one period of a sinusoid, random phase and amplitude 0.6–0.9, plus 0.01
/// noise; `anomalous` windows get 6 consecutive samples raised by 0.8 (clipped to 1) at
/// a random place.
fn sinusoids(n: usize, n_anomalous: usize, seed: u64) -> anolab::data::Windows {
    let mut rng = SplitMix64::new(seed);
    let mut w = anolab::data::Windows::empty(1, LENGTH);
    for i in 0..n {
        let phase = rng.next_f64() * std::f64::consts::TAU;
        let amp = 0.6 + 0.3 * rng.next_f64();
        let mut x: Vec<f64> = (0..LENGTH)
            .map(|t| {
                amp * (t as f64 * std::f64::consts::TAU / LENGTH as f64 + phase).sin()
                    + 0.01 * rng.normal()
            })
            .collect();
        let anomalous = i < n_anomalous;
        if anomalous {
            let at = (rng.next_f64() * (LENGTH - 6) as f64) as usize;
            for v in &mut x[at..at + 6] {
                *v = (*v + 0.8).min(1.0);
            }
        }
        w.data.extend(x.iter().map(|&v| v as f32));
        w.labels.push(anomalous);
        w.classes
            .push(if anomalous { "bump" } else { "N" }.to_string());
    }
    w.n = n;
    w
}

/// The LSTM-AE learns what these windows need (phase and amplitude in its code, a smooth
/// wave from its decoder): in 20 epochs its err_rec falls far below the 0.28 the mean
/// template (≈ 0) leaves, and its scores rank the bumped windows. Test: 100 normal and
/// 100 bumped windows; the AUC of random scores has a standard deviation of ≈ 0.041, so
/// 0.8 is ≈ 7σ above chance. The window's own power (what a model that learnt only the
/// mean gets as its score) is printed and must rank them worse than the model does: the
/// bump is small next to the spread of the amplitudes.
#[test]
fn lstm_ae_ranks_anomalies_on_sinusoids() {
    let split = Split {
        train: sinusoids(128, 0, 1),
        val: sinusoids(20, 0, 2),
        test: sinusoids(200, 100, 3),
        timeline: None,
    };
    let mut m = model("lstm_ae", 0);
    let (first, last) = train(m.as_mut(), &split, 20, "err_rec");
    let auc = test_auc(m.as_ref(), &split);
    let power: Vec<f64> = (0..split.test.n)
        .map(|i| {
            let x = split.test.window(i);
            x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64
        })
        .collect();
    let baseline = auc_roc(&split.test.labels, &power).unwrap();
    println!("lstm_ae on sinusoids: err_rec {first:.4} -> {last:.4}, test AUC {auc:.3} (own power: {baseline:.3})");
    assert!(
        last < 0.1,
        "err_rec {first} -> {last}: not learning the waves"
    );
    assert!(
        auc > 0.8 && auc > baseline + 0.1,
        "AUC {auc} (own power {baseline})"
    );
}

/// The template baseline: its one variable saves and loads like any detector's weights,
/// and more epochs recompute the same template.
#[test]
fn template_save_load_round_trips() {
    let split = data(32);
    let cfg = ModelConfig::Template(anolab::models::template::TemplateConfig::default());
    let train = TrainConfig::default();
    let shape = InputShape::of(&split.train);
    let mut a = build(&cfg, &train, shape, 0).unwrap();
    let untrained = a.score(&split.test).unwrap();
    a.fit_epoch(&split.train, &mut SplitMix64::new(1), &mut || Ok(()))
        .unwrap();
    let trained = a.score(&split.test).unwrap();
    assert_ne!(untrained, trained);
    a.fit_epoch(&split.train, &mut SplitMix64::new(2), &mut || Ok(()))
        .unwrap();
    assert_eq!(
        a.score(&split.test).unwrap(),
        trained,
        "a second epoch changes nothing"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("template.safetensors");
    a.save(&path).unwrap();
    let mut b = build(&cfg, &train, shape, 5).unwrap();
    b.load(&path).unwrap();
    assert_eq!(b.score(&split.test).unwrap(), trained);
    assert_eq!(a.n_params(), 80);
    assert!(auc_roc(&split.test.labels, &trained).unwrap() > 0.5);
}
