//! `breadcrumb eval run` killed with SIGKILL at random moments, then `--resume`d: the finished
//! run must hold exactly the attempts of an uninterrupted run, none twice, with the same
//! deterministic scores, and every attempt's directory must hold one complete transcript.
//!
//! The runner commits each attempt to SQLite when it ends, and a resume redoes whatever the
//! store does not hold (clearing the half-written directory an interrupted attempt left). This
//! test checks that promise on the real binary with a real `kill -9`, the only interruption
//! that runs no cleanup at all. The kill moments are seeded and spread over the uninterrupted
//! run's own duration on this machine, so they land during baseline preparation, inside
//! attempts and between commits whatever the machine's speed.
#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use breadcrumb_agent::transcript::read_transcript;
use breadcrumb_evals::score::AttemptScores;
use breadcrumb_evals::store::Store;
use rand::{Rng, SeedableRng};

/// Kill-and-resume trials.
const TRIALS: u32 = 10;
/// Of those, the ones killed while baselines are planned, before any attempt.
const PLANNING_TRIALS: u32 = 2;
/// The share of the measured attempt phase the other kills are spread over: its tail is the
/// process summarising and exiting, and attempts run faster or slower from run to run.
const ATTEMPT_SPAN: f64 = 0.8;
/// Seed of the kill moments.
const SEED: u64 = 0x6b69_6c6c_2d39;
/// 2 sols x 2 models x 3 repeats.
const PLANNED: usize = 12;

/// (sol, model, prompt, repeat).
type Key = (String, String, String, u32);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temp suite, store and runs directory shared by every run of the test.
struct Bench {
    _dir: tempfile::TempDir,
    suite: PathBuf,
    db: PathBuf,
    runs: PathBuf,
}

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let sols = repo().join("fixtures/sols");
        let suite = dir.path().join("kill.toml");
        let body = format!(
            "name = \"kill\"\n\n[[sol]]\npath = \"{}\"\nexpect = \"accepted\"\n\n\
             [[sol]]\npath = \"{}\"\nexpect = \"rejected\"\n",
            sols.join("plains-02-keepout.toml").display(),
            sols.join("crater-field-02-walled.toml").display()
        );
        std::fs::write(&suite, body).unwrap();
        Bench { db: dir.path().join("evals.db"), runs: dir.path().join("runs"), suite, _dir: dir }
    }

    /// `eval run` with the options every run here shares; `extra` says new run or resume.
    fn command(&self, extra: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_breadcrumb"));
        c.current_dir(repo())
            .args(["eval", "run", "--concurrency", "2"])
            .arg("--db")
            .arg(&self.db)
            .arg("--runs-dir")
            .arg(&self.runs)
            .arg("--models-file")
            .arg(repo().join("models.toml"))
            .arg("--prompts-dir")
            .arg(repo().join("prompts"))
            .args(extra)
            .stdin(Stdio::null());
        c
    }

    /// A new run named `id`, as given to `--run-id`.
    fn new_run(&self, id: &str) -> Command {
        let suite = self.suite.display().to_string();
        // The tile size is the run's: a resume takes it from the store (and refuses the flag).
        let args = [
            "--suite",
            &suite,
            "--models",
            "reference,noisy",
            "--repeats",
            "3",
            "--tile-px",
            "256",
            "--run-id",
            id,
        ];
        self.command(&args)
    }

    fn resume(&self, id: &str) -> Command {
        self.command(&["--resume", id])
    }

    fn store(&self) -> Store {
        Store::open(&self.db).unwrap()
    }
}

