"""The test matrix: the same pytest suite once per Keras backend, plus cross-backend and lint.

nox                         everything below (what CI runs)
nox -s "tests(jax)"         one backend; add `-- -m "not slow"` for the quick subset
nox -s "tests(torch)" -- -m full    the long runs that the default leaves out
nox -s crossbackend         all three backends in one environment: save/load and parity
nox -s lint                 ruff
nox -s gpu                  on a GPU machine's own interpreter (not in the default run)
"""

import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests", "crossbackend"]
nox.options.error_on_missing_interpreters = True

# Backend name (KERAS_BACKEND) -> the package extra that installs it.
BACKENDS = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow-cpu"}
CONSTRAINTS = ("-c", "constraints.txt")


@nox.session
@nox.parametrize("backend", list(BACKENDS), ids=list(BACKENDS))
def tests(session, backend):
    """Run the pytest suite with KERAS_BACKEND=<backend>."""
    session.install(*CONSTRAINTS, "-e", f".[test,{BACKENDS[backend]}]")
    args = session.posargs if "-m" in session.posargs else ["-m", "not full", *session.posargs]
    session.run("pytest", *args, env={"KERAS_BACKEND": backend})


@nox.session
def crossbackend(session):
    """Models saved under each backend load under each other with the same numbers."""
    session.install(*CONSTRAINTS, "-e", f".[test,{','.join(BACKENDS.values())}]")
    session.run("pytest", "--cross-backend", *session.posargs, env={"KERAS_BACKEND": "jax"})


@nox.session
def compare(session):
    """The main job: parity of every layer across the three backends, then the speed
    comparison (speech workload, a few minutes; `nox -s compare -- --full` adds the
    paper-scale kapre workload and the experiments); writes reports/compare.{md,json,png}."""
    session.install(*CONSTRAINTS, "-e", f".[test,bench,{','.join(BACKENDS.values())}]")
    session.run("audiofront", "compare", "--out", "reports", *session.posargs)


@nox.session
def peers(session):
    """Kapre in its own environment (it pins keras<3.14 and tensorflow<=2.20): its timings
    go to reports/peers-<workload>/ and `compare` merges them."""
    session.install(
        "-e", ".[tools]", "kapre==0.4.1", "keras<3.14", "tensorflow-cpu<=2.20", "librosa"
    )
    for workload in ("kapre", "speech"):
        session.run(
            "audiofront",
            "bench",
            "--backends",
            "tensorflow",
            "--workload",
            workload,
            "--no-compile",
            "--out",
            f"reports/peers-{workload}",
            *session.posargs,
        )


@nox.session(venv_backend="none")
def gpu(session):
    """On a machine whose interpreter already has CUDA builds of jax and torch (and keras,
    audiofront installed): no virtualenv, no network. The suite under jax and torch on the
    GPU (AUDIOFRONT_DEVICE=gpu; TF32 off in the fixtures and the bench worker), then
    `audiofront bench --device gpu` on both workloads, forward and backward, with the
    Kapre-overhead experiment; everything under reports/gpu/ (tests-<backend>.txt holds
    pytest's output with its closing line)."""
    out = Path("reports/gpu")
    out.mkdir(parents=True, exist_ok=True)
    for backend in ("jax", "torch"):
        with open(out / f"tests-{backend}.txt", "w") as log:
            session.run(
                "python", "-m", "pytest", "-m", "not full", "-p", "no:cacheprovider",
                *session.posargs,
                env={"KERAS_BACKEND": backend, "AUDIOFRONT_DEVICE": "gpu"},
                stdout=log, stderr=subprocess.STDOUT, success_codes=[0, 1],
            )  # fmt: skip
    failed = [
        b for b in ("jax", "torch") if "failed" in (out / f"tests-{b}.txt").read_text()[-2000:]
    ]
    for workload in ("kapre", "speech"):
        session.run(
            "python", "-m", "audiofront", "bench", "--device", "gpu", "--backends", "jax,torch",
            "--workload", workload, "--backward", "--experiment", "kapre-overhead",
            "--out", str(out / f"bench-{workload}"),
        )  # fmt: skip
    if failed:
        session.error(f"tests failed on the GPU under {', '.join(failed)}: see reports/gpu/")


@nox.session
def lint(session):
    """ruff: style, imports, and no keras.src (see pyproject.toml)."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
