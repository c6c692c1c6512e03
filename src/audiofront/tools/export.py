"""Export checks: every layer, default arguments, through Keras's ``model.export`` in each
format the current backend offers, run in the format's own runtime against the Keras model.

    audiofront export --out reports/export            # this backend's cells, as JSON + table
    audiofront export --out reports/export --matrix   # the README's matrix from every backend's JSON

A cell passes when the artifact's outputs are within the contract's bound of the Keras
model's (``1e-4 * max|ref|``; 0.01 dB for dB outputs) on a batch of two (one where the
format fixes the batch at 1), and the artifact holds no random op (the augmentation layers
are the identity at inference and must leave no trace).

Example (under KERAS_BACKEND=tensorflow, with onnxruntime, tf2onnx and ai-edge-litert):

>>> from audiofront.tools import export
>>> cell = export.check_cell("MelSpectrogram", "onnx", "/tmp/af-export")  # doctest: +SKIP
>>> cell["ok"], cell["batch"]  # doctest: +SKIP
(True, 'dynamic')
"""

import importlib.util
import json
import os
import pathlib
import tempfile
import warnings

import numpy as np

from audiofront.catalog import LAYERS
from audiofront.tools.parity_worker import output_kind
from audiofront.tools.signals import layer_example, make_input

__all__ = [
    "FORMATS",
    "LAYERS",
    "STREAM_ROW",
    "check_cell",
    "matrix",
    "missing",
    "op_types",
    "run",
    "run_artifact",
]

# The formats Keras's `model.export` offers per backend (Keras 3.15).
FORMATS = {
    "tensorflow": ("tf_saved_model", "litert", "onnx"),
    "jax": ("tf_saved_model", "onnx"),
    "torch": ("onnx", "litert"),
}
# What each (backend, format) needs besides the backend: converter and runtime modules.
NEEDS = {
    ("tensorflow", "tf_saved_model"): ("tensorflow",),
    ("tensorflow", "litert"): ("ai_edge_litert",),
    ("tensorflow", "onnx"): ("tf2onnx", "onnxruntime"),
    ("jax", "tf_saved_model"): ("tensorflow",),
    ("jax", "onnx"): ("jax2onnx", "onnxruntime"),
    ("torch", "onnx"): ("onnx", "onnxruntime"),
    ("torch", "litert"): ("litert_torch", "ai_edge_litert"),
}
SUFFIX = {"onnx": ".onnx", "litert": ".tflite", "tf_saved_model": ""}
# Op names that betray a random number generator left in an artifact.
RANDOM_MARKS = ("random", "rng", "multinomial", "bernoulli")
SAMPLE_RATE = 16000  # LEAF's and CQT's defaults need more than 8 kHz


def missing(backend, fmt):
    """The modules ``(backend, fmt)`` needs that are not installed (empty: it can run)."""
    return [m for m in NEEDS[(backend, fmt)] if importlib.util.find_spec(m) is None]


def default_model(layer, batch=2, seconds=0.5):
    """``(model, x)``: the layer with default arguments (its input's sample rate) in a
    functional model with an unknown batch size, and an input for it (named inputs: LiteRT
    orders inputs by name)."""
    import keras

    import audiofront

    params = {}
    if layer == "Filterbank":
        params["n_fft"] = 2048  # its default, spelled out so the input has 1025 bins
    if layer == "BackgroundNoise":  # its one required argument
        params["noises"] = np.random.default_rng(0).standard_normal((2, 1000)).astype("float32")
    params, x = layer_example(layer, params, batch=batch, seconds=seconds, sample_rate=SAMPLE_RATE)
    arrays = x if isinstance(x, list) else [x]
    inputs = [keras.Input(shape=v.shape[1:], name=f"input_{i}") for i, v in enumerate(arrays)]
    inputs = inputs if isinstance(x, list) else inputs[0]
    return keras.Model(inputs, getattr(audiofront, layer)(**params)(inputs)), arrays


def export(model, fmt, directory, input_signature=None):
    """``model.export`` into ``directory``; the artifact's path. The converters' warnings
    are silenced (TorchScript's tracer warns that shapes become constants; `check_cell`
    runs the artifact on another batch size than the one traced)."""
    path = os.path.join(directory, "model" + SUFFIX[fmt])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.export(path, format=fmt, verbose=False, input_signature=input_signature)
    return path


def _litert(path):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=path)


