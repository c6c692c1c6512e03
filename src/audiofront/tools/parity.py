"""Cross-backend parity: does a front-end give the same numbers on JAX, PyTorch and TensorFlow?

Each backend runs in its own subprocess (Keras fixes its backend per process; see
`audiofront.tools.parity_worker`). A layer given by name and parameters is built and saved
once, in the first available backend, so every backend loads the same weights; a saved
``.keras`` model is loaded as it is. Every pair of backends is compared on the outputs and,
with ``grad=True``, on the gradients of ``sum(output * probe)`` (a fixed random probe) with
respect to the input and every trainable weight, against the contract's bounds:

- outputs: ``max|a - b| <= 1e-5 * max|a|``; dB outputs within 0.001 dB;
- gradients: ``max|a - b| <= 1e-4 * max|a|``;
- against librosa (``reference="librosa"``): ``1e-4 * max|ref|``; dB within 0.01 dB above
  the ``top_db`` floor.

Rounding noise: an output (or gradient) that is zero by construction, such as the average
over time and frequency of per-bin standardised features, holds only float32 rounding, and
a relative bound on it compares noise with noise. Each worker therefore also measures how
much every quantity moves when every input sample moves by ``2**-21`` of itself (four
float32 ulps), up or down at random (the larger movement of two draws; a common scale of the
input would not do: dB and normalisation undo it, and the rounding can come out the same);
where both backends' values are no larger than ``NOISE_FACTOR`` (100) times that movement,
the quantity is reported as rounding noise (ok, with a note) instead of being judged
relative to its own size. A real output moves by at most about a millionth of itself under
that change, so it never qualifies.

Example:

>>> from audiofront.tools import parity
>>> report = parity.compare_layer(                    # doctest: +SKIP
...     "MelSpectrogram", {"n_fft": 512, "n_mels": 40, "decibel": True}, grad=True)
>>> report.ok                                          # doctest: +SKIP
True
"""

import importlib.util
import itertools
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from audiofront.catalog import LAYERS
from audiofront.tools import signals
from audiofront.tools.progress import progress as progress_bar
from audiofront.tools.progress import run_worker
from audiofront.tools.reference import librosa_reference

__all__ = [
    "BACKENDS",
    "LAYERS",
    "Comparison",
    "Report",
    "available_backends",
    "compare",
    "layer_case",
    "compare_layer",
    "compare_model",
]

BACKENDS = ("jax", "torch", "tensorflow")

OUTPUT_RTOL = 1e-5
OUTPUT_DB = 1e-3
GRAD_RTOL = 1e-4
REFERENCE_RTOL = 1e-4
REFERENCE_DB = 1e-2
# A quantity no larger than this many times its own movement under four-ulp changes of
# the input is rounding noise (zero by construction); see the module docstring.
NOISE_FACTOR = 100.0
NOISE_NOTE = "rounding noise: zero by construction"


def available_backends(backends=BACKENDS):
    """The requested backends that are importable here, and those that are not."""
    found = [b for b in backends if importlib.util.find_spec(b) is not None]
    return found, [b for b in backends if b not in found]


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
                "noise_factor": NOISE_FACTOR,
            },
        }

    def render(self, console=None):
        """Prints the comparisons as a table (rich)."""
        from rich.console import Console
        from rich.table import Table

        console = console or Console(width=None if sys.stdout.isatty() else 120)
        table = Table(title="audiofront parity", show_lines=False)
        numeric = ("max |a-b|", "relative", "bound")
        for column in ("case", "quantity", "pair", *numeric, "ok"):
            table.add_column(column, justify="right" if column in numeric else "left")
        for c in self.comparisons:
            db = c.unit == "dB"
            verdict = "[green]ok[/green]" if c.ok else "[bold red]FAIL[/bold red]"
            table.add_row(
                c.case,
                c.quantity,
                f"{c.a} vs {c.b}",
                f"{c.max_abs:.3g} dB" if db else f"{c.max_abs:.3g}",
                f"{c.relative:.3g}",
                f"{c.bound:g} dB" if db else f"{c.bound:g} rel",
                verdict + (f" ({c.note})" if c.note else ""),
            )
        console.print(table)
        for backend in self.skipped:
            console.print(f"[yellow]skipped[/yellow] {backend}: not installed")
        for where, message in self.errors.items():
            console.print(f"[bold red]error[/bold red] {where}: {message}")
        verdict = "[green]all within bounds[/green]" if self.ok else "[bold red]out of bounds[/]"
        console.print(
            f"{len(self.comparisons)} comparisons, {len(self.failures())} failed: {verdict}"
        )


