"""What differs between the backends outside the layers: compiling, devices, waiting for
results, and automatic differentiation. The one place for such code.

The layers never need this (they are ``keras.ops`` only); the tests, `audiofront.testing`,
the parity worker and the bench worker do. Everything acts on the current Keras backend
(``KERAS_BACKEND``), whose framework is imported on first use.

Example:

>>> import numpy as np, audiofront
>>> from audiofront.tools import backend
>>> layer = audiofront.Filterbank(n_filters=8, n_fft=64, trainable=True)
>>> x = np.ones((1, 3, 33, 1), "float32")
>>> _ = layer(x)
>>> value, grads = backend.gradient_function(layer)(x)
>>> [tuple(g.shape) for g in grads]
[(33, 8)]
"""

import keras
import numpy as np

__all__ = [
    "name",
    "compile",
    "trace_count",
    "sync",
    "device_kind",
    "torch_device",
    "to_device",
    "disable_tf32",
    "gradient_function",
    "gradients",
    "compile_training_call",
]


def name():
    """The current Keras backend: ``"jax"``, ``"torch"`` or ``"tensorflow"``."""
    return keras.backend.backend()


def compile(fn):  # noqa: A001 - the backend's own word
    """``fn`` compiled the backend's way: ``jax.jit``, ``tf.function(jit_compile=True)``
    or ``torch.compile``."""
    if name() == "jax":
        import jax

        return jax.jit(fn)
    if name() == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    import torch

    return torch.compile(fn)


def trace_count(fn):
    """How many times ``fn`` (from `compile`) has been traced or compiled so far (torch:
    the process-wide count of graphs dynamo has made)."""
    if name() == "jax":
        return fn._cache_size()
    if name() == "tensorflow":
        return fn.experimental_get_tracing_count()
    import torch._dynamo

    return torch._dynamo.utils.counters["stats"]["unique_graphs"]


def device_kind():
    """``"gpu"`` when the backend places new tensors on a GPU, else ``"cpu"``."""
    from audiofront.dispatch import current_device

    return current_device()


def torch_device():
    """The torch device name of `device_kind` (``"cuda"`` or ``"cpu"``), for torch peers."""
    return "cuda" if device_kind() == "gpu" else "cpu"


def to_device(x):
    """A numpy array as a tensor on the backend's default device."""
    return keras.ops.convert_to_tensor(np.ascontiguousarray(x))


def sync(out):
    """Waits until ``out`` (a tensor or a nest of them) is computed; returns it. JAX and GPU
    work are asynchronous; CPU torch and TensorFlow ops return finished results."""
    leaves = keras.tree.flatten(out)
    if name() == "jax":
        import jax

        jax.block_until_ready(leaves)
    elif name() == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
    elif device_kind() == "gpu":
        for leaf in leaves:
            leaf.numpy()
    return out


def disable_tf32():
    """float32 matmuls and convolutions in full float32 on GPUs (TF32 off), so that GPU
    results meet the same bounds as CPU ones."""
    if name() == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    elif name() == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")
    else:
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(False)


def compile_training_call(layer):
    """``x -> layer(x, training=True)``, compiled the backend's way, with the layer's state
    (a random layer's counter) updated as an eager call would: ``jax.jit`` of
    ``stateless_call`` (the new non-trainable values assigned back),
    ``tf.function(jit_compile=True)``, ``torch.compile``."""
    if name() == "jax":
        import jax

        @jax.jit
        def step(trainable, non_trainable, x):
            return layer.stateless_call(trainable, non_trainable, x, training=True)

        def fn(x):
            trainable = [v.value for v in layer.trainable_variables]
            non_trainable = [v.value for v in layer.non_trainable_variables]
            outputs, updated = step(trainable, non_trainable, x)
            for variable, value in zip(layer.non_trainable_variables, updated):
                variable.assign(value)
            return outputs

        return fn
    return compile(lambda x: layer(x, training=True))


def _loss(outputs, probes):
    outputs = keras.tree.flatten(outputs)
    if probes is None:
        return sum(keras.ops.sum(o) for o in outputs)
    return sum(keras.ops.sum(o * keras.ops.cast(p, o.dtype)) for o, p in zip(outputs, probes))


def gradient_function(layer, probes=None, wrt_input=False):
    """A function ``x -> (loss, grads)`` for a built layer or model, traceable by `compile`.

    ``loss`` is ``sum(output * probe)`` over the layer's outputs (``sum(output)`` without
    ``probes``); ``grads`` are its gradients with respect to the input (first, with
    ``wrt_input``; one per input when ``x`` is a list) and to each of
    ``layer.trainable_variables``, as backend tensors. The layer runs in inference mode, as
    ``layer(x)``.
    """
    if probes is not None:
        probes = [keras.ops.convert_to_tensor(p) for p in probes]
    variables = list(layer.trainable_variables)
    if name() == "jax":
        return _jax_gradient_function(layer, probes, wrt_input, variables)
    if name() == "tensorflow":
        return _tf_gradient_function(layer, probes, wrt_input, variables)
    return _torch_gradient_function(layer, probes, wrt_input, variables)


def _jax_gradient_function(layer, probes, wrt_input, variables):
    import jax

    def loss(trainable, x):
        non_trainable = [v.value for v in layer.non_trainable_variables]
        outputs, _ = layer.stateless_call(trainable, non_trainable, x)
        return _loss(outputs, probes)

    grad = jax.value_and_grad(loss, argnums=(0, 1) if wrt_input else 0)

    def fn(x):
        value, grads = grad([v.value for v in variables], x)
        if wrt_input:
            return value, [*keras.tree.flatten(grads[1]), *grads[0]]
        return value, list(grads)

    return fn


def _tf_gradient_function(layer, probes, wrt_input, variables):
    import tensorflow as tf

    def fn(x):
        x = keras.tree.map_structure(tf.convert_to_tensor, x)
        with tf.GradientTape() as tape:
            if wrt_input:
                tape.watch(keras.tree.flatten(x))
            value = _loss(layer(x), probes)
        targets = (keras.tree.flatten(x) if wrt_input else []) + [v.value for v in variables]
        grads = tape.gradient(value, targets)
        return value, [tf.zeros_like(t) if g is None else g for g, t in zip(grads, targets)]

    return fn


def _torch_gradient_function(layer, probes, wrt_input, variables):
    import torch

    def fn(x):
        x = keras.tree.map_structure(keras.ops.convert_to_tensor, x)
        if wrt_input:
            x = keras.tree.map_structure(lambda v: v.detach().requires_grad_(True), x)
        value = _loss(layer(x), probes)
        targets = (keras.tree.flatten(x) if wrt_input else []) + [v.value for v in variables]
        grads = torch.autograd.grad(value, targets, allow_unused=True)
        return value.detach(), [
            torch.zeros_like(t) if g is None else g for g, t in zip(grads, targets)
        ]

    return fn


def gradients(layer, x, probes=None, wrt_input=False):
    """`gradient_function` applied once: ``(loss, grads)`` as a float and numpy arrays."""
    value, grads = gradient_function(layer, probes, wrt_input)(x)
    return float(keras.ops.convert_to_numpy(value)), [keras.ops.convert_to_numpy(g) for g in grads]
