"""The test matrix: the same pytest suite once per Keras backend, plus cross-backend and lint.

nox                         everything below (what CI runs)
nox -s "tests(jax)"         one backend; add `-- -m "not slow"` for the quick subset
nox -s "tests(torch)" -- -m full    the long runs that the default leaves out
nox -s crossbackend         all three backends in one environment: save/load and parity
nox -s lint                 ruff
nox -t gpu                  on a GPU machine's own interpreter: gpu_tests(jax|torch), gpu_bench
"""

import os
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests", "crossbackend"]
nox.options.error_on_missing_interpreters = True

# Backend name (KERAS_BACKEND) -> the package extra that installs it.
BACKENDS = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow-cpu"}
CONSTRAINTS = ("-c", "constraints.txt")
# speechbrain pins torchaudio (which pins another torch): installed without its dependencies.
SPEECHBRAIN = ("speechbrain==1.1.2", "hyperpyyaml==1.2.3", "ruamel.yaml==0.19.1")
# The export converters and runtimes per backend (tests/test_export.py; the README's matrix):
# the formats Keras's model.export offers there. tf_saved_model from JAX goes through jax2tf.
ONNX = ("onnx==1.23.2", "onnxruntime==1.32.0")
EXPORT = {
    "jax": (*ONNX, "jax2onnx==0.17.1", "tensorflow-cpu==2.21.0"),
    "torch": (*ONNX, "onnxscript==0.7.2", "litert-torch==0.10.0"),
    "tensorflow": (*ONNX, "tf2onnx==1.17.0", "ai-edge-litert==2.3.0"),
}


@nox.session
@nox.parametrize("backend", list(BACKENDS), ids=list(BACKENDS))
def tests(session, backend):
    """Run the pytest suite with KERAS_BACKEND=<backend>."""
    session.install(*CONSTRAINTS, "-e", f".[test,{BACKENDS[backend]}]", *EXPORT[backend])
    if backend == "torch":  # references: nnAudio (CQT), speechbrain (SincConv, LEAF)
        session.install(*CONSTRAINTS, "nnAudio==0.3.4", "tqdm", "pyyaml")
        session.install("--no-deps", *SPEECHBRAIN)
    args = session.posargs if "-m" in session.posargs else ["-m", "not full", *session.posargs]
    session.run("pytest", *workers(args), *args, env={"KERAS_BACKEND": backend})


def workers(args):
    """pytest-xdist's options for the per-backend sessions: AUDIOFRONT_TEST_WORKERS workers,
    2 by default (this project's CI machine has 2 cores; two took tests(jax) from 17.6 to
    12.1 min); none when the arguments already say ``-n``."""
    if "-n" in args or any(a.startswith("--numprocesses") for a in args):
        return []
    return ["-n", os.environ.get("AUDIOFRONT_TEST_WORKERS", "2")]


@nox.session
def crossbackend(session):
    """Models saved under each backend load under each other with the same numbers."""
    session.install(*CONSTRAINTS, "-e", f".[test,{','.join(BACKENDS.values())}]")
    # One process: its tests are subprocess runs that keep both cores busy (two workers took
    # 12.4 min against about 11 alone).
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


GPU_BACKENDS = ("jax", "torch")  # the device image has no TensorFlow GPU build
GPU_REPORTS = Path("reports/gpu")


@nox.session(venv_backend="none", tags=["gpu"])
@nox.parametrize("backend", list(GPU_BACKENDS), ids=list(GPU_BACKENDS))
def gpu_tests(session, backend):
    """The suite on the GPU, on an interpreter that already has CUDA builds of the backend,
    keras and the test extra (no virtualenv, no network): AUDIOFRONT_DEVICE=gpu, TF32 off in
    the fixtures. pytest's output, closing line included, goes to
    reports/gpu/tests-<backend>.txt. `nox -t gpu` runs both backends and the bench."""
    GPU_REPORTS.mkdir(parents=True, exist_ok=True)
    log_path = GPU_REPORTS / f"tests-{backend}.txt"
    with open(log_path, "w") as log:
        session.run(
            # pytest-benchmark (in such images) warns under xdist, and warnings are errors.
            "python", "-m", "pytest", "-m", "not full", "-p", "no:cacheprovider",
            "-p", "no:benchmark", *session.posargs,
            env={"KERAS_BACKEND": backend, "AUDIOFRONT_DEVICE": "gpu"},
            stdout=log, stderr=subprocess.STDOUT, success_codes=[0, 1],
        )  # fmt: skip
    closing = log_path.read_text().rstrip().splitlines()[-1:]
    session.log(f"{backend} on the GPU: {' '.join(closing)}")
    if not closing or "failed" in closing[0] or "error" in closing[0]:
        session.error(f"tests failed on the GPU under {backend}: see {log_path}")


@nox.session(venv_backend="none", tags=["gpu"])
def gpu_bench(session):
    """`audiofront bench --device gpu` on both workloads under jax and torch: forward and
    forward+backward, each STFT path as its own row (what the dispatch table reads; auto is one of them), the
    native chains, Keras and nnAudio, and the Kapre-paper overhead experiment (on its own
    workload); the device's measured float32 ceilings give each timing's fraction of the
    roofline. Into reports/gpu/bench-<workload>/; CQT and LEAF (next to nnAudio, and to
    MelSpectrogram on the same batch: LEAF's 10x budget) into reports/gpu/bench-front-ends/."""
    runs = (
        ("kapre", ["--experiment", "kapre-overhead"], "bench-kapre"),
        ("speech", [], "bench-speech"),
        ("speech", ["--layers", "CQT,LEAF"], "bench-front-ends"),
    )
    for workload, extra, out in runs:
        session.run(
            "python", "-m", "audiofront", "bench", "--device", "gpu",
            "--backends", ",".join(GPU_BACKENDS), "--workload", workload,
            "--implementations", "conv,fft", "--backward", *extra,
            "--repeats", "20", "--warmup", "5",
            "--out", str(GPU_REPORTS / out), *session.posargs,
        )  # fmt: skip


@nox.session
def lint(session):
    """ruff: style, imports, and no keras.src (see pyproject.toml)."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
