"""A streaming model with its state as explicit inputs and outputs, for export.

A stateful layer (``stateful=True``) keeps its state in non-trainable weights that it
assigns on each call. A TensorFlow SavedModel keeps such assignments (its variables live
on in the runtime), but ONNX and LiteRT artifacts freeze weights into constants: the state
would be stuck at its initial value. `stateless_stream` turns the model into one step of
the stream, ``(chunk, *states) -> (outputs, *new_states)``, which every format exports; the
caller feeds each step's new states to the next (zeros, or the initial states that
`initial_states` returns, at first).

Example:

>>> import keras, numpy as np, audiofront
>>> chunk = keras.Input(batch_shape=(1, 160))
>>> mel = audiofront.MelSpectrogram(sample_rate=16000, n_fft=512, hop_length=160,
...                                 center=False, stateful=True, decibel=False)
>>> step = audiofront.stateless_stream(keras.Model(chunk, mel(chunk)))
>>> [tuple(t.shape) for t in step.inputs]
[(1, 160), (1, 352)]
>>> signature = audiofront.stream_signature(step)  # for step.export(..., input_signature=)
>>> states = audiofront.initial_states(step)
>>> out, *states = step([np.zeros((1, 160), "float32"), *states])
>>> tuple(out.shape)
(1, 1, 128, 1)
"""

import contextlib
import math
import threading

import keras
import numpy as np

__all__ = ["initial_states", "stateless_stream", "stream_signature"]


_STEPPING = threading.local()


def stepping():
    """Whether a `stateless_stream` step is being called (its states are explicit)."""
    return getattr(_STEPPING, "depth", 0) > 0


@contextlib.contextmanager
def _step():
    _STEPPING.depth = getattr(_STEPPING, "depth", 0) + 1
    try:
        yield
    finally:
        _STEPPING.depth -= 1


def stream_states(model):
    """The weights that the model's stateful audiofront layers carry between calls."""
    states = {id(v): v for v in model.non_trainable_variables if getattr(v, "stream_state", 0)}
    return list(states.values())


class _StreamStep(keras.layers.Layer):
    """Calls ``model`` through ``stateless_call`` with its stream states taken from the
    inputs; returns ``[outputs..., new states...]``. For export, not for ``.keras`` files
    (save the stateful model itself)."""

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self._states = stream_states(model)

    def call(self, inputs):
        count = len(self._states)
        chunk = inputs[: len(inputs) - count]
        # Reshaped to the state's own shape: exporters may trace with the batch unknown.
        given = {
            id(v): keras.ops.reshape(state, v.shape)
            for v, state in zip(self._states, inputs[len(inputs) - count :])
        }
        non_trainable = [given.get(id(v), v.value) for v in self.model.non_trainable_variables]
        trainable = [v.value for v in self.model.trainable_variables]
        with _step():
            outputs, updated = self.model.stateless_call(
                trainable, non_trainable, chunk[0] if len(chunk) == 1 else chunk
            )
        index = {id(v): i for i, v in enumerate(self.model.non_trainable_variables)}
        new_states = [updated[index[id(v)]] for v in self._states]
        return [*keras.tree.flatten(outputs), *new_states]

    def compute_output_spec(self, inputs):
        chunk = inputs[: len(inputs) - len(self._states)]
        outputs = self.model.compute_output_spec(chunk[0] if len(chunk) == 1 else chunk)
        states = [keras.KerasTensor(v.shape, v.dtype) for v in self._states]
        return [*keras.tree.flatten(outputs), *states]


def stateless_stream(model):
    """``model`` (holding stateful layers, fixed batch size) as a functional model of one
    stream step: inputs ``[*model.inputs, *states]``, outputs ``[*model.outputs,
    *new_states]``, the states in the order of `initial_states`. Its weights are
    ``model``'s (shared). Export it with ``model.export(path, format=...)`` where the format
    freezes weights (ONNX, LiteRT), with ``input_signature=stream_signature(step)``.

    Raises:
        ValueError: when the model holds no stateful layer.
    """
    states = stream_states(model)
    if not states:
        raise ValueError(
            "`model` holds no stateful layer (stateful=True): it needs no explicit state. "
            f"Received: model with layers {[layer.name for layer in model.layers]}"
        )
    state_inputs = [
        keras.Input(batch_shape=tuple(v.shape), dtype=v.dtype, name=f"state_{i}")
        for i, v in enumerate(states)
    ]
    step = _StreamStep(model)(list(model.inputs) + state_inputs)
    step = keras.Model(list(model.inputs) + state_inputs, step, name=f"{model.name}_step")
    # Called once (on silence: a hop where the length is unknown) because `model.export`
    # refuses a model never called.
    hops = [lay._hop_length for lay in model._flatten_layers() if hasattr(lay, "_kept_samples")]
    hop = math.lcm(*hops) if hops else 1
    silence = [np.zeros([hop if d is None else d for d in t.shape], t.dtype) for t in model.inputs]
    step([*silence, *initial_states(step)])
    return step


def stream_signature(step):
    """The ``input_signature`` that exports ``step`` (from `stateless_stream`) with its
    fixed batch size: ``step.export(path, format=..., input_signature=stream_signature(step))``
    (Keras's default signature leaves the batch unknown, which the states cannot follow)."""
    specs = [keras.InputSpec(shape=t.shape, dtype=t.dtype, name=t.name) for t in step.inputs]
    return [specs] if len(specs) > 1 else specs


def initial_states(step):
    """The states a stream starts from (each stateful layer's state after its
    ``reset_state()``), as numpy arrays, for a model from `stateless_stream`; the layers'
    own current states are left as they were."""
    layer = next(lay for lay in step.layers if isinstance(lay, _StreamStep))
    saved = [np.array(keras.ops.convert_to_numpy(v)) for v in layer._states]
    for inner in layer.model._flatten_layers(include_self=False):
        if getattr(inner, "stateful", False) is True and hasattr(inner, "reset_state"):
            inner.reset_state()
    fresh = [np.array(keras.ops.convert_to_numpy(v)) for v in layer._states]
    for v, value in zip(layer._states, saved):
        v.assign(value)
    return fresh
