"""Backend speed comparison: which backend, implementation and device is fastest?

`run` measures every requested audiofront layer (eager and compiled, forward and, with
``backward=True``, forward+backward with trainable kernels) next to the libraries people
would otherwise use, each where installed: the backend's native FFT chain
(``torch.stft``, ``tf.signal.stft``, ``jnp.fft.rfft`` under ``jax.jit``), Keras's own
``MelSpectrogram`` / ``STFTSpectrogram``, librosa (numpy), nnAudio (torch) and Kapre
(TensorFlow). Each backend runs in its own subprocess; each measurement warms up, then
reports the median and spread over ``repeats`` calls, with the first call of a compiled
function (compile time) reported apart. Results: ``bench.json`` (one record per
measurement), ``bench.md``, ``bench.png`` and a table with each row's time over the
fastest peer's on the same backend, device and pass.

Example:

>>> from audiofront import bench
>>> result = bench.run(layers=["MelSpectrogram"], workload="speech", repeats=3)  # doctest: +SKIP
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["WORKLOADS", "run", "machine_info", "overhead_experiment", "markdown_table", "plot"]

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
BENCH_LAYERS = ("MelSpectrogram", "Spectrogram", "STFT")
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


def _run_worker(spec, timeout):
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
        result = subprocess.run(
            [sys.executable, "-m", "audiofront._bench_worker", str(spec_path), str(out_path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0 or not out_path.exists():
            raise RuntimeError(
                f"{spec['backend']} worker failed (exit {result.returncode}):\n{result.stderr[-3000:]}"
            )
        return json.loads(out_path.read_text())


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
    overhead=False,
    memory=False,
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
        output bytes) and ``x_io`` (their ratio).
    """
    import importlib.util

    base = resolve_workload(workload, batch, seconds, sample_rate, params)
    jobs = []
    for backend in backends:
        if importlib.util.find_spec(backend) is None:
            continue
        for index, layer in enumerate(layers):
            jobs.append(
                dict(
                    base,
                    backend=backend,
                    layer=layer,
                    repeats=repeats,
                    warmup=warmup,
                    backward=backward,
                    compile=compile,
                    peers=peers,
                    device=device,
                    overhead=overhead and index == 0,
                )
            )
            if memory and index == 0:
                for target in ("audiofront", "native"):
                    jobs.append(
                        dict(base, backend=backend, layer=layer, device=device, memory=target)
                    )
    skipped = [b for b in backends if importlib.util.find_spec(b) is None]
    if peers and device == "cpu":
        jobs += [
            dict(
                base,
                backend="numpy",
                layer=layer,
                repeats=repeats,
                warmup=warmup,
                backward=False,
                compile=False,
                peers=True,
                device="cpu",
                overhead=False,
            )
            for layer in layers
        ]
    result = {
        "records": [],
        "notes": [f"{b}: not installed, skipped" for b in skipped],
        "machine": machine_info(),
        "versions": {},
        "settings": {k: v for k, v in base.items()}
        | {"repeats": repeats, "warmup": warmup, "device": device},
    }
    bar = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task("bench", total=len(jobs))
    try:
        for job in jobs:
            if bar:
                bar.update(task, description=f"{job['backend']} {job['layer']}")
            try:
                out_json = _run_worker(job, timeout)
                result["records"] += out_json["records"]
                result["notes"] += out_json["notes"]
                result["versions"].update(out_json["versions"])
            except Exception as error:  # noqa: BLE001 - one backend failing is a note
                result["notes"].append(str(error)[-1500:])
            if bar:
                bar.advance(task)
    finally:
        if bar:
            bar.stop()
    add_ratios(result["records"])
    if out is not None:
        write(result, out)
    return result


def _is_peer(record):
    return not record["implementation"].startswith("audiofront")


def _timings(records):
    return [r for r in records if r["pass"] != "memory"]


def add_ratios(records):
    """Each record's median over the fastest peer's on the same backend, device, layer, pass."""
    records = _timings(records)
    for r in records:
        if r["pass"] == "train_step":
            continue
        same = [
            p["median_ms"]
            for p in records
            if _is_peer(p)
            and p["pass"] == r["pass"]
            and p["layer"] == r["layer"]
            and p["device"] == r["device"]
            and p["workload"] == r["workload"]
            and (p["backend"] == r["backend"] or p["backend"] == "numpy" == r["backend"])
        ]
        r["ratio_to_fastest_peer"] = r["median_ms"] / min(same) if same else None