fn finished_ok(what: &str, o: &Output) {
    assert!(
        o.status.success(),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The stored attempts of `run`, by key, with what is deterministic: every score but wall time.
/// Asserts no key is stored twice.
fn scores(store: &Store, run: &str) -> BTreeMap<Key, AttemptScores> {
    let mut out = BTreeMap::new();
    for a in store.attempts(run).unwrap() {
        let k = a.key;
        let mut s = a.scores;
        s.wall_s = 0.0;
        let key = (k.sol, k.model, k.prompt, k.repeat);
        assert!(out.insert(key.clone(), s).is_none(), "{run}: attempt {key:?} stored twice");
    }
    out
}

/// Every attempt directory of `run` holds one complete transcript whose end agrees with the
/// store, and the run's directory holds nothing but the stored attempts' directories.
fn check_dirs(store: &Store, runs: &Path, run: &str) {
    let attempts = store.attempts(run).unwrap();
    let stored: BTreeSet<PathBuf> =
        attempts.iter().map(|a| a.transcript.parent().unwrap().to_path_buf()).collect();
    let on_disk: BTreeSet<PathBuf> =
        std::fs::read_dir(runs.join(run)).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(on_disk, stored, "{run}: the run directory holds exactly the stored attempts");
    for a in &attempts {
        let dir = a.transcript.parent().unwrap();
        let names: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| PathBuf::from(e.unwrap().file_name()))
            .collect();
        let with =
            |ext: &str| names.iter().filter(|n| n.extension().is_some_and(|e| e == ext)).count();
        assert_eq!(with("jsonl"), 1, "{}: {names:?}", dir.display());
        // What an interrupted atomic write leaves (`.NAME.tmp`) is gone with its attempt.
        assert_eq!(with("tmp"), 0, "{}: {names:?}", dir.display());
        let (events, torn) = read_transcript(&a.transcript).unwrap();
        assert!(torn.is_none(), "{}: {torn:?}", a.transcript.display());
        let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "run_started").count(), 1, "{kinds:?}");
        assert_eq!(kinds.first(), Some(&"run_started"), "{}", dir.display());
        assert_eq!(kinds.last(), Some(&"run_ended"), "{}", dir.display());
        let status: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("status.json")).unwrap())
                .unwrap();
        assert_ne!(status["status"], "running", "{}", dir.display());
        assert_eq!(status["status"], a.scores.status.as_str(), "{}", dir.display());
    }
}

/// Where a kill landed, judged from what it left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Landed {
    /// Before the run was recorded (the process was starting).
    BeforeRecord,
    /// The run was recorded, no attempt had started: baselines were being planned.
    Preparing,
    /// Attempts were running: this many of them committed.
    MidRun(usize),
    /// Every attempt was committed but the run was not yet marked finished.
    BeforeFinish,
    /// The run had already finished (or the process had exited).
    AfterFinish,
}

fn landed(store: &Store, runs: &Path, id: &str, exited: bool) -> Landed {
    let Some(run) = store.run(id).unwrap() else { return Landed::BeforeRecord };
    if exited || run.finished_at.is_some() {
        return Landed::AfterFinish;
    }
    let committed = store.done(id).unwrap().len();
    if committed == PLANNED {
        return Landed::BeforeFinish;
    }
    let started = std::fs::read_dir(runs.join(id)).map_or(0, Iterator::count);
    if committed == 0 && started == 0 {
        Landed::Preparing
    } else {
        Landed::MidRun(committed)
    }
}

