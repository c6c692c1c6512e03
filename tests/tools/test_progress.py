"""Progress where there is no terminal: one line per step, and workers' progress lines
passed through as they come."""

import io
import os
import sys

from audiofront.tools.progress import PROGRESS, progress, run_worker

SCRIPT = f"""
import sys, time
print("{PROGRESS} case 1/2 STFT", file=sys.stderr, flush=True)
print("an ordinary line")
print("{PROGRESS} case 2/2 PCEN", file=sys.stderr, flush=True)
time.sleep(float(sys.argv[1]))
"""


def test_lines_when_the_stream_is_not_a_terminal():
    log = io.StringIO()
    with progress("bench speech", total=3, stream=log) as bar:
        for name in ("jax", "torch", "tensorflow"):
            bar.step(name)
            bar.advance()
    lines = log.getvalue().splitlines()
    assert [line.split(" (elapsed")[0] for line in lines[:3]] == [
        "[bench speech 1/3] jax",
        "[bench speech 2/3] torch",
        "[bench speech 3/3] tensorflow",
    ]
    assert lines[3].startswith("[bench speech] done: 3 steps in ")


def test_disabled_progress_prints_nothing():
    log = io.StringIO()
    with progress("parity", total=1, enabled=False, stream=log) as bar:
        bar.step("jax")
    assert log.getvalue() == ""


def test_worker_progress_is_passed_on_and_the_rest_kept():
    seen = []
    code, tail = run_worker([sys.executable, "-c", SCRIPT, "0"], dict(os.environ), 60, seen.append)
    assert code == 0
    assert seen == ["case 1/2 STFT", "case 2/2 PCEN"]
    assert tail == "an ordinary line\n"


def test_a_worker_past_its_timeout_is_killed_and_says_so():
    seen = []
    code, tail = run_worker([sys.executable, "-c", SCRIPT, "60"], dict(os.environ), 2, seen.append)
    assert code != 0 and "killed after 2 s" in tail
    assert seen == ["case 1/2 STFT", "case 2/2 PCEN"]
