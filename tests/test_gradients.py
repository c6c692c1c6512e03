"""Gradients of every layer with trainable weights against finite differences.

Two independent checks per layer, on the current backend:

1. in float64 (``dtype="float64"``; under JAX inside ``jax.enable_x64``), the autodiff
   gradient of ``L(w) = sum(layer(x) * probe)`` against central finite differences of
   the same float64 layer along random directions;
2. the float32 gradient (what training uses) against that float64 gradient, element by
   element, within the contract's gradient bound (1e-4 relative to the largest entry).

Together with the cross-backend session, which compares the float32 gradients of the
same layers between backends (``tests/test_cross_backend.py``), this ties every backend
to one backend-independent reference.
"""

import contextlib

import keras
import numpy as np
import pytest

from audiofront import STFT, Filterbank, MelSpectrogram, Spectrogram
from conftest import fsdd_batch, to_numpy

# The contract: gradients agree across backends within 1e-4 relative.
GRADIENT_RTOL = 1e-4
# float64 central differences with a step of 1e-6 * |w| along a unit direction: the
# truncation error is O(step**2) and the rounding error O(1e-16 / step), both ~1e-10
# relative; 1e-7 leaves room for kinks (the dB clip, max) near a sample point.
FD_RTOL = 1e-7

CASES = {
    "stft-power": lambda dtype: STFT(
        n_fft=128, hop_length=32, mode="power", trainable=True, dtype=dtype
    ),
    "stft-magnitude": lambda dtype: STFT(
        n_fft=128, hop_length=48, win_length=96, mode="magnitude", trainable=True, dtype=dtype
    ),
    "stft-complex": lambda dtype: STFT(
        n_fft=128, hop_length=32, mode="complex", trainable=True, dtype=dtype
    ),
    "spectrogram-db": lambda dtype: Spectrogram(
        n_fft=128,
        hop_length=32,
        power=1.0,
        decibel=True,
        ref="max",
        trainable_kernel=True,
        dtype=dtype,
    ),
    "mel-db": lambda dtype: MelSpectrogram(
        sample_rate=8000,
        n_fft=128,
        hop_length=32,
        n_mels=16,
        decibel=True,
        trainable_kernel=True,
        trainable_filterbank=True,
        dtype=dtype,
    ),
    "mel-reflect-power1": lambda dtype: MelSpectrogram(
        sample_rate=8000,
        n_fft=128,
        hop_length=40,
        n_mels=12,
        power=1.0,
        pad_mode="reflect",
        trainable_kernel=True,
        trainable_filterbank=True,
        data_format="channels_first",
        dtype=dtype,
    ),
    "filterbank-mel": lambda dtype: Filterbank(
        n_filters=16, sample_rate=8000, n_fft=128, trainable=True, dtype=dtype
    ),
    "filterbank-log": lambda dtype: Filterbank(
        kind="log",
        n_filters=10,
        sample_rate=8000,
        n_fft=128,
        fmin=60.0,
        trainable=True,
        dtype=dtype,
    ),
    "filterbank-random": lambda dtype: Filterbank(
        kind="random", n_filters=8, sample_rate=8000, n_fft=128, seed=4, trainable=True, dtype=dtype
    ),
}