/// Waits until `path` exists (the first attempt of a run made its directory) or `child` exits;
/// returns whether it exists.
fn wait_for(path: &Path, child: &mut Child) -> bool {
    loop {
        if path.exists() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return path.exists();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing() {
    let test_started = Instant::now();
    let bench = Bench::new();

    // The uninterrupted run, timed in its two phases: planning the sols' baselines until the
    // first attempt makes its directory, then the attempts.
    let t = Instant::now();
    let mut child =
        bench.new_run("whole").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    assert!(wait_for(&bench.runs.join("whole"), &mut child), "no attempt started");
    let preparing = t.elapsed();
    let o = child.wait_with_output().unwrap();
    let whole = t.elapsed();
    finished_ok("the uninterrupted run", &o);
    let attempting = whole.saturating_sub(preparing);
    let store = bench.store();
    let expected = scores(&store, "whole");
    assert_eq!(expected.len(), PLANNED);
    assert!(store.run("whole").unwrap().unwrap().finished_at.is_some());
    check_dirs(&store, &bench.runs, "whole");
    // Both outcomes occur, so the comparison is not of identical rows.
    assert!(expected.values().any(|s| s.accepted) && expected.values().any(|s| !s.accepted));
    drop(store);
    eprintln!(
        "uninterrupted run: {:.2} s ({:.2} s planning baselines, {:.2} s of attempts)",
        whole.as_secs_f64(),
        preparing.as_secs_f64(),
        attempting.as_secs_f64()
    );

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED);
    let mut landings = Vec::new();
    for trial in 0..TRIALS {
        let id = format!("trial-{trial}");
        let mut child =
            bench.new_run(&id).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let spawned = Instant::now();
        // The first kills fall anywhere in the planning phase, as measured; the rest are
        // timed from the first attempt's start (planning time varies more from run to run
        // than the attempts do), one in each slice of the attempt phase, at a seeded place
        // within it, so they land inside attempts and between commits.
        let u = rng.gen::<f64>();
        if trial < PLANNING_TRIALS {
            std::thread::sleep(preparing.mul_f64(u));
        } else if wait_for(&bench.runs.join(&id), &mut child) {
            let slice = f64::from(trial - PLANNING_TRIALS) + u;
            let span = attempting.mul_f64(ATTEMPT_SPAN);
            std::thread::sleep(span.mul_f64(slice / f64::from(TRIALS - PLANNING_TRIALS)));
        }
        let exited = child.try_wait().unwrap();
        assert!(exited.is_none_or(|s| s.success()), "{id} failed before the kill: {exited:?}");
        let exited = exited.is_some();
        // SIGKILL on Unix: no destructor, no flush, no signal handler runs.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let killed_after = spawned.elapsed();
        let store = bench.store();
        let landing = landed(&store, &bench.runs, &id, exited);
        eprintln!("{id}: killed after {:.2} s ({status}): {landing:?}", killed_after.as_secs_f64());
        let o = if landing == Landed::BeforeRecord {
            // Nothing to resume: the run was never recorded, so it starts anew under its name.
            bench.new_run(&id).output().unwrap()
        } else {
            bench.resume(&id).output().unwrap()
        };
        finished_ok(&format!("{id} after the kill"), &o);

        let got = scores(&store, &id);
        let keys: Vec<&Key> = got.keys().collect();
        assert_eq!(keys, expected.keys().collect::<Vec<_>>(), "{id}: the attempt keys");
        for (k, s) in &got {
            assert_eq!(s, &expected[k], "{id}: attempt {k:?} scored differently");
        }
        let run = store.run(&id).unwrap().unwrap();
        assert!(run.finished_at.is_some(), "{id}: the run is marked finished");
        check_dirs(&store, &bench.runs, &id);
        landings.push(landing);
    }

    let interrupted = landings
        .iter()
        .filter(|l| matches!(l, Landed::Preparing | Landed::MidRun(_) | Landed::BeforeFinish))
        .count();
    let mid_attempts = landings.iter().filter(|l| matches!(l, Landed::MidRun(_))).count();
    eprintln!(
        "{interrupted} of {TRIALS} kills interrupted the run before it finished \
         ({mid_attempts} while attempts ran); landings {landings:?}; test took {:.1} s",
        test_started.elapsed().as_secs_f64()
    );
    // The kills are spread over the run's own phases, so most must land inside it; fewer would
    // mean the test no longer exercises what it claims to.
    assert!(interrupted * 2 >= TRIALS as usize, "only {interrupted} kills interrupted the run");
    assert!(mid_attempts >= 3, "only {mid_attempts} kills landed while attempts ran");
}