def overhead_experiment(spec):
    """The Kapre paper's experiment: the Table 1 convnet trained on precomputed dB mel
    spectrograms versus on raw audio with the front-end inside (frozen, then trainable).

    Runs inside a bench worker (one backend). Returns ``train_step`` records; the overhead
    is the ratio of the front-end variants' medians to the precomputed one's.
    """
    import keras
    import numpy as np

    import audiofront

    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal((spec["batch"], spec["samples"]))).astype("float32")
    y = rng.integers(0, 88, spec["batch"])

    def front_end(trainable):
        return audiofront.MelSpectrogram(
            sample_rate=spec["sample_rate"],
            n_fft=spec["n_fft"],
            hop_length=spec["hop_length"],
            n_mels=spec["n_mels"],
            decibel=True,
            trainable_kernel=trainable,
            trainable_filterbank=trainable,
        )

    def convnet(inputs):
        h = keras.layers.Conv2D(64, (20, 3), strides=2, activation="relu")(inputs)
        for _ in range(4):
            h = keras.layers.Conv2D(64, (3, 3), strides=2, activation="relu", padding="same")(h)
        h = keras.layers.GlobalAveragePooling2D()(h)
        return keras.layers.Dense(88, activation="softmax")(h)

    features = keras.ops.convert_to_numpy(front_end(False)(x))
    variants = {"precomputed": (features, None)}
    variants["frontend-frozen"] = (x, False)
    variants["frontend-trainable"] = (x, True)
    jit = spec["backend"] != "torch"
    records = []
    for name, (data, trainable) in variants.items():
        keras.utils.set_random_seed(0)
        inputs = keras.Input(shape=data.shape[1:])
        outputs = convnet(inputs if trainable is None else front_end(trainable)(inputs))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
        from audiofront._bench_worker import _record, _timed

        first, times = _timed(
            lambda m=model, d=data: m.train_on_batch(d, y),
            lambda out: out,
            spec["warmup"],
            spec["repeats"],
        )
        record = _record(
            spec,
            f"kapre-overhead:{name}",
            "compiled" if jit else "eager",
            "train_step",
            first,
            times,
            "gpu" if spec["device"] == "gpu" else "cpu",
        )
        record["layer"] = "MelSpectrogram"
        records.append(record)
    base = records[0]["median_ms"]
    for r in records:
        r["overhead"] = r["median_ms"] / base - 1.0
    return records


# ------------------------------------------------------------------ reports


def _fmt(value, digits=3):
    return "" if value is None else f"{value:.{digits}g}"


def markdown_table(result):
    """The records as a Markdown table, fastest first within each group."""
    machine = result["machine"]
    lines = [
        f"Machine: {machine['cpu']}, {machine['cores']} cores"
        + (f", GPU: {', '.join(machine['gpus'])}" if machine["gpus"] else ", no GPU")
        + f"; {result['settings']['workload']} workload ({result['settings']['batch']} x {result['settings']['seconds']} s at "
        f"{result['settings']['sample_rate']} Hz, n_fft {result['settings']['n_fft']}, hop {result['settings']['hop_length']}"
        + (f", {result['settings']['n_mels']} mels" if "n_mels" in result["settings"] else "")
        + f"); median of {result['settings']['repeats']} after {result['settings']['warmup']} warm-up calls.",
        "",
        "| layer | backend | device | pass | implementation | mode | median ms | IQR ms | compile ms | x fastest peer |",
        "|---|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    rows = sorted(
        _timings(result["records"]),
        key=lambda r: (r["layer"], r["pass"], r["backend"], r["device"], r["median_ms"]),
    )
    for r in rows:
        ratio = r.get("ratio_to_fastest_peer")
        if r["pass"] == "train_step":
            ratio_text = f"overhead {100 * r['overhead']:+.0f}%" if "overhead" in r else ""
        else:
            ratio_text = _fmt(ratio)
        lines.append(
            f"| {r['layer']} | {r['backend']} | {r['device']} | {r['pass']} | {r['implementation']} | {r['mode']} | "
            f"{r['median_ms']:.1f} | {r['iqr_ms']:.1f} | {_fmt(r.get('compile_ms'), 4)} | {ratio_text} |"
        )
    memory = sorted(
        (r for r in result["records"] if r["pass"] == "memory"),
        key=lambda r: (r["backend"], r["implementation"]),
    )
    if memory:
        lines += [
            "",
            "Peak memory of one eager forward call above the process's baseline (resident set,"
            " sampled every 0.2 ms, fresh process each):",
            "",
            "| layer | backend | device | implementation | peak MB | input + output MB | x (input + output) |",
            "|---|---|---|---|---:|---:|---:|",
        ]
        lines += [
            f"| {r['layer']} | {r['backend']} | {r['device']} | {r['implementation']} | "
            f"{r['peak_mb']:.0f} | {r['io_mb']:.0f} | {r['x_io']:.2f} |"
            for r in memory
        ]
    if result["notes"]:
        lines += ["", "Notes:"] + [f"- {n.splitlines()[0] if n else n}" for n in result["notes"]]
    return "\n".join(lines) + "\n"