def judge(case, quantity, a, b, x, y, unit, bound, mask=None, noise=None):
    """A `Comparison` of arrays ``x`` (from ``a``) and ``y`` (from ``b``): within ``bound``
    dB, or ``bound`` relative to ``max|x|``; ``mask`` keeps some elements; ``noise`` is the
    pair of their movements under a four-ulp input change (see the module docstring)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape:
        shapes = f"shapes {x.shape} vs {y.shape}"
        return Comparison(case, quantity, a, b, np.inf, np.inf, unit, bound, False, shapes)
    finite = bool(np.all(np.isfinite(x)) and np.all(np.isfinite(y)))
    diff = np.abs(x - y) if mask is None else np.abs(x - y)[mask]
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(x).max()) if x.size else 0.0
    relative = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else np.inf)
    ok = finite and (max_abs <= bound if unit == "dB" else relative <= bound)
    note = "" if finite else "non-finite values"
    if finite and not ok and unit != "dB" and noise is not None:
        sizes = (scale, float(np.abs(y).max()) if y.size else 0.0)
        if all(size <= NOISE_FACTOR * n for size, n in zip(sizes, noise)):
            ok, note = True, NOISE_NOTE
    return Comparison(case, quantity, a, b, max_abs, relative, unit, bound, ok, note)


def _run_worker(command, spec_path, backend, out=None, timeout=1800, on_progress=None):
    environment = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = [sys.executable, "-m", "audiofront.tools.parity_worker", command, str(spec_path)]
    returncode, tail = run_worker(
        args + ([str(out)] if out else []), environment, timeout, on_progress or (lambda _: None)
    )
    if returncode != 0:
        raise RuntimeError(f"{backend} {command} failed (exit {returncode}):\n{tail[-3000:]}")


def _write_spec(cases, root, grad, imports):
    """Saves each case's input and writes ``root/spec.json`` for the workers."""
    entries = []
    for i, case in enumerate(cases):
        inputs = case["input"] if isinstance(case["input"], (list, tuple)) else [case["input"]]
        entry = {
            "name": case["name"],
            "input": [str(root / f"input{i}-{j}.npy") for j in range(len(inputs))],
        }
        for path, x in zip(entry["input"], inputs):
            np.save(path, np.asarray(x))
        if "model" in case:
            entry["model"] = str(case["model"])
        else:
            entry.update(
                layer=case["layer"],
                params=case.get("params", {}),
                model=str(root / f"case{i}.keras"),
                perturb=True,
            )
        entries.append(entry)
    path = root / "spec.json"
    path.write_text(json.dumps({"cases": entries, "grad": bool(grad), "imports": list(imports)}))
    return path, entries


def _run_backends(spec_path, entries, found, root, report, progress):
    """Runs ``create`` (when a case names a layer) then ``run`` under each backend; returns
    the results and metadata of the backends that ran."""
    steps = [("run", b) for b in found]
    if any("layer" in e for e in entries):
        steps.insert(0, ("create", found[0]))
    results, meta = {}, {}
    with progress_bar("parity", len(steps), progress) as bar:
        for command, backend in steps:
            what = f"{command} under {backend}"
            bar.step(what)
            out = root / f"results-{backend}.npz"
            try:
                _run_worker(
                    command,
                    spec_path,
                    backend,
                    out if command == "run" else None,
                    on_progress=lambda case, what=what: bar.step(f"{what}: case {case}"),
                )
            except Exception as error:  # noqa: BLE001 - reported, not raised
                report.errors[f"{backend} {command}"] = str(error)
                if command == "create":
                    break
                continue
            if command == "run":
                results[backend] = dict(np.load(out))
                meta[backend] = json.loads(Path(str(out) + ".json").read_text())
            bar.advance()
    return results, meta


