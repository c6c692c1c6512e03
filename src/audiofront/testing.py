"""Pytest helpers for front-end layers: the contract's bounds, one test that every layer
passes, and cross-backend agreement.

- `assert_linear_close` / `assert_db_close`: the contract's bounds against a reference;
- `assert_raises_naming`: a bad argument or input raises, and the message names it;
- `run_layer_test`: config round trip, build and shapes, weight counts, dtype policy,
  compiled equals eager (and traced once, without graph breaks under ``torch.compile``) and
  the ``.keras`` round trip, on the current backend;
- `assert_backends_agree` (with `layer_case` / `model_case`): the same numbers on JAX,
  PyTorch and TensorFlow, a subprocess per backend (`audiofront.tools.parity`).

Example (in a test module):

>>> import numpy as np, audiofront
>>> from audiofront import testing
>>> x = np.random.default_rng(0).standard_normal((2, 4000)).astype("float32")
>>> testing.run_layer_test(audiofront.MelSpectrogram, dict(sample_rate=8000, n_fft=256,
...     n_mels=20), x, expected_output_shape=(2, 63, 20, 1), expected_weights=(0, 2),
...     run_compile=False)
>>> testing.assert_backends_agree(                       # doctest: +SKIP
...     [testing.layer_case("MelSpectrogram", {"n_fft": 512, "decibel": True})], grad=True)
"""

import json
import os
import tempfile

import keras
import numpy as np

from audiofront.tools import backend, parity

__all__ = [
    "to_numpy",
    "assert_linear_close",
    "assert_db_close",
    "assert_raises_naming",
    "run_layer_test",
    "layer_case",
    "model_case",
    "assert_backends_agree",
]

# The contract's bound for compiled against eager and other same-backend re-runs.
SAME_BACKEND_RTOL = 1e-5


def to_numpy(x):
    """A tensor, or a tuple / list of them, as numpy."""
    if isinstance(x, (tuple, list)):
        return type(x)(to_numpy(v) for v in x)
    return np.asarray(keras.ops.convert_to_numpy(x))


def assert_linear_close(actual, reference, rtol=1e-4):
    """The contract's linear bound: ``max|a - r| <= rtol * max|r|``, all values finite."""
    actual, reference = np.asarray(actual, np.float64), np.asarray(reference, np.float64)
    assert actual.shape == reference.shape, (actual.shape, reference.shape)
    assert np.all(np.isfinite(actual))
    error = np.max(np.abs(actual - reference))
    bound = rtol * np.max(np.abs(reference))
    assert error <= bound, f"max abs error {error:.3g} > {bound:.3g} ({rtol} * max|ref|)"


def assert_db_close(actual, reference, top_db, atol=0.01):
    """The contract's dB bound, per example, above the reference's ``top_db`` floor (every
    value when ``top_db`` is None)."""
    actual, reference = np.asarray(actual, np.float64), np.asarray(reference, np.float64)
    assert actual.shape == reference.shape, (actual.shape, reference.shape)
    assert np.all(np.isfinite(actual))
    for a, r in zip(actual, reference):
        keep = np.ones(r.shape, bool) if top_db is None else r > r.max() - top_db + 1e-9
        error = np.max(np.abs(a[keep] - r[keep]))
        assert error <= atol, f"max dB error {error:.4g} > {atol} over {keep.sum()} values"


def assert_raises_naming(fn, words, error=ValueError):
    """``fn()`` raises ``error`` whose message contains every one of ``words`` (the
    argument's name, the value received ...)."""
    try:
        fn()
    except error as caught:
        message = str(caught)
    else:
        raise AssertionError(f"no {error.__name__} raised")
    missing = [word for word in words if word not in message]
    assert not missing, f"{missing} not in: {message}"


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def assert_same(actual, expected, rtol=SAME_BACKEND_RTOL, what="outputs"):
    """Every output within ``rtol * max|expected|`` (and ``rtol`` relative) of ``expected``."""
    actual, expected = _as_tuple(to_numpy(actual)), _as_tuple(to_numpy(expected))
    assert len(actual) == len(expected), what
    for a, e in zip(actual, expected):
        scale = np.abs(e).max() if e.size else 0.0
        np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol * scale, err_msg=what)


def _each(fn, x):
    """``fn`` applied to an input, or to each input of a list or tuple (a list back)."""
    return [fn(v) for v in x] if isinstance(x, (tuple, list)) else fn(x)


