//! Replays per second of the 12-phase clean run, on one core.
//!
//! `cargo bench --bench replay` prints, for the clean 2.0.77 sample and the
//! largest clean fixture:
//! - `run`: the runtime alone (scheduler, backend, divergence checks);
//! - `replay`: what `orchlint replay` does per session once the transcript
//!   is read: runtime, rebuilding the session, the checks' verdicts, the
//!   verdict comparison and the canonical trace text;
//! - `read+replay`: the same plus reading, parsing and checking the
//!   transcript, as `orchlint replay` does (the recording's verdicts are
//!   the check's).
//!
//! Each figure is the best of 5 rounds of at least 1 s. Single-threaded:
//! no rayon in the measured path.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use orchlint::checks::Selection;
use orchlint::engine::{self, Options};
use orchlint::replay::backend::{Match, Recorded};
use orchlint::replay::trace::Trace;
use orchlint::replay::{self, Answers, Order, Plan};
use orchlint::workflow::Workflows;

fn per_second(mut f: impl FnMut()) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..5 {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(1) {
            for _ in 0..64 {
                f();
            }
            n += 64;
        }
        best = best.max(n as f64 / start.elapsed().as_secs_f64());
    }
    best
}

fn bench(path: &Path, wf: &Workflows) {
    let job_paths = [path.to_path_buf()];
    let (_, checked) = engine::check_collect(&job_paths, wf, &Options::default()).expect("the sample is there");
    let c = checked.into_iter().find(|c| !c.skipped && c.session.has_conversation()).expect("a session");
    let trace = Trace::of(&c.session, &c.runs);
    let verdicts = replay::verdicts(&c.session, &trace, wf, &Selection::default(), false);
    let opts = replay::Options {
        plan: Plan { order: Order::Random, seed: 7, matching: Match::Exact },
        answers: Answers::Own,
        faults: Vec::new(),
        selection: Selection::default(),
        force_workflow: false,
    };
    let cassette = replay::own_cassette(&trace);
    let run = per_second(|| {
        let mut backend = Recorded::new(cassette.clone(), Match::Exact, "the recording");
        black_box(replay::run(black_box(&trace), &mut backend, &opts.plan));
    });
    let full = per_second(|| {
        black_box(replay::replay(c.session.file.clone(), None, black_box(&trace), &verdicts, 0, wf, &opts));
    });
    let read = per_second(|| {
        let (_, checked) = engine::check_collect(&job_paths, wf, &Options::default()).unwrap();
        let c = checked.iter().find(|c| !c.skipped && c.session.has_conversation()).unwrap();
        black_box(replay::replay_checked(c, wf, &opts));
    });
    println!(
        "{}: {} steps, {} launches\n  run          {:>9.0} replays/s\n  replay       {:>9.0} replays/s\n  read+replay  {:>9.0} replays/s",
        path.display(),
        trace.steps.len(),
        trace.launches().count(),
        run,
        full,
        read
    );
    let session = trace.to_session(&c.session.file);
    let parts = [
        ("  to_session", per_second(|| drop(black_box(trace.to_session(&c.session.file))))),
        (
            "  verdicts",
            per_second(|| drop(black_box(replay::verdicts(&session, &trace, wf, &Selection::default(), false)))),
        ),
        ("  to_jsonl", per_second(|| drop(black_box(trace.to_jsonl())))),
        ("  own_cassette", per_second(|| drop(black_box(replay::own_cassette(&trace))))),
    ];
    for (name, n) in parts {
        println!("{name:<14} {n:>9.0}/s");
    }
}

fn main() {
    let _ = rayon::ThreadPoolBuilder::new().num_threads(1).build_global();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let wf = Workflows::builtin();
    bench(&repo.join("fixtures/samples/2.0.77-clean"), &wf);
    bench(&repo.join("fixtures/transcripts/phase-order/valid-v2.1-clean.jsonl"), &wf);
}
