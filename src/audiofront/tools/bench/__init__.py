"""Backend speed comparison: which backend, implementation and device is fastest?

`run` measures every requested audiofront layer (eager and compiled, forward and, with
``backward=True``, forward+backward with trainable kernels) next to the libraries people
would otherwise use, each where installed: the backend's native FFT chain
(``torch.stft``, ``tf.signal.stft``, ``jnp.fft.rfft`` under ``jax.jit``), Keras's own
``MelSpectrogram`` / ``STFTSpectrogram``, librosa (numpy), nnAudio (torch) and Kapre
(TensorFlow). Each backend runs in its own subprocess (`worker`); each measurement warms up,
then reports the median and spread over ``repeats`` calls (`timing`), with the first call of a
compiled function (compile time) reported apart. Results (`report`): ``bench.json`` (one
record per measurement), ``bench.md``, ``bench.png`` and a table with each row's time over
the fastest peer's on the same backend, device and pass.

The package: `timing` (how a call is timed), `peers` (what is timed), `experiments` (the
Kapre-paper overhead experiment), `memory` (peak memory of a call), `worker` (one backend's
process), `roofline` (the work of a pass and the device's ceilings), `report` (tables and
plots).

Example:

>>> from audiofront.tools import bench
>>> result = bench.run(layers=["MelSpectrogram"], workload="speech", repeats=3)  # doctest: +SKIP
"""

import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from audiofront.tools.bench import report
from audiofront.tools.progress import progress as progress_bar
from audiofront.tools.progress import run_worker

__all__ = [
    "WORKLOADS",
    "BENCH_LAYERS",
    "FRONT_ENDS",
    "BACKENDS",
    "IMPLEMENTATIONS",
    "run",
    "machine_info",
    "resolve_workload",
]

WORKLOADS = {
    # The Kapre paper's benchmark: 16 x 30 s mono at 32 kHz, n_fft 512, hop 256, 128 mels, dB.
    "kapre": dict(
        batch=16,
        seconds=30.0,
        sample_rate=32000,
        n_fft=512,
        hop_length=256,
        n_mels=128,
        decibel=True,
    ),
    # Keyword spotting sized: 32 x 1 s at 16 kHz, 10 ms hop, 64 mels, dB.
    "speech": dict(
        batch=32, seconds=1.0, sample_rate=16000, n_fft=512, hop_length=160, n_mels=64, decibel=True
    ),
}
# The last two have no FFT chain: they are timed against peers of their own (`peers`).
FRONT_ENDS = ("CQT", "LEAF")
BENCH_LAYERS = ("MelSpectrogram", "MFCC", "Spectrogram", "STFT", *FRONT_ENDS)
BACKENDS = ("jax", "torch", "tensorflow")


def machine_info():
    """CPU model and cores, GPUs, OS: what the timings were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpus = []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        gpus = [g.strip() for g in out.stdout.splitlines() if g.strip()]
    except (OSError, subprocess.SubprocessError):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": cores,
        "gpus": gpus,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def resolve_workload(workload="speech", batch=None, seconds=None, sample_rate=None, params=None):
    """The workload's settings with any overrides (``custom`` starts from ``speech``)."""
    if workload not in (*WORKLOADS, "custom"):
        raise ValueError(
            f"`workload` must be one of {(*WORKLOADS, 'custom')}. Received: workload={workload!r}"
        )
    spec = dict(WORKLOADS["speech" if workload == "custom" else workload])
    for key, value in (("batch", batch), ("seconds", seconds), ("sample_rate", sample_rate)):
        if value is not None:
            spec[key] = value
    params = dict(params or {})
    for key in ("n_fft", "hop_length", "n_mels", "decibel"):
        if key in params:
            spec[key] = params.pop(key)
    spec["params"] = params
    spec["samples"] = int(round(spec["seconds"] * spec["sample_rate"]))
    spec["workload"] = workload
    return spec


def _run_worker(spec, timeout, on_progress):
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec))
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        if spec["backend"] != "numpy":
            env["KERAS_BACKEND"] = spec["backend"]
        if spec["device"] == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
            env["JAX_PLATFORMS"] = "cpu"
        args = [
            sys.executable,
            "-m",
            "audiofront.tools.bench.worker",
            str(spec_path),
            str(out_path),
        ]
        returncode, tail = run_worker(args, env, timeout, on_progress)
        if returncode != 0 or not out_path.exists():
            raise RuntimeError(
                f"{spec['backend']} worker failed (exit {returncode}):\n{tail[-3000:]}"
            )
        return json.loads(out_path.read_text())


IMPLEMENTATIONS = ("auto", "conv", "fft", "blocked")


