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

import audiofront
from audiofront.catalog import LAYERS
from audiofront.testing import to_numpy
from audiofront.tools import backend
from audiofront.tools.cases import tagged
from conftest import block_frames, fsdd_batch

# The contract: gradients agree across backends within 1e-4 relative.
GRADIENT_RTOL = 1e-4
# float64 five-point central differences with a step of 1e-4 * |w| along a unit direction:
# the truncation error is O(step**4), the rounding error O(1e-16 / step) times the ulps
# the loss's sum of terms rounds to (LEAF's ~10: two-point differences with a step of 1e-6
# came out 1.1-1.7e-7 of |grad| there); 1e-7 leaves room for kinks (the dB clip, max)
# near a sample point.
FD_RTOL = 1e-7
FD_STEP = 1e-4
FD_POINTS = (-2, -1, 1, 2)
FD_WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0

# The table's cases with trainable weights that are checked here (tools/cases.py, "grad").
CASES = {case.id: case for case in tagged("grad")}


@pytest.fixture(autouse=True)
def _small_blocks():
    """The blocked STFT path's gradient through several blocks (3 frames each here)."""
    with block_frames(3):
        yield


def make_layer(name, dtype):
    case = CASES[name]
    params = dict(case.params, dtype=dtype)
    if LAYERS[case.layer].sample_rate:
        params.setdefault("sample_rate", 8000)  # FSDD's
    return getattr(audiofront, case.layer)(**params)


def float64_scope():
    """Where float64 tensors exist: everywhere but JAX, where x64 is switched on here."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.enable_x64(True)
    return contextlib.nullcontext()


def layer_input(name):
    """Two FSDD recordings (float64), or what the layer takes computed from them by librosa:
    power spectra, a mel magnitude spectrogram, or a (real, imag) STFT."""
    waves = fsdd_batch(length=1200)[:2].astype(np.float64)
    case = CASES[name]
    takes = LAYERS[case.layer].takes
    if takes == "waveform":
        return waves
    import librosa

    n_fft = case.params.get("n_fft", 512)
    hop = case.params.get("hop_length", n_fft // 4)
    spectrum = librosa.stft(waves, n_fft=n_fft, hop_length=hop)  # (2, bins, frames)
    if takes == "complex":
        return [np.swapaxes(part, 1, 2)[..., None] for part in (spectrum.real, spectrum.imag)]
    if takes == "mel":
        mel = librosa.feature.melspectrogram(S=np.abs(spectrum), sr=8000, n_mels=40)
        return np.swapaxes(mel, 1, 2)[..., None] * 2.0**31  # PCEN's advised scale
    return np.swapaxes(np.abs(spectrum) ** 2, 1, 2)[..., None]  # (2, frames, bins, 1)


def as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def value_and_gradients(layer, x, probes):
    """``L = sum(layer(x) * probe)`` and dL/dw for each trainable weight, as numpy."""
    x = keras.tree.map_structure(lambda v: keras.ops.convert_to_tensor(v, layer.compute_dtype), x)
    value, grads = backend.gradients(layer, x, probes)
    return value, [g.astype(np.float64) for g in grads]


def loss_at(layer, variable, weights, x, probes):
    variable.assign(weights)
    return sum(
        float(np.sum(to_numpy(o).astype(np.float64) * p))
        for o, p in zip(as_tuple(layer(x)), probes)
    )


def probes_for(layer, x, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(to_numpy(o))) for o in as_tuple(layer(x))]


# Where Keras 3.15 rounds a float64 layer to float32, float64 finite differences see it:
# its torch backend computes ``ops.matmul`` of float64 tensors in float32 (its
# ``dtypes.result_type`` maps torch's float64 dtype to float32), and audiofront applies
# filterbanks with ``ops.matmul``; its JAX backend computes ``ops.cos`` and ``ops.sin`` of
# float64 tensors in float32, and LEAF's Gabor filters take them. (``ops.maximum`` with a
# Python float did the same under torch; audiofront.ops uses ``ops.where`` for its floors.)
ROUNDS_FLOAT64 = {
    "torch": (
        "keras torch ops.matmul rounds float64 to float32",
        {"MelSpectrogram", "Filterbank", "MFCC"},
    ),
    "jax": ("keras jax ops.cos and ops.sin round float64 to float32", {"LEAF"}),
}


def keras_float64_rounding(name):
    reason, layers = ROUNDS_FLOAT64.get(keras.backend.backend(), ("", set()))
    return pytest.param(
        name,
        marks=pytest.mark.xfail(CASES[name].layer in layers, reason=reason, strict=True),
    )


@pytest.mark.parametrize("name", [keras_float64_rounding(name) for name in CASES])
def test_float64_gradients_match_finite_differences(name):
    x = layer_input(name)
    with float64_scope():
        layer = make_layer(name, "float64")
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
                step = FD_STEP * np.abs(w0).max()
                at = [
                    loss_at(layer, variable, w0 + k * step * direction, x, probes)
                    for k in FD_POINTS
                ]
                variable.assign(w0)
                finite = np.dot(FD_WEIGHTS, at) / step
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
        layer64 = make_layer(name, "float64")
        probes = probes_for(layer64, x, seed=1)
        _, grads64 = value_and_gradients(layer64, x, probes)
    layer32 = make_layer(name, "float32")
    x32 = keras.tree.map_structure(lambda v: v.astype(np.float32), x)
    layer32(x32)  # builds it (JAX's stateless_call needs the weights)
    _, grads32 = value_and_gradients(layer32, x32, probes)
    assert len(grads32) == len(grads64) >= 1
    for variable, g32, g64 in zip(layer32.trainable_variables, grads32, grads64):
        assert np.all(np.isfinite(g32))
        error = np.abs(g32 - g64).max() / np.abs(g64).max()
        record("f32", name, error)
        assert error <= GRADIENT_RTOL, (
            f"{variable.name}: float32 gradient off by {error:.3g} relative to the "
            f"largest float64 entry (bound {GRADIENT_RTOL})"
        )


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.layer == "Filterbank"])
def test_filterbank_gradient_matches_closed_form(name):
    """L = sum((S @ W) * P) has dL/dW = sum over examples, frames, channels of S^T P:
    a numpy float64 reference that needs no float64 on the backend."""
    spectra = layer_input(name)  # (batch, frames, bins, 1)
    layer = make_layer(name, "float32")
    probes = probes_for(layer, spectra.astype(np.float32), seed=3)
    _, (grad,) = value_and_gradients(layer, spectra.astype(np.float32), probes)
    expected = np.einsum("tfbc,tfnc->bn", spectra, probes[0])
    error = np.abs(grad - expected).max() / np.abs(expected).max()
    record("closed-form", name, error)
    assert error <= GRADIENT_RTOL


def record(kind, name, error):
    """Prints the measured error (pytest -s shows it; the README quotes these)."""
    print(f"[gradients] {keras.backend.backend()} {kind} {name}: {error:.3g}")