def float64_scope():
    """Where float64 tensors exist: everywhere but JAX, where x64 is switched on here."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.enable_x64(True)
    return contextlib.nullcontext()


def layer_input(name):
    """Two FSDD recordings (float64); spectra for the filterbanks."""
    waves = fsdd_batch(length=1200)[:2].astype(np.float64)
    if not name.startswith("filterbank"):
        return waves
    import librosa

    spectra = np.abs(librosa.stft(waves, n_fft=128, hop_length=32)) ** 2  # (2, 65, frames)
    return np.transpose(spectra, (0, 2, 1))[..., None]  # (2, frames, 65, 1)


def as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def value_and_gradients(layer, x, probes):
    """``L = sum(layer(x) * probe)`` and dL/dw for each trainable weight, as numpy."""
    backend = keras.backend.backend()
    dtype = layer.compute_dtype
    x = keras.ops.convert_to_tensor(x, dtype)
    probes = [keras.ops.convert_to_tensor(p, dtype) for p in probes]

    def loss_of(outputs):
        return sum(keras.ops.sum(o * p) for o, p in zip(as_tuple(outputs), probes))

    if backend == "jax":
        import jax

        non_trainable = [v.value for v in layer.non_trainable_variables]

        def loss(trainable):
            return loss_of(layer.stateless_call(trainable, non_trainable, x)[0])

        value, grads = jax.value_and_grad(loss)([v.value for v in layer.trainable_variables])
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss_of(layer(x))
        grads = tape.gradient(value, layer.trainable_variables)
    else:
        for v in layer.trainable_variables:
            v.value.grad = None
        value = loss_of(layer(x))
        value.backward()
        grads = [v.value.grad for v in layer.trainable_variables]
    return float(to_numpy(value)), [to_numpy(g).astype(np.float64) for g in grads]


def loss_at(layer, variable, weights, x, probes):
    variable.assign(weights)
    return sum(
        float(np.sum(to_numpy(o).astype(np.float64) * p))
        for o, p in zip(as_tuple(layer(x)), probes)
    )


def probes_for(layer, x, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(to_numpy(o))) for o in as_tuple(layer(x))]


# Keras 3.15's torch backend computes ``ops.matmul`` of float64 tensors in float32 (its
# ``dtypes.result_type`` maps torch's float64 dtype to float32), and audiofront applies
# filterbanks with ``ops.matmul``: a float64 layer with a filterbank rounds there to float32
# under torch, and float64 finite differences see it. (``ops.maximum`` with a Python float
# did the same; audiofront.ops uses ``ops.where`` for its floors instead.)
TORCH_ROUNDS_FLOAT64 = {name for name in CASES if name.startswith(("mel", "filterbank"))}


def torch_float64_maximum_bug(name):
    return pytest.param(
        name,
        marks=pytest.mark.xfail(
            keras.backend.backend() == "torch" and name in TORCH_ROUNDS_FLOAT64,
            reason="keras torch ops.matmul rounds float64 to float32",
            strict=True,
        ),
    )


@pytest.mark.parametrize("name", [torch_float64_maximum_bug(name) for name in CASES])
def test_float64_gradients_match_finite_differences(name):
    x = layer_input(name)
    with float64_scope():
        layer = CASES[name]("float64")
        probes = probes_for(layer, x, seed=1)
        _, grads = value_and_gradients(layer, x, probes)
        assert len(grads) == len(layer.trainable_variables) >= 1
        rng = np.random.default_rng(2)
        for variable, grad in zip(layer.trainable_variables, grads):
            assert to_numpy(variable).dtype == np.float64
            w0 = to_numpy(variable).astype(np.float64)
            for _ in range(3):
                direction = rng.standard_normal(w0.shape)
                direction /= np.linalg.norm(direction)
                step = 1e-6 * np.abs(w0).max()
                plus = loss_at(layer, variable, w0 + step * direction, x, probes)
                minus = loss_at(layer, variable, w0 - step * direction, x, probes)
                variable.assign(w0)
                finite = (plus - minus) / (2 * step)
                analytic = float(np.sum(grad * direction))
                scale = np.linalg.norm(grad)  # |g . d| <= |g| for a unit direction
                error = abs(finite - analytic) / scale
                record("fd", name, error)
                assert error <= FD_RTOL, (
                    f"{variable.name}: finite difference {finite:.10g} vs autodiff "
                    f"{analytic:.10g}, {error:.3g} of |grad| = {scale:.4g}"
                )


@pytest.mark.parametrize("name", list(CASES))
def test_float32_gradients_match_float64(name):
    x = layer_input(name)
    with float64_scope():
        layer64 = CASES[name]("float64")
        probes = probes_for(layer64, x, seed=1)
        _, grads64 = value_and_gradients(layer64, x, probes)
    layer32 = CASES[name]("float32")
    layer32(x.astype(np.float32))  # builds it (JAX's stateless_call needs the weights)
    _, grads32 = value_and_gradients(layer32, x.astype(np.float32), probes)
    assert len(grads32) == len(grads64) >= 1
    for variable, g32, g64 in zip(layer32.trainable_variables, grads32, grads64):
        assert np.all(np.isfinite(g32))
        error = np.abs(g32 - g64).max() / np.abs(g64).max()
        record("f32", name, error)
        assert error <= GRADIENT_RTOL, (
            f"{variable.name}: float32 gradient off by {error:.3g} relative to the "
            f"largest float64 entry (bound {GRADIENT_RTOL})"
        )


@pytest.mark.parametrize("name", [n for n in CASES if n.startswith("filterbank")])
def test_filterbank_gradient_matches_closed_form(name):
    """L = sum((S @ W) * P) has dL/dW = sum over examples, frames, channels of S^T P:
    a numpy float64 reference that needs no float64 on the backend."""
    spectra = layer_input(name)  # (batch, frames, bins, 1)
    layer = CASES[name]("float32")
    probes = probes_for(layer, spectra.astype(np.float32), seed=3)
    _, (grad,) = value_and_gradients(layer, spectra.astype(np.float32), probes)
    expected = np.einsum("tfbc,tfnc->bn", spectra, probes[0])
    error = np.abs(grad - expected).max() / np.abs(expected).max()
    record("closed-form", name, error)
    assert error <= GRADIENT_RTOL


def record(kind, name, error):
    """Prints the measured error (pytest -s shows it; the README quotes these)."""
    print(f"[gradients] {keras.backend.backend()} {kind} {name}: {error:.3g}")