def render(result, console=None):
    """A terminal table (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=None if sys.stdout.isatty() else 140)
    table = Table(
        title=f"audiofront bench: {result['settings']['workload']} ({result['machine']['cpu']}, {result['machine']['cores']} cores)"
    )
    for column in (
        "layer",
        "backend",
        "dev",
        "pass",
        "implementation",
        "mode",
        "median ms",
        "compile ms",
        "x peer",
    ):
        table.add_column(
            column, justify="right" if column in ("median ms", "compile ms", "x peer") else "left"
        )
    for r in sorted(
        _timings(result["records"]),
        key=lambda r: (r["layer"], r["pass"], r["backend"], r["median_ms"]),
    ):
        if r["pass"] == "train_step":
            ratio = f"{100 * r.get('overhead', 0):+.0f}%"
        else:
            value = r.get("ratio_to_fastest_peer")
            ratio = (
                ""
                if value is None
                else (f"[green]{value:.2f}[/green]" if value <= 1 else f"{value:.2f}")
            )
        table.add_row(
            r["layer"],
            r["backend"],
            r["device"],
            r["pass"],
            r["implementation"],
            r["mode"],
            f"{r['median_ms']:.1f}",
            _fmt(r.get("compile_ms"), 4),
            ratio,
        )
    console.print(table)
    for note in result["notes"]:
        console.print(f"[yellow]note[/yellow] {note.splitlines()[0] if note else note}")


def plot(result, path, title=None):
    """A horizontal bar chart of medians (log scale), one panel per pass."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    passes = [
        p
        for p in ("forward", "backward", "train_step")
        if any(r["pass"] == p for r in result["records"])
    ]
    if not passes:
        return None
    heights = [sum(r["pass"] == p for r in result["records"]) for p in passes]
    fig, axes = plt.subplots(
        len(passes),
        1,
        figsize=(10, 1.2 + 0.28 * sum(heights) + 0.6 * len(passes)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    colours = {"jax": "#1f77b4", "torch": "#d62728", "tensorflow": "#ff7f0e", "numpy": "#7f7f7f"}
    for ax, p in zip(axes[:, 0], passes):
        rows = sorted(
            (r for r in result["records"] if r["pass"] == p), key=lambda r: -r["median_ms"]
        )
        labels = [
            f"{r['backend']} {r['implementation']} ({r['mode']}, {r['device']})" for r in rows
        ]
        ax.barh(
            range(len(rows)),
            [r["median_ms"] for r in rows],
            xerr=[
                [r["median_ms"] - r["min_ms"] for r in rows],
                [r["max_ms"] - r["median_ms"] for r in rows],
            ],
            color=[colours.get(r["backend"], "#333333") for r in rows],
            hatch=None,
            edgecolor=[
                "black" if r["implementation"].startswith("audiofront") else "none" for r in rows
            ],
        )
        ax.set_yticks(range(len(rows)), labels, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("median time per batch (ms, log scale; black edge = audiofront)")
        ax.set_title(f"{p}", fontsize=10)
        ax.grid(axis="x", which="both", alpha=0.3)
    s = result["settings"]
    if title is None:
        title = (
            f"{s['workload']} workload: {s['batch']} x {s['seconds']} s at {s['sample_rate']} Hz"
        )
    fig.suptitle(
        f"{title}; {result['machine']['cpu']}, {result['machine']['cores']} cores", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(result, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=2))
    (out / "bench.md").write_text(markdown_table(result))
    plot(result, out / "bench.png")
