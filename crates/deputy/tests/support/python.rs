//! Python client libraries from PyPI for interoperability tests: one virtual
//! environment per pinned package and target dir. A machine without PyPI
//! fails the test that needs it; it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The interpreter of a virtual environment named `name` with `package`
/// (`name==version`) installed, made once per target dir. A marker written
/// after a successful install tells a finished venv from one an interrupted
/// run left behind.
pub fn venv_with(name: &str, package: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = venv.join("bin/python");
    let marker = venv.join(format!(".installed-{package}"));
    if marker.exists() {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).output();
    match made {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("python3 -m venv failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("this test needs python3 (3.9 or later) with the venv module: {e}"),
    }
    let pip = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--timeout", "30", "--retries", "2"])
        .arg(package)
        .output()
        .expect("run pip");
    assert!(
        pip.status.success(),
        "could not install {package} from PyPI, which this test needs (is PyPI reachable?):\n{}{}",
        String::from_utf8_lossy(&pip.stdout),
        String::from_utf8_lossy(&pip.stderr)
    );
    std::fs::write(&marker, "").expect("write the venv marker");
    python
}