def _check_implementations(implementations):
    unknown = [i for i in implementations if i not in IMPLEMENTATIONS]
    if unknown or not implementations:
        raise ValueError(
            f"`implementations` must be a non-empty list of {IMPLEMENTATIONS}. "
            f"Received: implementations={list(implementations)!r}"
        )


def _jobs(base, layers, backends, timing, peers, device, overhead, memory, streaming=False):
    """One worker spec per (backend, layer), the memory probes (the first FFT-chain layer),
    and librosa (numpy; it has no LEAF)."""
    jobs = []
    probed = next((layer for layer in layers if layer not in FRONT_ENDS), None)
    for backend in backends:
        for index, layer in enumerate(layers):
            common = dict(base, backend=backend, layer=layer, device=device)
            first = index == 0  # the experiments run once per backend
            jobs.append(dict(common, **timing, peers=peers, overhead=overhead and first,
                             streaming=streaming and first))  # fmt: skip
            if memory and layer == probed:  # each STFT path timed, and the native chain
                paths = timing.get("implementations", ["auto"])
                jobs += [dict(common, memory="audiofront", path=path) for path in paths]
                jobs.append(dict(common, memory="native"))
    if peers and device == "cpu":
        numpy_timing = dict(timing, backward=False, compile=False)
        jobs += [
            dict(base, backend="numpy", layer=layer, device="cpu", peers=True, overhead=False,
                 **numpy_timing)
            for layer in layers
            if layer != "LEAF"
        ]  # fmt: skip
    return jobs


def run(
    layers=("MelSpectrogram",),
    backends=BACKENDS,
    workload="speech",
    batch=None,
    seconds=None,
    sample_rate=None,
    params=None,
    repeats=5,
    warmup=2,
    backward=False,
    compile=True,
    peers=True,
    device="cpu",
    implementations=("auto",),
    overhead=False,
    memory=False,
    streaming=False,
    out=None,
    progress=False,
    timeout=3600,
):
    """Measures, writes ``bench.json``, ``bench.md`` and ``bench.png`` under ``out``.

    Returns:
        ``{"records": [...], "notes": [...], "machine": {...}, "versions": {...},
        "settings": {...}}``; each record has ``backend``, ``device``, ``implementation``,
        ``layer``, ``mode`` (eager / compiled), ``pass`` (forward / backward /
        train_step), ``workload`` and ``median_ms`` (plus spread and compile time).
        With ``memory=True``, also ``pass="memory"`` records: ``peak_mb`` (peak resident
        memory of one eager forward call above the process's baseline, for audiofront
        and the backend's native chain, each in a fresh process), ``io_mb`` (input plus
        output bytes) and ``x_io`` (their ratio). With ``streaming=True``, also
        ``pass="stream_chunk"`` records (`experiments.streaming_experiment`): one hop of
        one example through a stateful mel spectrogram and PCEN, with ``real_time``.
        ``implementations`` lists the STFT paths timed for the frozen forward pass:
        ``"auto"`` (the layer's default, the row ``audiofront:<layer>``) and any of
        ``"conv"``, ``"fft"`` (rows ``audiofront:<layer>[conv]`` ...). On a GPU, each
        worker measures the device's float32 ceilings (``machine["ceilings"]``) and the
        forward and backward records get ``roofline``: the floor time over the median
        (`roofline`).
    """
    base = resolve_workload(workload, batch, seconds, sample_rate, params)
    installed = [b for b in backends if importlib.util.find_spec(b) is not None]
    _check_implementations(implementations)
    timing = dict(repeats=repeats, warmup=warmup, backward=backward, compile=compile,
                  implementations=list(implementations))  # fmt: skip
    jobs = _jobs(base, layers, installed, timing, peers, device, overhead, memory, streaming)
    result = {
        "records": [],
        "notes": [f"{b}: not installed, skipped" for b in backends if b not in installed],
        "machine": machine_info(),
        "versions": {},
        "settings": dict(base, repeats=repeats, warmup=warmup, device=device),
    }
    with progress_bar(f"bench {workload}", len(jobs), progress) as bar:
        for job in jobs:
            what = f"{job['backend']} {job['layer']}" + (
                f" memory ({job['memory']})" if job.get("memory") else ""
            )
            bar.step(what)
            try:
                out_json = _run_worker(job, timeout, lambda m, what=what: bar.step(f"{what}: {m}"))
                result["records"] += out_json["records"]
                result["notes"] += out_json["notes"]
                result["versions"].update(out_json["versions"])
                if out_json.get("ceilings"):
                    ceilings = result["machine"].setdefault("ceilings", {})
                    ceilings[job["backend"]] = out_json["ceilings"]
            except Exception as error:  # noqa: BLE001 - one backend failing is a note
                result["notes"].append(str(error)[-1500:])
            bar.advance()
    report.add_ratios(result["records"])
    report.add_roofline(result)
    if out is not None:
        report.write(result, out)
    return result