def _shape(x):
    return _each(lambda v: tuple(v.shape), x)


def _symbolic(x, batch=False):
    """Keras inputs shaped as ``x``, the batch unknown (fixed with ``batch``: a stateful
    layer keeps state per example)."""
    if batch:
        return _each(lambda v: keras.Input(batch_shape=v.shape), x)
    return _each(lambda v: keras.Input(shape=v.shape[1:]), x)


def _stateful(layer):
    return getattr(layer, "stateful", False)


def _check_config(layer_cls, init_kwargs, layer, x, outputs):
    config = layer.get_config()
    json.dumps(config)  # parameters only, never arrays
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, "from_config(get_config()) changed the config"
    for a, b in zip(_as_tuple(to_numpy(clone(x))), _as_tuple(to_numpy(outputs))):
        np.testing.assert_array_equal(a, b, err_msg="a layer from its config computes otherwise")


def _check_shapes(layer_cls, init_kwargs, layer, x, outputs, expected_output_shape):
    shapes = [tuple(o.shape) for o in _as_tuple(outputs)]
    if expected_output_shape is not None:
        assert all(s == tuple(expected_output_shape) for s in shapes), shapes
    computed = layer.compute_output_shape(_shape(x))
    computed = computed if isinstance(computed[0], tuple) else (computed,)
    assert [tuple(c) for c in computed] == shapes, (computed, shapes)
    stateful = _stateful(layer)
    symbolic = layer_cls(**init_kwargs)(_symbolic(x, batch=stateful))
    for s, shape in zip(_as_tuple(symbolic), shapes):
        batch = shape[0] if stateful else None
        assert tuple(s.shape) == (batch, *shape[1:]), (s.shape, shape)


def _check_weights(layer, expected_weights):
    if expected_weights is None:
        return
    counts = (len(layer.trainable_weights), len(layer.non_trainable_weights))
    assert counts == tuple(expected_weights), f"(trainable, non-trainable) weights {counts}"