def run_artifact(fmt, path, inputs):
    """The artifact's outputs (a list of arrays) for ``inputs`` (a list, in the model's
    order), run in the format's runtime. A LiteRT model with a fixed batch of 1 runs one
    example at a time."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        return session.run(None, dict(zip(names, inputs)))
    if fmt == "tf_saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(path)  # held: its variables die with it
        out = loaded.serve(inputs if len(inputs) > 1 else inputs[0])
        return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]
    if fmt == "litert":
        interpreter = _litert(path)
        batch = interpreter.get_input_details()[0]["shape_signature"][0]
        if batch != -1 and inputs[0].shape[0] != batch:
            rows = [run_artifact(fmt, path, [v[i : i + 1] for v in inputs])
                    for i in range(inputs[0].shape[0])]  # fmt: skip
            return [np.concatenate(parts) for parts in zip(*rows)]
        runner = interpreter.get_signature_runner()
        # Named input_0, input_1 ... (TensorFlow) or args_0 ... (torch): sorted, in order.
        names = sorted(runner.get_input_details())
        out = runner(**dict(zip(names, inputs)))
        return [out[k] for k in sorted(out)]
    raise ValueError(f"unknown format {fmt!r}")


def artifact_batch(fmt, path):
    """``"dynamic"``, or the batch size the artifact is fixed at."""
    if fmt == "onnx":
        import onnx

        dim = onnx.load(path).graph.input[0].type.tensor_type.shape.dim[0]
        return "dynamic" if dim.dim_param or not dim.dim_value else str(dim.dim_value)
    if fmt == "litert":
        batch = _litert(path).get_input_details()[0]["shape_signature"][0]
        return "dynamic" if batch == -1 else str(batch)
    return "dynamic"  # a SavedModel's signature keeps the model's (None, ...)


def op_types(fmt, path):
    """The op names in the artifact (nested TF functions and ONNX subgraphs included)."""
    if fmt == "onnx":
        import onnx

        names, graphs = set(), [onnx.load(path).graph]
        while graphs:
            graph = graphs.pop()
            for node in graph.node:
                names.add(node.op_type)
                graphs.extend(a.g for a in node.attribute if a.HasField("g"))
        return names
    if fmt == "litert":
        return {d["op_name"] for d in _litert(path)._get_ops_details()}
    import tensorflow as tf

    graph = tf.saved_model.load(path).signatures["serving_default"].graph.as_graph_def()
    names = {node.op for node in graph.node}
    for function in graph.library.function:
        names.update(node.op for node in function.node_def)
    return names


def random_ops(fmt, path):
    """The artifact's op names that betray a random number generator."""
    return sorted(n for n in op_types(fmt, path) if any(m in n.lower() for m in RANDOM_MARKS))


def check_cell(layer, fmt, directory=None):
    """Exports ``layer`` (default arguments) in ``fmt`` on the current backend and compares
    the artifact with the Keras model. Returns a dict: ``ok``, ``error`` (max abs
    difference), ``bound``, ``kind``, ``batch``, ``random_ops``."""
    import keras

    directory = directory or tempfile.mkdtemp(prefix="audiofront-export-")
    pathlib.Path(directory).mkdir(parents=True, exist_ok=True)
    model, inputs = default_model(layer)
    reference = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(
        model(inputs if len(inputs) > 1 else inputs[0], training=False))]  # fmt: skip
    path = export(model, fmt, directory)
    outputs = run_artifact(fmt, path, inputs)
    kind = output_kind(model)
    error = max(float(np.max(np.abs(o - r))) for o, r in zip(outputs, reference))
    scale = max(float(np.max(np.abs(r))) for r in reference)
    bound = 0.01 if kind == "db" else 1e-4 * scale
    randoms = random_ops(fmt, path)
    finite = all(np.all(np.isfinite(o)) for o in outputs)
    shapes = [o.shape for o in outputs] == [r.shape for r in reference]
    return {
        "layer": layer,
        "format": fmt,
        "backend": keras.backend.backend(),
        "ok": bool(shapes and finite and error <= bound and not randoms),
        "error": error,
        "relative": error / scale if scale else error,
        "bound": bound,
        "kind": kind,
        "batch": artifact_batch(fmt, path),
        "random_ops": randoms,
    }


STREAM_ROW = "stateless_stream(MelSpectrogram+PCEN)"


def stream_model(batch=2, hop=160, hops=2):
    """A stateful MelSpectrogram (16 kHz, n_fft 512, power) then a stateful PCEN, taking
    chunks of ``hops`` hops: the streaming front-end `check_stream_cell` exports."""
    import keras

    import audiofront

    chunk = keras.Input(batch_shape=(batch, hop * hops), name="input_0")
    mel = audiofront.MelSpectrogram(
        sample_rate=SAMPLE_RATE, n_fft=512, hop_length=hop, center=False, stateful=True,
        decibel=False,
    )  # fmt: skip
    pcen = audiofront.PCEN(sample_rate=SAMPLE_RATE, hop_length=hop, stateful=True)
    return keras.Model(chunk, pcen(mel(chunk)))


