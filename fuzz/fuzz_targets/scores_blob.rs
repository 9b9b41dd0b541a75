//! The decoder of the store's score rows (labels, f64 scores and classes BLOBs/text),
//! as a store written by another program might hold them; the first two bytes say
//! where labels end and scores begin.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let n_labels = (*a as usize).min(rest.len());
    let (labels, rest) = rest.split_at(n_labels);
    let n_scores = (*b as usize * 8).min(rest.len());
    let (scores, classes) = rest.split_at(n_scores);
    let classes = String::from_utf8_lossy(classes);
    let _ = anolab::store::decode_scores(anolab::kinds::SplitName::Test, labels, scores, &classes);
});