def _judge_pairs(report, name, results, meta, ran):
    kind = meta[ran[0]]["cases"][name]["kind"]
    keys = sorted(k for k in results[ran[0]] if k.startswith(name + "/"))
    for key in keys:
        quantity = key[len(name) + 1 :].replace("/", " ")
        is_grad = quantity.startswith("grad")
        if is_grad:
            unit, bound = "linear", GRAD_RTOL
        else:
            unit, bound = ("dB", OUTPUT_DB) if kind == "db" else ("linear", OUTPUT_RTOL)
        for a, b in itertools.combinations(ran, 2):
            if key not in results[b]:
                report.errors[f"{b} {name}"] = f"missing {quantity}"
                continue
            noise = tuple(meta[s]["cases"][name]["noise"].get(key, 0.0) for s in (a, b))
            x, y = results[a][key], results[b][key]
            report.comparisons.append(judge(name, quantity, a, b, x, y, unit, bound, noise=noise))


def _judge_reference(report, case, results, meta, ran):
    name = case["name"]
    kind = meta[ran[0]]["cases"][name]["kind"]
    unit, bound = ("dB", REFERENCE_DB) if kind == "db" else ("linear", REFERENCE_RTOL)
    for i, expected in enumerate(case.get("reference") or []):
        mask = None
        if kind == "db" and case.get("reference_top_db") is not None:
            axes = tuple(range(1, expected.ndim))
            floor = expected.max(axis=axes, keepdims=True) - case["reference_top_db"]
            mask = expected > floor + 1e-9
        for backend in ran:
            got = results[backend][f"{name}/output/{i}"]
            report.comparisons.append(
                judge(name, f"output {i}", backend, "librosa", expected, got, unit, bound, mask)
            )


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
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(workdir or tmp)
        root.mkdir(parents=True, exist_ok=True)
        spec_path, entries = _write_spec(cases, root, grad, imports)
        results, meta = _run_backends(spec_path, entries, found, root, report, progress)
    ran = [b for b in found if b in results]
    if not ran:
        return report
    for case in cases:
        _judge_pairs(report, case["name"], results, meta, ran)
        _judge_reference(report, case, results, meta, ran)
    return report


def layer_case(
    layer, params=None, name=None, source="fsdd", batch=2, seconds=1.0, sample_rate=None
):
    """A `compare` case for an audiofront layer by name, with an input made for it.

    A layer that takes ``sample_rate`` gets the input's rate unless ``params`` sets it.
    """
    if layer not in LAYERS:
        raise ValueError(f"`layer` must be one of {tuple(LAYERS)}. Received: layer={layer!r}")
    params, x = signals.layer_example(layer, params, source, batch, seconds, sample_rate)
    return {"name": name or layer, "layer": layer, "params": params, "input": x}


def compare_layer(
    layer, params=None, source="fsdd", batch=2, seconds=1.0, sample_rate=None, **kwargs
):
    """`compare` for one layer by name: builds its input, and its librosa reference when
    ``reference="librosa"`` is passed."""
    case = layer_case(
        layer, params, source=source, batch=batch, seconds=seconds, sample_rate=sample_rate
    )
    reference = kwargs.pop("reference", None)
    if reference == "librosa":
        case["reference"] = librosa_reference(layer, case["params"], case["input"])
        case["reference_top_db"] = case["params"].get("top_db", 80.0)
    elif reference is not None:
        raise ValueError(
            f'`reference` must be None or "librosa". Received: reference={reference!r}'
        )
    return compare([case], **kwargs)


def compare_model(path, source="fsdd", batch=2, seconds=1.0, sample_rate=None, **kwargs):
    """`compare` for a saved ``.keras`` model, fed waveforms shaped to its input."""
    waves, _sr = signals.make_input(source, batch=batch, seconds=seconds, sample_rate=sample_rate)
    x = signals.fit_input(waves, signals.model_input_shape(path))
    return compare([{"name": Path(path).stem, "model": str(path), "input": x}], **kwargs)
