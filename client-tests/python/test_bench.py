"""bench/run, the benchmark harness (README "Benchmarks"): only that it answers
--help and refuses an unknown argument, without building or measuring anything.
The harness itself is a measurement, never run by the suite."""
import subprocess
import sys

from conftest import REPO_ROOT

RUN = REPO_ROOT / "bench" / "run"


def test_bench_run_help_lists_both_modes():
    out = subprocess.run([str(RUN), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "bench/run [--quick] [--no-build] [--out FILE]" in out.stdout
    assert "bench/run soak [--quick] [--no-build]" in out.stdout
    assert out.stderr == ""


def test_bench_run_refuses_an_unknown_argument_before_building():
    out = subprocess.run([str(RUN), "--fast"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert out.stderr == "bench/run: unknown argument --fast (see bench/run --help)\n"
    assert out.stdout == ""


def test_bench_driver_parses_its_arguments():
    out = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "bench.py"), "--help"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "{run,soak}" in out.stdout and "--quick" in out.stdout