def _check_dtype_policy(layer_cls, init_kwargs, x, outputs):
    """Under a mixed policy the layer still computes in float32: same numbers, float32 out."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        layer = layer_cls(**init_kwargs)
        assert layer.compute_dtype == "float32", layer.compute_dtype
        mixed = layer(x)
    finally:
        keras.config.set_dtype_policy(previous)
    for m in _as_tuple(mixed):
        assert keras.backend.standardize_dtype(m.dtype) == "float32", m.dtype
    assert_same(mixed, outputs, what="outputs under mixed_float16")


def _check_compiled_stream(layer, x, outputs):
    """A stateful layer compiled as Keras compiles a model's calls (a bare ``jax.jit``
    cannot carry state): from a fresh state, the same outputs."""
    inputs = _symbolic(x, batch=True)
    model = keras.Model(inputs, layer(inputs))
    model.compile(jit_compile=True)
    layer.reset_state()
    assert_same(model.predict_on_batch(x), outputs, what="compiled outputs (stateful)")
    _check_no_graph_break(layer, _each(backend.to_device, x))


def _check_compiled(layer, x, outputs, new_input):
    if _stateful(layer):
        return _check_compiled_stream(layer, x, outputs)
    compiled = backend.compile(layer)
    tensor = _each(backend.to_device, x)
    assert_same(compiled(tensor), outputs, what="compiled outputs")
    count = backend.trace_count(compiled)
    compiled(_each(backend.to_device, new_input))
    assert backend.trace_count(compiled) == count, "a new input of the same shape recompiled"
    _check_no_graph_break(layer, tensor)


def _check_no_graph_break(layer, tensor):
    if backend.name() == "torch":
        import torch._dynamo

        explanation = torch._dynamo.explain(layer)(tensor)
        # -1 when there is no graph at all (a layer that returns its input).
        assert explanation.graph_break_count <= 0, [b.reason for b in explanation.break_reasons]


def _check_saved(layer, x, outputs):
    """A model holding the layer, with its weights perturbed (so defaults cannot pass for
    loaded values), saved to ``.keras`` and loaded: same weights, same outputs (a stateful
    layer's state included: both continue from the saved one)."""
    inputs = _symbolic(x, batch=_stateful(layer))
    model = keras.Model(inputs, layer(inputs))
    rng = np.random.default_rng(1)
    for w in model.weights:
        value = to_numpy(w)
        w.assign(np.abs(value * (1 + 0.1 * rng.standard_normal(value.shape))).astype(value.dtype))
    model(x)  # a stateful layer now holds a state of its own, saved with the weights
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "layer.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
    assert [w.name for w in loaded.weights] == [w.name for w in model.weights]
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
        assert a.trainable == b.trainable
    expected = to_numpy(model(x))
    for a, b in zip(_as_tuple(to_numpy(loaded(x))), _as_tuple(expected)):
        np.testing.assert_array_equal(a, b)


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    *,
    expected_output_shape=None,
    expected_weights=None,
    run_compile=True,
    run_save=True,
):
    """The checks every audiofront layer passes, on the current backend (as Keras's own
    ``run_layer_test``). Raises ``AssertionError`` naming the failed check.

    1. ``get_config`` is JSON-friendly, ``from_config`` round-trips it, and the clone
       computes the same outputs;
    2. the output shapes equal ``expected_output_shape`` (when given), the layer's
       ``compute_output_shape``, and the symbolic call's (batch unknown);
    3. ``(trainable, non_trainable)`` weight counts equal ``expected_weights`` (when given);
    4. under the ``mixed_float16`` global policy the layer computes in float32: float32
       outputs equal to the float32 ones;
    5. compiled (`audiofront.tools.backend.compile`) equals eager within 1e-5, a second input
       of the same shape does not retrace, and ``torch.compile`` finds no graph break (a
       stateful layer: ``predict_on_batch`` of a model compiled with ``jit_compile=True``,
       from a fresh state, equals eager);
    6. a model holding the layer, weights perturbed, survives a ``.keras`` round trip with
       the same weights and outputs.

    Args:
        layer_cls: the layer class.
        init_kwargs: its constructor arguments.
        input_data: a numpy input batch (a list of them for a layer of several inputs).
        expected_output_shape: the output shape (each output's, for tuple outputs).
        expected_weights: ``(trainable, non_trainable)`` weight counts.
        run_compile: run check 5 (the slowest).
        run_save: run check 6.
    """
    x = _each(np.asarray, input_data)
    layer = layer_cls(**init_kwargs)
    outputs = layer(x)
    _check_config(layer_cls, init_kwargs, layer, x, outputs)
    _check_shapes(layer_cls, init_kwargs, layer, x, outputs, expected_output_shape)
    _check_weights(layer, expected_weights)
    _check_dtype_policy(layer_cls, init_kwargs, x, outputs)
    if run_compile:
        _check_compiled(layer, x, outputs, _each(lambda v: (v * 1.5).astype(v.dtype), x))
    if run_save:
        _check_saved(layer, x, outputs)


def layer_case(
    layer, params=None, name=None, source="chirp", batch=2, seconds=0.5, sample_rate=None
):
    """A `parity.compare` case for an audiofront layer (see
    `audiofront.tools.parity.layer_case`)."""
    return parity.layer_case(
        layer,
        params,
        name=name,
        source=source,
        batch=batch,
        seconds=seconds,
        sample_rate=sample_rate,
    )


def model_case(path, inputs, name=None):
    """A `parity.compare` case for a saved ``.keras`` model on given inputs."""
    return {"name": name or str(path), "model": str(path), "input": inputs}


def assert_backends_agree(cases, backends=parity.BACKENDS, grad=True, require_all=True, **kwargs):
    """Runs `parity.compare` and raises ``AssertionError`` naming every failed comparison.

    Args:
        cases: cases from `layer_case` / `model_case` (all run in one subprocess per
            backend).
        backends: the backends to compare.
        grad: compare gradients too.
        require_all: fail (rather than skip) when a requested backend is not installed.

    Returns:
        The `parity.Report`, for further checks.
    """
    report = parity.compare(cases, backends=backends, grad=grad, **kwargs)
    problems = []
    if require_all and report.skipped:
        problems.append(f"backends not installed: {', '.join(report.skipped)}")
    problems += [f"{where}: {message}" for where, message in report.errors.items()]
    problems += [
        f"{c.case} {c.quantity}: {c.a} vs {c.b} differ by {c.max_abs:.3g}"
        f"{' dB' if c.unit == 'dB' else f' (relative {c.relative:.3g})'} > bound {c.bound:g}"
        + (f" [{c.note}]" if c.note else "")
        for c in report.failures()
    ]
    if not report.comparisons and not problems:
        problems.append("nothing was compared")
    if problems:
        raise AssertionError("backends disagree:\n  " + "\n  ".join(problems))
    return report
