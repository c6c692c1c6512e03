"""The per-backend side of `audiofront.tools.bench`: one process, one backend, one device.

    python -m audiofront.tools.bench.worker SPEC.json OUT.json

``backend`` in the spec is ``jax``, ``torch``, ``tensorflow`` (KERAS_BACKEND is set to it)
or ``numpy`` (librosa only, no Keras). Every measurement materialises its result before
the clock stops; the first call of a compiled function is timed apart as compile time.
"""

import json
import sys
import traceback

import numpy as np

from audiofront.tools.bench import FRONT_ENDS, peers, roofline
from audiofront.tools.bench.experiments import overhead_experiment, streaming_experiment
from audiofront.tools.bench.memory import measure_memory
from audiofront.tools.bench.timing import record, timed
from audiofront.tools.progress import PROGRESS


class Measurements:
    """Records and notes of one worker; `add` times one implementation."""

    def __init__(self, spec, sync, device):
        self.spec, self.sync, self.device = spec, sync, device
        self.records, self.notes = [], []
        self.ceilings = None  # a GPU's measured float32 ceilings (`roofline`)

    def add(self, implementation, mode, pass_, fn, x):
        print(f"{PROGRESS} {implementation} {mode} {pass_}", file=sys.stderr, flush=True)
        try:
            first, times = timed(
                lambda: fn(x), self.sync, self.spec["warmup"], self.spec["repeats"]
            )
            self.records.append(
                record(self.spec, implementation, mode, pass_, first, times, self.device)
            )
        except Exception as error:  # noqa: BLE001 - a failed peer is a note, not a crash
            self.notes.append(
                f"{self.spec['backend']} {implementation} {mode} {pass_}: "
                f"{type(error).__name__}: {str(error)[:300]}"
            )
            traceback.print_exc(file=sys.stderr)

    def add_modes(self, implementation, pass_, fn, x, compile_fn):
        """Eager, and compiled with ``compile_fn`` when the spec asks for it."""
        self.add(implementation, "eager", pass_, fn, x)
        if self.spec["compile"]:
            self.add(implementation, "compiled", pass_, compile_fn(fn), x)


def _input(spec):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((spec["batch"], spec["samples"])) * 0.1).astype(np.float32)


def measure_numpy(spec):
    """librosa, the numpy peer."""
    m = Measurements(spec, lambda out: out, "cpu")
    if spec["peers"]:
        try:
            m.add("librosa", "eager", "forward", peers.librosa_function(spec), _input(spec))
        except ImportError:
            m.notes.append("librosa not installed")
    return m


def _audiofront(m, x, compile_fn):
    from audiofront.tools import backend

    name = f"audiofront:{m.spec['layer']}"
    # CQT and LEAF have no STFT path to choose: timed once, whatever paths were asked for.
    front_end = m.spec["layer"] in FRONT_ENDS
    for implementation in ("auto",) if front_end else m.spec.get("implementations", ("auto",)):
        spec = m.spec
        if implementation != "auto":  # one STFT path forced: its own row
            spec = dict(spec, params=dict(spec["params"], implementation=implementation))
        row = name if implementation == "auto" else f"{name}[{implementation}]"
        for mode in ("eager", "compiled") if m.spec["compile"] else ("eager",):
            layer = peers.audiofront_layer(spec, trainable=False)
            layer(x)
            m.add(row, mode, "forward", compile_fn(layer) if mode == "compiled" else layer, x)
    if m.spec["backward"]:
        for mode in ("eager", "compiled") if m.spec["compile"] else ("eager",):
            layer = peers.audiofront_layer(m.spec, trainable=True)
            layer(x)
            grad = backend.gradient_function(layer)
            m.add(name, mode, "backward", compile_fn(grad) if mode == "compiled" else grad, x)


