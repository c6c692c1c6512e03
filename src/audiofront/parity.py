"""Cross-backend parity: does a front-end give the same numbers on JAX, PyTorch and TensorFlow?

Each backend runs in its own subprocess (Keras fixes its backend per process). A layer
given by name and parameters is built and saved once, in the first available backend,
so every backend loads the same weights; a saved ``.keras`` model is loaded as it is.
Every pair of backends is compared on the outputs and, with ``grad=True``, on the
gradients of ``sum(output * probe)`` (a fixed random probe) with respect to the input
and every trainable weight, against the contract's bounds:

- outputs: ``max|a - b| <= 1e-5 * max|a|``; dB outputs within 0.001 dB;
- gradients: ``max|a - b| <= 1e-4 * max|a|``;
- against librosa (``reference="librosa"``): ``1e-4 * max|ref|``; dB within 0.01 dB above
  the ``top_db`` floor.

Example:

>>> from audiofront import parity
>>> report = parity.compare_layer(                    # doctest: +SKIP
...     "MelSpectrogram", {"n_fft": 512, "n_mels": 40, "decibel": True}, grad=True)
>>> report.ok                                          # doctest: +SKIP
True
"""

import importlib.util
import itertools
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from audiofront import datasets, filters

__all__ = [
    "BACKENDS",
    "LAYERS",
    "Comparison",
    "Report",
    "available_backends",
    "make_input",
    "layer_input",
    "compare",
    "compare_layer",
    "compare_model",
    "model_input_shape",
]

BACKENDS = ("jax", "torch", "tensorflow")
WAVEFORM_LAYERS = ("STFT", "Spectrogram", "MelSpectrogram", "AdditiveNoise")
SPECTRAL_LAYERS = ("Filterbank", "Decibel", "Normalization2D", "SpecAugment")
LAYERS = WAVEFORM_LAYERS + SPECTRAL_LAYERS

OUTPUT_RTOL = 1e-5
OUTPUT_DB = 1e-3
GRAD_RTOL = 1e-4
REFERENCE_RTOL = 1e-4
REFERENCE_DB = 1e-2


# ------------------------------------------------------------------ inputs


def available_backends(backends=BACKENDS):
    """The requested backends that are importable here, and those that are not."""
    found = [b for b in backends if importlib.util.find_spec(b) is not None]
    return found, [b for b in backends if b not in found]