def check_stream_cell(fmt, directory=None, chunks=5):
    """`stateless_stream` of `stream_model` exported in ``fmt``: ``chunks`` consecutive
    chunks through the artifact, each step's states fed to the next, against the Keras
    stateful model on the same chunks. The dict of `check_cell`."""
    import keras

    import audiofront

    directory = directory or tempfile.mkdtemp(prefix="audiofront-export-")
    model = stream_model()
    size = model.inputs[0].shape[1]
    waves, _ = make_input(batch=2, seconds=chunks * size / SAMPLE_RATE, sample_rate=SAMPLE_RATE)
    pieces = [waves[:, i * size : (i + 1) * size] for i in range(chunks)]
    step = audiofront.stateless_stream(model)
    path = export(step, fmt, directory, audiofront.stream_signature(step))
    states, error, scale = audiofront.initial_states(step), 0.0, 0.0
    for piece in pieces:
        reference = keras.ops.convert_to_numpy(model(piece))
        out, *states = run_artifact(fmt, path, [piece, *states])
        error = max(error, float(np.max(np.abs(out - reference))))
        scale = max(scale, float(np.max(np.abs(reference))))
    randoms = random_ops(fmt, path)
    return {
        "layer": STREAM_ROW, "format": fmt, "backend": keras.backend.backend(),
        "ok": bool(error <= 1e-4 * scale and not randoms), "error": error,
        "relative": error / scale, "bound": 1e-4 * scale, "kind": "linear",
        "batch": "2 (the stream's)", "random_ops": randoms,
    }  # fmt: skip


def run(out, layers=None, formats=None, bar=None):
    """Every cell of the current backend (or the given layers / formats) into
    ``out/export-<backend>.json`` (replacing those cells there, keeping the others); the
    list of cells (a failure keeps its message)."""
    import keras

    backend = keras.backend.backend()
    cells = []
    for layer in layers or [*LAYERS, STREAM_ROW]:
        for fmt in formats or FORMATS[backend]:
            if bar:
                bar.step(f"{layer} -> {fmt}")
            need = missing(backend, fmt)
            if need:
                cells.append({"layer": layer, "format": fmt, "backend": backend, "ok": None,
                              "failure": f"not installed: {', '.join(need)}"})  # fmt: skip
            else:
                with tempfile.TemporaryDirectory() as directory:
                    check = check_stream_cell if layer == STREAM_ROW else check_cell
                    try:
                        cells.append(check(layer, fmt, directory) if check is check_cell
                                     else check(fmt, directory))  # fmt: skip
                    except Exception as e:  # reported in the matrix, not raised
                        message = next((s for s in str(e).splitlines() if s.strip()), "")
                        cells.append({"layer": layer, "format": fmt, "backend": backend,
                                      "ok": False, "failure": f"{type(e).__name__}: {message}"})  # fmt: skip
            if bar:
                bar.advance()
    path = pathlib.Path(out) / f"export-{backend}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = json.loads(path.read_text()) if path.exists() else []  # other cells stay
    fresh = {(c["layer"], c["format"]) for c in cells}
    merged = [c for c in kept if (c["layer"], c["format"]) not in fresh] + cells
    path.write_text(json.dumps(merged, indent=1))
    return cells


def matrix(out):
    """The format x backend x layer matrix (markdown) from every ``export-*.json`` in
    ``out``: the relative difference (dB for dB outputs) per cell, ``b=1`` where the
    format fixes the batch, and what failed."""
    cells = []
    for path in sorted(pathlib.Path(out).glob("export-*.json")):
        cells.extend(json.loads(path.read_text()))
    columns = [(b, f) for b in FORMATS for f in FORMATS[b]]
    present = {(c["backend"], c["format"]) for c in cells}
    columns = [c for c in columns if c in present]
    lines = ["| layer | " + " | ".join(f"{f} ({b})" for b, f in columns) + " |",
             "|---|" + "---|" * len(columns)]  # fmt: skip
    by_key = {(c["layer"], c["backend"], c["format"]): c for c in cells}
    notes = []
    for layer in [*LAYERS, STREAM_ROW]:
        row = []
        for b, f in columns:
            cell = by_key.get((layer, b, f))
            row.append(_cell_text(cell, notes))
        lines.append(f"| {layer} | " + " | ".join(row) + " |")
    return "\n".join(lines + [""] + notes)


def _cell_text(cell, notes):
    if cell is None:
        return "-"
    if cell.get("failure"):
        notes.append(f"- {cell['layer']}, {cell['format']} ({cell['backend']}): {cell['failure']}")
        return f"fails [{len(notes)}]"
    value = f"{cell['error']:.1e} dB" if cell["kind"] == "db" else f"{cell['relative']:.0e}"
    value = value if cell["ok"] else f"**{value} (over)**"
    batch = cell["batch"]
    return value + (
        f", b={batch}" if batch not in ("dynamic",) and cell["layer"] != STREAM_ROW else ""
    )
