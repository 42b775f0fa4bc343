//! `--backend ray` without the Ray side set up: exit 2, naming the command that sets it up, for
//! every subcommand that takes the flag. (The Ray backend itself is tested by pytest in python/
//! on a real local cluster; see docs/distributed.md.)

use std::process::Command;

fn xtask(python: &str, args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.env("CI", "1").env("BENCH_RAY_PYTHON", python).args(args);
    if args[0] == "evaluate" {
        cmd.arg("--output-dir").arg(dir.path());
    }
    let o = cmd.output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn ray_backend_not_set_up_is_exit_2_naming_the_setup_command() {
    let missing = tempfile::tempdir().unwrap().path().join("no-python");
    let missing = missing.to_str().unwrap().to_owned();
    for args in [
        &["backtest", "--grid", "--backend", "ray"][..],
        &["backtest", "--walk-forward", "--backend", "ray", "--symbols", "GOOG"],
        &["evaluate", "--backend", "ray"],
    ] {
        let (code, err) = xtask(&missing, args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains("the Ray backend is not set up"), "{args:?}: {err}");
        assert!(err.contains(&format!("no Python at {missing}")), "{args:?}: {err}");
        assert!(err.contains("run `bash python/setup.sh`"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_python_without_the_ray_side_is_refused_with_what_failed_to_import() {
    // /bin/sh is no Python at all; `sh -c "import ray, …"` fails as an import would.
    let (code, err) = xtask("/bin/sh", &["backtest", "--grid", "--backend", "ray"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("the Ray backend is not set up (/bin/sh:"), "{err}");
    assert!(err.contains("bash python/setup.sh"), "{err}");
}