def _resample(y, sr_in, sr_out):
    if sr_in == sr_out:
        return y
    from scipy.signal import resample_poly

    g = np.gcd(int(sr_in), int(sr_out))
    return resample_poly(y, int(sr_out) // g, int(sr_in) // g, axis=0).astype(np.float32)


def _load_any_wav(path):
    try:
        return datasets.load_wav(path)
    except Exception:  # float WAV and other formats, when soundfile is installed
        import soundfile

        y, sr = soundfile.read(str(path), dtype="float32", always_2d=False)
        return y, sr


def make_input(source="fsdd", batch=2, seconds=1.0, sample_rate=None, seed=0):
    """A float32 waveform batch and its sample rate.

    Args:
        source: ``"fsdd"`` (real 8 kHz speech, the default when the dataset is found),
            ``"chirp"`` (a sweep from 50 Hz to near Nyquist), ``"noise"`` (white noise), or
            a path to a WAV file of any sample rate and channel count (cut into ``batch``
            consecutive segments).
        batch: number of examples.
        seconds: length of each example.
        sample_rate: sample rate in Hz; FSDD and WAV files are resampled to it when
            given (needs scipy), chirp and noise default to 16 kHz.

    Returns:
        ``(x, sample_rate)`` with ``x`` of shape ``(batch, samples)`` for mono or
        ``(batch, samples, channels)``.
    """
    rng = np.random.default_rng(seed)
    if source in ("chirp", "noise"):
        sr = int(sample_rate or 16000)
        n = int(round(seconds * sr))
        t = np.arange(n) / sr
        if source == "chirp":
            f0, f1 = 50.0, 0.45 * sr
            phase = 2 * np.pi * (f0 * t + 0.5 * (f1 - f0) * t**2 / max(t[-1], 1e-9))
            x = np.stack(
                [np.sin(phase + k) * (0.5 + 0.5 * k / max(batch, 1)) for k in range(batch)]
            )
        else:
            x = 0.3 * rng.standard_normal((batch, n))
        return x.astype(np.float32), sr
    if source == "fsdd":
        files = datasets.fsdd_files()
        picks = [files[i] for i in np.linspace(0, len(files) - 1, batch).astype(int)]
        sr = int(sample_rate or 8000)
        n = int(round(seconds * sr))
        x = np.zeros((batch, n), np.float32)
        for i, (path, *_rest) in enumerate(picks):
            y, sr_file = datasets.load_wav(path)
            y = _resample(y, sr_file, sr)[:n]
            x[i, : len(y)] = y
        return x, sr
    path = Path(source)
    if not path.is_file():
        raise ValueError(
            f"`input` must be fsdd, chirp, noise or a WAV file. Received: input={source!r}"
        )
    y, sr_file = _load_any_wav(path)
    sr = int(sample_rate or sr_file)
    y = _resample(np.asarray(y, np.float32), sr_file, sr)
    n = int(round(seconds * sr))
    segments = np.zeros((batch, n) + y.shape[1:], np.float32)
    for i in range(batch):
        piece = y[i * n : (i + 1) * n]
        segments[i, : len(piece)] = piece
    return segments, sr


def _numpy_power_spectrogram(x, n_fft, hop_length):
    """(batch, samples) -> (batch, frames, bins) power, centred with zeros (numpy only)."""
    pad = n_fft // 2
    padded = np.pad(x.astype(np.float64), ((0, 0), (pad, pad)))
    frames = 1 + (padded.shape[1] - n_fft) // hop_length
    index = np.arange(n_fft)[None, :] + hop_length * np.arange(frames)[:, None]
    spectra = padded[:, index] @ filters.dft_kernels(n_fft)
    bins = n_fft // 2 + 1
    return spectra[..., :bins] ** 2 + spectra[..., bins:] ** 2


def layer_input(layer, params, waveforms, sample_rate):
    """The input a layer takes, made from waveforms: themselves, or a 4-D spectrogram.

    Spectral layers get a realistic input computed in numpy: `Filterbank` a power
    spectrogram with its ``n_fft``, `Decibel` a power mel spectrogram, `Normalization2D`
    and `SpecAugment` a dB mel spectrogram; laid out per their ``data_format``.
    """
    if layer in WAVEFORM_LAYERS:
        if waveforms.ndim == 3 and params.get("data_format") == "channels_first":
            return np.ascontiguousarray(np.transpose(waveforms, (0, 2, 1)))
        return waveforms
    mono = waveforms if waveforms.ndim == 2 else waveforms[..., 0]
    n_fft = int(params.get("n_fft", 512)) if layer == "Filterbank" else 512
    power = _numpy_power_spectrogram(mono, n_fft, n_fft // 4)
    if layer != "Filterbank":
        power = power @ filters.mel_filterbank(sample_rate, n_fft, n_mels=64).T
    if layer in ("Normalization2D", "SpecAugment"):
        db = 10 * np.log10(np.maximum(power, 1e-10))
        power = np.maximum(db, db.max(axis=(1, 2), keepdims=True) - 80.0)
    spec = power[..., None].astype(np.float32)  # (batch, frames, bins, 1)
    if params.get("data_format") == "channels_first":
        spec = np.ascontiguousarray(np.transpose(spec, (0, 3, 1, 2)))
    return spec


# ------------------------------------------------------------------ librosa


def librosa_reference(layer, params, x):
    """librosa's answer for the layers that have one, in the layer's layout, else None."""
    try:
        import librosa
    except ImportError:
        return None
    p = dict(params)
    fmt = p.pop("data_format", "channels_last") or "channels_last"
    if layer not in ("STFT", "Spectrogram", "MelSpectrogram", "Decibel", "Filterbank"):
        return None
    if layer == "Filterbank" and p.get("kind", "mel") != "mel":
        return None
    if layer in ("STFT", "Spectrogram", "MelSpectrogram"):
        waves = x if x.ndim == 3 else x[..., None]
        if x.ndim == 3 and fmt == "channels_first":
            waves = np.transpose(x, (0, 2, 1))
        n_fft = p.get("n_fft", 2048)
        stft_args = dict(
            n_fft=n_fft,
            hop_length=p.get("hop_length") or (p.get("win_length") or n_fft) // 4,
            win_length=p.get("win_length"),
            window=np.asarray(p["window"])
            if isinstance(p.get("window"), list)
            else p.get("window", "hann"),
            center=p.get("center", True),
            pad_mode=p.get("pad_mode", "constant"),
        )
        if stft_args["window"] == "rectangular":
            stft_args["window"] = "boxcar"
        channels = []
        for c in range(waves.shape[-1]):
            y = waves[..., c].astype(np.float64)
            if layer == "MelSpectrogram":
                mel = {k: p[k] for k in ("n_mels", "fmin", "fmax", "htk", "norm") if k in p}
                s = librosa.feature.melspectrogram(
                    y=y,
                    sr=p.get("sample_rate", 22050),
                    power=p.get("power", 2.0),
                    **stft_args,
                    **mel,
                )
            else:
                s = librosa.stft(y, **stft_args)
                if layer == "Spectrogram":
                    s = np.abs(s) ** p.get("power", 2.0)
            channels.append(np.swapaxes(s, -1, -2))  # (batch, frames, bins)
        out = np.stack(channels, axis=-1)  # channels_last
        if layer != "STFT" and p.get("decibel"):
            out = _librosa_db(
                librosa, out, "power" if p.get("power", 2.0) == 2.0 else "magnitude", p
            )
        elif layer == "STFT":
            mode = p.get("mode", "magnitude")
            if mode == "complex":
                out = [out.real, out.imag]
            else:
                out = np.abs(out) ** (2 if mode == "power" else 1)
        outs = out if isinstance(out, list) else [out]
        if fmt == "channels_first":
            outs = [np.transpose(o, (0, 3, 1, 2)) for o in outs]
        return outs
    spec = x if fmt == "channels_last" else np.transpose(x, (0, 2, 3, 1))
    if layer == "Decibel":
        out = _librosa_db(librosa, spec.astype(np.float64), p.get("scale", "power"), p)
    else:
        mel = librosa.filters.mel(
            sr=p.get("sample_rate", 22050),
            n_fft=p.get("n_fft", 2048),
            n_mels=p.get("n_filters", 128),
            fmin=p.get("fmin", 0.0),
            fmax=p.get("fmax"),
            htk=p.get("htk", False),
            norm=p.get("norm", "slaney"),
        )
        out = np.einsum("btfc,mf->btmc", spec.astype(np.float64), mel)
    return [out if fmt == "channels_last" else np.transpose(out, (0, 3, 1, 2))]


def _librosa_db(librosa, values, scale, p):
    convert = librosa.power_to_db if scale == "power" else librosa.amplitude_to_db
    ref = p.get("ref", 1.0)
    kwargs = {"ref": np.max if ref == "max" else ref, "top_db": p.get("top_db", 80.0)}
    if p.get("amin") is not None:
        kwargs["amin"] = p["amin"]
    return np.stack([convert(v, **kwargs) for v in values])


# ------------------------------------------------------------------ comparisons


@dataclass
class Comparison:
    """One judged difference: an output or a gradient of one case, between two sources."""

    case: str
    quantity: str  # "output 0", "grad input", "grad <weight path>"
    a: str
    b: str
    max_abs: float
    relative: float
    unit: str  # "linear" or "dB"
    bound: float
    ok: bool
    note: str = ""


@dataclass
class Report:
    """All comparisons of a run, and the backends that were skipped."""

    backends: list
    skipped: list
    comparisons: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)

    @property
    def ok(self):
        return bool(self.comparisons) and not self.errors and all(c.ok for c in self.comparisons)

    def failures(self):
        return [c for c in self.comparisons if not c.ok]

    def to_json(self):
        return {
            "ok": self.ok,
            "backends": self.backends,
            "skipped": self.skipped,
            "errors": self.errors,
            "comparisons": [asdict(c) for c in self.comparisons],
            "bounds": {
                "output_relative": OUTPUT_RTOL,
                "output_db": OUTPUT_DB,
                "grad_relative": GRAD_RTOL,
                "reference_relative": REFERENCE_RTOL,
                "reference_db": REFERENCE_DB,
            },
        }

    def render(self, console=None):
        """Prints the comparisons as a table (rich)."""
        from rich.console import Console
        from rich.table import Table

        console = console or Console(width=None if sys.stdout.isatty() else 120)
        table = Table(title="audiofront parity", show_lines=False)
        for column in ("case", "quantity", "pair", "max |a-b|", "relative", "bound", "ok"):
            table.add_column(
                column, justify="right" if column in ("max |a-b|", "relative", "bound") else "left"
            )
        for c in self.comparisons:
            shown = f"{c.max_abs:.3g} dB" if c.unit == "dB" else f"{c.max_abs:.3g}"
            bound = f"{c.bound:g} dB" if c.unit == "dB" else f"{c.bound:g} rel"
            table.add_row(
                c.case,
                c.quantity,
                f"{c.a} vs {c.b}",
                shown,
                f"{c.relative:.3g}",
                bound,
                "[green]ok[/green]" if c.ok else "[bold red]FAIL[/bold red]",
            )
        console.print(table)
        for backend in self.skipped:
            console.print(f"[yellow]skipped[/yellow] {backend}: not installed")
        for where, message in self.errors.items():
            console.print(f"[bold red]error[/bold red] {where}: {message}")
        verdict = (
            "[green]all within bounds[/green]" if self.ok else "[bold red]out of bounds[/bold red]"
        )
        console.print(
            f"{len(self.comparisons)} comparisons, {len(self.failures())} failed: {verdict}"
        )


def _judge(case, quantity, a, b, x, y, unit, rtol_or_db, floor_mask=None):
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.shape != y.shape:
        return Comparison(
            case,
            quantity,
            a,
            b,
            np.inf,
            np.inf,
            unit,
            rtol_or_db,
            False,
            f"shapes {x.shape} vs {y.shape}",
        )
    finite = bool(np.all(np.isfinite(x)) and np.all(np.isfinite(y)))
    diff = np.abs(x - y)
    if floor_mask is not None:
        diff = diff[floor_mask]
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(x).max()) if x.size else 0.0
    relative = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else np.inf)
    ok = finite and (max_abs <= rtol_or_db if unit == "dB" else relative <= rtol_or_db)
    return Comparison(
        case,
        quantity,
        a,
        b,
        max_abs,
        relative,
        unit,
        rtol_or_db,
        ok,
        "" if finite else "non-finite values",
    )


