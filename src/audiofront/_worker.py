"""The per-backend side of `audiofront.parity`: one process, one Keras backend.

    python -m audiofront._worker create SPEC.json   build each case's model, save it
    python -m audiofront._worker run SPEC.json OUT  load each case's model, write its
                                                    outputs (and gradients) to OUT.npz

KERAS_BACKEND picks the backend. Gradient code is backend-specific by nature and lives
here, never in the layers.
"""

import importlib
import json
import sys

import numpy as np


def _keras():
    import keras

    import audiofront  # noqa: F401  (registers the layers for loading)

    return keras


def build_model(keras, layer_name, params, input_shape):
    import audiofront

    layer_cls = getattr(audiofront, layer_name)
    inputs = keras.Input(shape=tuple(input_shape))
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
        x = np.load(case["input"])
        model = build_model(keras, case["layer"], case.get("params", {}), x.shape[1:])
        if case.get("perturb"):
            # Shared non-default weights, so a loader that ignored them would be caught.
            for w in model.trainable_weights:
                value = keras.ops.convert_to_numpy(w)
                # A factor near 1 keeps signs, so non-negative filterbanks stay so.
                scale = 1 + 0.05 * rng.standard_normal(value.shape)
                w.assign((value * scale).astype(value.dtype))
        model.save(case["model"])


def output_kind(model):
    """'db' when the model's output comes from a decibel stage, else 'linear'."""
    last = model.layers[-1] if model.layers else None
    name = type(last).__name__
    if name == "Decibel" or getattr(last, "decibel", False) is True:
        return "db"
    return "linear"


def gradients(keras, model, x, probes):
    """d sum(output * probe) / d (input, trainable weights), with the backend's autodiff."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def loss(trainable, inputs):
            non_trainable = [v.value for v in model.non_trainable_variables]
            outputs, _ = model.stateless_call(trainable, non_trainable, inputs)
            return sum((o * p).sum() for o, p in zip(keras.tree.flatten(outputs), probes))

        trainable = [v.value for v in model.trainable_variables]
        g_weights, g_input = jax.grad(loss, argnums=(0, 1))(trainable, x)
        return [np.asarray(g_input)] + [np.asarray(g) for g in g_weights]
    if backend == "tensorflow":
        import tensorflow as tf

        inputs = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = keras.tree.flatten(model(inputs))
            loss = sum(tf.reduce_sum(o * p) for o, p in zip(outputs, probes))
        grads = tape.gradient(loss, [inputs] + [v.value for v in model.trainable_variables])
        return [np.zeros_like(x) if g is None else np.asarray(g) for g in grads]
    import torch

    inputs = torch.tensor(x, requires_grad=True)
    outputs = keras.tree.flatten(model(inputs))
    sum((o * torch.tensor(p, device=o.device)).sum() for o, p in zip(outputs, probes)).backward()
    grads = [inputs.grad] + [v.value.grad for v in model.trainable_variables]
    return [np.zeros_like(x) if g is None else g.detach().cpu().numpy() for g in grads]


def run(spec, out_path):
    keras = _keras()
    results, meta = {}, {"backend": keras.backend.backend(), "cases": {}}
    for case in spec["cases"]:
        name = case["name"]
        model = keras.saving.load_model(case["model"])
        x = np.load(case["input"])
        outputs = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(model(x))]
        for i, o in enumerate(outputs):
            results[f"{name}/output/{i}"] = o
        info = {"kind": output_kind(model), "outputs": len(outputs), "weights": []}
        if spec.get("grad"):
            rng = np.random.default_rng(0)
            probes = [rng.standard_normal(o.shape).astype(o.dtype) for o in outputs]
            grads = gradients(keras, model, x, probes)
            results[f"{name}/grad/input"] = grads[0]
            for v, g in zip(model.trainable_variables, grads[1:]):
                results[f"{name}/grad/{v.path}"] = g
                info["weights"].append(v.path)
        meta["cases"][name] = info
    np.savez(out_path, **results)
    with open(str(out_path) + ".json", "w") as f:
        json.dump(meta, f)


def main(argv):
    command, spec_path = argv[0], argv[1]
    with open(spec_path) as f:
        spec = json.load(f)
    for module in spec.get("imports", []):
        importlib.import_module(module)
    if command == "create":
        create(spec)
    elif command == "run":
        run(spec, argv[2])
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
