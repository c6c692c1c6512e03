"""The per-backend side of `audiofront.tools.parity`: one process, one Keras backend.

    python -m audiofront.tools.parity_worker create SPEC.json   build each case's model, save it
    python -m audiofront.tools.parity_worker run SPEC.json OUT  load each case's model, write its
                                                                outputs (and gradients) to OUT.npz

KERAS_BACKEND picks the backend. Besides each quantity, ``OUT.npz.json`` records how much it
moves when every input sample moves by four float32 ulps, up or down at random (the larger
movement of two such draws; the rounding-noise rule of `parity`).
"""

import importlib
import json
import sys

import numpy as np

from audiofront.tools import backend
from audiofront.tools.progress import PROGRESS

# Four float32 ulps: the input change that measures each quantity's rounding noise. Each
# sample moves up or down at random: a common scale of the whole input would not do, since
# dB and normalisation undo it, and the rounding of an output that is zero by construction
# can then come out the same (seen on CI: a 1.2e-7 output that moved by <1% of itself).
NOISE_STEP = 2.0**-21
NOISE_DRAWS = 2


def _keras():
    import keras

    import audiofront  # noqa: F401  (registers the layers for loading)

    return keras


def load_input(case):
    """The case's input: one array, or a list of them (a layer of several inputs)."""
    arrays = [np.load(path) for path in case["input"]]
    return arrays if len(arrays) > 1 else arrays[0]


def build_model(keras, layer_name, params, x):
    import audiofront

    layer_cls = getattr(audiofront, layer_name)
    # A stateful layer keeps its state per example: its model needs the batch size.
    if params.get("stateful"):
        inputs = keras.tree.map_structure(lambda v: keras.Input(batch_shape=v.shape), x)
    else:
        inputs = keras.tree.map_structure(lambda v: keras.Input(shape=v.shape[1:]), x)
    outputs = layer_cls(**params)(inputs)
    if isinstance(outputs, tuple):
        outputs = list(outputs)
    return keras.Model(inputs, outputs)


def create(spec):
    keras = _keras()
    rng = np.random.default_rng(spec.get("seed", 0))
    for case in spec["cases"]:
        if "layer" not in case:
            continue
        model = build_model(keras, case["layer"], case.get("params", {}), load_input(case))
        if case.get("perturb"):
            # Shared non-default weights, so a loader that ignored them would be caught.
            for w in model.trainable_weights:
                value = keras.ops.convert_to_numpy(w)
                # A factor near 1 keeps signs, so non-negative filterbanks stay so.
                scale = 1 + 0.05 * rng.standard_normal(value.shape)
                w.assign((value * scale).astype(value.dtype))
        model.save(case["model"])


def reset_streams(model):
    """Every stateful layer back to its initial state, so that each quantity starts a
    stream the same way on every backend; whether the model holds one."""
    layers = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if getattr(layer, "stateful", False) is True and hasattr(layer, "reset_state")
    ]
    for layer in layers:
        layer.reset_state()
    return bool(layers)


def output_kind(model):
    """'db' when the model's output comes from a decibel stage, else 'linear'."""
    last = model.layers[-1] if model.layers else None
    if type(last).__name__ == "Decibel" or getattr(last, "decibel", False) is True:
        return "db"
    return "linear"


def quantities(keras, model, x, grad):
    """``{"output/i": array}`` (with ``"stream/i"``, a second call carrying the state, for a
    stateful model) and, with ``grad``, ``{"grad/input": ..., "grad/<path>": ...}``."""
    from audiofront.tools import backend

    streaming = reset_streams(model)
    outputs = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(model(x))]
    out = {f"output/{i}": o for i, o in enumerate(outputs)}
    if streaming:  # a second chunk, from the state the first one left
        for i, o in enumerate(keras.tree.flatten(model(x))):
            out[f"stream/{i}"] = keras.ops.convert_to_numpy(o)
    if grad:
        rng = np.random.default_rng(0)
        probes = [rng.standard_normal(o.shape).astype(o.dtype) for o in outputs]
        reset_streams(model)
        _, grads = backend.gradients(model, x, probes, wrt_input=True)
        count = len(keras.tree.flatten(x))
        for i, g in enumerate(grads[:count]):
            out["grad/input" + (f" {i}" if count > 1 else "")] = g
        for v, g in zip(model.trainable_variables, grads[count:]):
            out[f"grad/{v.path}"] = g
    return out


def nudge(x, seed):
    """``x`` with every sample moved by `NOISE_STEP` of itself, up or down at random."""
    rng = np.random.default_rng(seed)

    def one(v):
        signs = rng.choice(np.array([-1.0, 1.0]), size=v.shape)
        return (v * (1 + NOISE_STEP * signs)).astype(v.dtype)

    return [one(v) for v in x] if isinstance(x, list) else one(x)


def run(spec, out_path):
    keras = _keras()
    results, meta = {}, {"backend": keras.backend.backend(), "cases": {}}
    for index, case in enumerate(spec["cases"]):
        name = case["name"]
        print(f"{PROGRESS} {index + 1}/{len(spec['cases'])} {name}", file=sys.stderr, flush=True)
        model = keras.saving.load_model(case["model"])
        x = load_input(case)
        values = quantities(keras, model, x, spec.get("grad"))
        noise = {f"{name}/{key}": 0.0 for key in values}
        for draw in range(NOISE_DRAWS):
            nudged = quantities(keras, model, nudge(x, draw), spec.get("grad"))
            for key, value in values.items():
                moved = float(np.abs(value - nudged[key]).max()) if value.size else 0.0
                noise[f"{name}/{key}"] = max(noise[f"{name}/{key}"], moved)
        results.update({f"{name}/{key}": value for key, value in values.items()})
        meta["cases"][name] = {"kind": output_kind(model), "noise": noise}
    np.savez(out_path, **results)
    with open(str(out_path) + ".json", "w") as f:
        json.dump(meta, f)


def main(argv):
    command, spec_path = argv[0], argv[1]
    with open(spec_path) as f:
        spec = json.load(f)
    for module in spec.get("imports", []):
        importlib.import_module(module)
    # On a GPU, float32 means float32: jax's default matmul precision and cuDNN's
    # convolutions would otherwise round through TF32 (about 3e-4 relative, see limits).
    backend.disable_tf32()
    if command == "create":
        create(spec)
    elif command == "run":
        run(spec, argv[2])
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