def _run_worker(command, spec_path, backend, out=None, env=None, timeout=1800):
    environment = dict(os.environ, **(env or {}), KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = [sys.executable, "-m", "audiofront._worker", command, str(spec_path)] + (
        [str(out)] if out else []
    )
    result = subprocess.run(args, env=environment, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout)[-3000:]
        raise RuntimeError(f"{backend} {command} failed (exit {result.returncode}):\n{tail}")


def compare(cases, backends=BACKENDS, grad=False, imports=(), workdir=None, progress=False):
    """Runs every case under every available backend and judges each pair.

    Args:
        cases: dicts with ``name`` and ``input`` (a numpy array), and either ``model`` (a
            ``.keras`` path) or ``layer`` and ``params`` (built once and shared);
            optional ``reference``: a list of arrays to compare each backend against
            (for example from `librosa_reference`), with ``reference_top_db`` for dB.
        backends: backend names to try; those not installed are reported as skipped.
        grad: also compare gradients with respect to the input and trainable weights.
        imports: modules each worker imports first (custom layers of a saved model).
        workdir: where models, inputs and results go (a temporary folder by default).
        progress: show a progress bar.

    Returns:
        A `Report`.
    """
    found, skipped = available_backends(backends)
    report = Report(backends=found, skipped=skipped)
    if not found:
        return report
    tmp = tempfile.TemporaryDirectory() if workdir is None else None
    root = Path(workdir or tmp.name)
    root.mkdir(parents=True, exist_ok=True)
    spec_cases = []
    for i, case in enumerate(cases):
        entry = {"name": case["name"], "input": str(root / f"input{i}.npy")}
        np.save(entry["input"], np.asarray(case["input"]))
        if "model" in case:
            entry["model"] = str(case["model"])
        else:
            entry.update(
                layer=case["layer"],
                params=case.get("params", {}),
                model=str(root / f"case{i}.keras"),
                perturb=True,
            )
        spec_cases.append(entry)
    spec = {"cases": spec_cases, "grad": bool(grad), "imports": list(imports)}
    spec_path = root / "spec.json"
    spec_path.write_text(json.dumps(spec))
    steps = ([("create", found[0])] if any("layer" in c for c in spec_cases) else []) + [
        ("run", b) for b in found
    ]
    results, meta = {}, {}
    bar = _progress(progress, len(steps))
    try:
        for command, backend in steps:
            if bar:
                bar[0].update(bar[1], description=f"{command} under {backend}")
            try:
                out = root / f"results-{backend}.npz"
                _run_worker(command, spec_path, backend, out if command == "run" else None)
                if command == "run":
                    results[backend] = dict(np.load(out))
                    meta[backend] = json.loads(Path(str(out) + ".json").read_text())
            except Exception as error:  # noqa: BLE001 - reported, not raised
                report.errors[f"{backend} {command}"] = str(error)
                if command == "create":
                    return report
            if bar:
                bar[0].advance(bar[1])
    finally:
        if bar:
            bar[0].stop()
    ran = [b for b in found if b in results]
    for case, entry in zip(cases, spec_cases):
        name = entry["name"]
        keys = [k for k in (results[ran[0]] if ran else {}) if k.startswith(name + "/")]
        kind = meta[ran[0]]["cases"][name]["kind"] if ran else "linear"
        for key in sorted(keys):
            quantity = key[len(name) + 1 :].replace("/", " ")
            is_grad = quantity.startswith("grad")
            for a, b in itertools.combinations(ran, 2):
                if key not in results[b]:
                    report.errors[f"{b} {name}"] = f"missing {quantity}"
                    continue
                unit, bound = (
                    ("linear", GRAD_RTOL)
                    if is_grad
                    else ("dB", OUTPUT_DB)
                    if kind == "db"
                    else ("linear", OUTPUT_RTOL)
                )
                report.comparisons.append(
                    _judge(name, quantity, a, b, results[a][key], results[b][key], unit, bound)
                )
        for i, expected in enumerate(case.get("reference") or []):
            key = f"{name}/output/{i}"
            mask = None
            if kind == "db" and case.get("reference_top_db") is not None:
                axes = tuple(range(1, expected.ndim))
                mask = (
                    expected
                    > expected.max(axis=axes, keepdims=True) - case["reference_top_db"] + 1e-9
                )
            unit, bound = ("dB", REFERENCE_DB) if kind == "db" else ("linear", REFERENCE_RTOL)
            for backend in ran:
                got = results[backend][key]
                report.comparisons.append(
                    _judge(
                        name, f"output {i}", backend, "librosa", expected, got, unit, bound, mask
                    )
                )
    if tmp is not None:
        tmp.cleanup()
    return report


def _progress(enabled, total):
    if not enabled:
        return None
    from rich.progress import Progress

    bar = Progress(transient=True)
    bar.start()
    return bar, bar.add_task("parity", total=total)


def layer_case(
    layer, params=None, name=None, source="fsdd", batch=2, seconds=1.0, sample_rate=None
):
    """A `compare` case for an audiofront layer by name, with an input made for it.

    A layer that takes ``sample_rate`` gets the input's rate unless ``params`` sets it.
    """
    params = dict(params or {})
    waves, sr = make_input(source, batch=batch, seconds=seconds, sample_rate=sample_rate)
    if "sample_rate" not in params and layer in ("MelSpectrogram", "Filterbank"):
        params["sample_rate"] = sr
    x = layer_input(layer, params, waves, sr)
    return {"name": name or layer, "layer": layer, "params": params, "input": x}


def compare_layer(
    layer, params=None, source="fsdd", batch=2, seconds=1.0, sample_rate=None, **kwargs
):
    """`compare` for one layer by name: builds its input, and its librosa reference when
    ``reference="librosa"`` is passed."""
    if layer not in LAYERS:
        raise ValueError(f"`layer` must be one of {LAYERS}. Received: layer={layer!r}")
    case = layer_case(
        layer, params, source=source, batch=batch, seconds=seconds, sample_rate=sample_rate
    )
    params, x = case["params"], case["input"]
    reference = kwargs.pop("reference", None)
    if reference == "librosa":
        case["reference"] = librosa_reference(layer, params, x)
        case["reference_top_db"] = params.get("top_db", 80.0)
    elif reference is not None:
        raise ValueError(
            f'`reference` must be None or "librosa". Received: reference={reference!r}'
        )
    return compare([case], **kwargs)


def model_input_shape(path):
    """The input shape (without batch) of a saved ``.keras`` model, read from its config."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "InputLayer":
                shape = item["config"].get("batch_shape") or item["config"].get("batch_input_shape")
                return tuple(shape[1:])
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return None


def fit_input(waves, shape, seed=0):
    """Shapes waveforms ``(batch, samples)`` to a model's input ``shape`` (without batch):
    cropped or zero-padded to a fixed length, repeated over channels; a 3-D input gets
    non-negative random values (a stand-in spectrogram)."""
    if shape is None:
        return waves
    batch = waves.shape[0]
    mono = waves if waves.ndim == 2 else waves[..., 0]
    if len(shape) == 3:
        rng = np.random.default_rng(seed)
        return np.abs(rng.standard_normal((batch,) + tuple(d or 16 for d in shape))).astype(
            np.float32
        )

    def fit_length(x, n):
        if n is None:
            return x
        out = np.zeros((x.shape[0], n), np.float32)
        out[:, : min(n, x.shape[1])] = x[:, :n]
        return out

    if len(shape) == 1:
        return fit_length(mono, shape[0])
    first, second = shape
    if first is not None and (second is None or first < second):  # (channels, samples)
        return np.repeat(fit_length(mono, second)[:, None, :], first, axis=1)
    return np.repeat(fit_length(mono, first)[:, :, None], second, axis=2)


def compare_model(path, source="fsdd", batch=2, seconds=1.0, sample_rate=None, **kwargs):
    """`compare` for a saved ``.keras`` model, fed waveforms shaped to its input."""
    waves, _sr = make_input(source, batch=batch, seconds=seconds, sample_rate=sample_rate)
    x = fit_input(waves, model_input_shape(path))
    return compare([{"name": Path(path).stem, "model": str(path), "input": x}], **kwargs)