def _front_end_peers(m, x, compile_fn):
    """CQT's and LEAF's peers (`peers.front_end_peers`); for LEAF also audiofront's
    MelSpectrogram on the same batch (the cost LEAF is held to: at most 10x, both passes)."""
    from audiofront.tools import backend

    spec = m.spec
    passes = ((False, "forward"), (True, "backward"))[: 1 + spec["backward"]]
    if spec["layer"] == "LEAF":
        for trainable, pass_ in passes:
            mel = peers.audiofront_layer(dict(spec, layer="MelSpectrogram"), trainable)
            mel(x)
            fn = backend.gradient_function(mel) if trainable else mel
            m.add_modes("MelSpectrogram, same batch (audiofront)", pass_, fn, x, compile_fn)
    if spec["backend"] != "torch":
        return
    try:
        for trainable, pass_ in passes:
            for name, fn, module in peers.front_end_peers(spec, trainable):
                if trainable:
                    fn = _torch_grad_fn(fn, module)
                m.add(name, "eager", pass_, fn, x)
    except ImportError as error:
        m.notes.append(f"{spec['layer']} peer not importable: {error}")


def _peers(m, x, compile_fn):
    from audiofront.tools import backend

    spec = m.spec
    if spec["layer"] in FRONT_ENDS:
        _front_end_peers(m, x, compile_fn)
        return
    name, chain = peers.native_chain(spec)
    m.add_modes(name, "forward", chain, x, compile_fn)
    try:
        name, builtin = peers.keras_builtin(spec)
        builtin(x)
        m.add_modes(name, "forward", builtin, x, compile_fn)
    except Exception as error:  # noqa: BLE001
        m.notes.append(f"keras built-in: {error}")
    if spec["backend"] == "torch":
        try:
            fn, _module = peers.nnaudio_module(spec, trainable=False)
            m.add("nnAudio", "eager", "forward", fn, x)
            if spec["backward"]:
                fn, module = peers.nnaudio_module(spec, trainable=True)
                m.add("nnAudio", "eager", "backward", _torch_grad_fn(fn, module), x)
        except ImportError:
            m.notes.append("nnAudio not installed")
    if spec["backend"] == "tensorflow" and spec["layer"] != "MFCC":  # Kapre has no MFCC
        try:
            layer = peers.kapre_layer(spec)
            x3 = backend.to_device(_input(spec)[..., None])
            layer(x3)
            m.add("kapre", "eager", "forward", layer, x3)
        except ImportError:
            m.notes.append(
                "kapre not installed (it needs keras<3.14: use a peers-only environment)"
            )


def _torch_grad_fn(fn, module):
    import torch

    params = [p for p in module.parameters() if p.requires_grad]

    def grads(x):
        return torch.autograd.grad(fn(x).sum(), params)

    return grads


def measure(spec):
    """Times audiofront (eager and compiled, forward and backward; each of
    ``spec["implementations"]`` as its own forward row) and the peers; on a GPU, measures
    the device's ceilings too. Returns the `Measurements`."""
    if spec["backend"] == "numpy":  # before Keras is imported: it may have no backend here
        return measure_numpy(spec)
    from audiofront.tools import backend

    backend.disable_tf32()
    device = backend.device_kind()
    m = Measurements(spec, backend.sync, device)
    if spec["device"] == "gpu" and device != "gpu":
        m.notes.append(f"{spec['backend']}: no GPU visible")
        return m
    x = backend.to_device(_input(spec))
    _audiofront(m, x, backend.compile)
    if spec["peers"]:
        _peers(m, x, backend.compile)
    if device == "gpu":
        print(
            f"{PROGRESS} device ceilings (float32 matmul, bandwidth)", file=sys.stderr, flush=True
        )
        m.ceilings = roofline.measure_ceilings(backend.sync)
    return m


def versions():
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    for name in ("keras", "jax", "torch", "tensorflow", "librosa", "nnAudio", "kapre"):
        try:
            module = __import__(name)
            out[name] = getattr(module, "__version__", "?")
        except Exception:  # noqa: BLE001
            pass
    return out


def main(argv):
    with open(argv[0]) as f:
        spec = json.load(f)
    if spec["backend"] != "numpy":
        import keras  # noqa: F401  (KERAS_BACKEND is set by the caller)
    if spec.get("memory"):
        records, notes, ceilings = [measure_memory(spec)], [], None
    else:
        m = measure(spec)
        records, notes, ceilings = m.records, m.notes, m.ceilings
    if spec.get("overhead"):
        records += overhead_experiment(spec)
    if spec.get("streaming"):
        records += streaming_experiment(spec)
    with open(argv[1], "w") as f:
        out = {"records": records, "notes": notes, "versions": versions(), "ceilings": ceilings}
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1:])
