"""Normalization2D against a numpy reference, and its gradient on constant slices."""

import keras
import numpy as np
import pytest

from audiofront import MelSpectrogram, Normalization2D
from audiofront.testing import to_numpy
from audiofront.tools import backend
from conftest import fsdd_batch


def input_gradient(layer, x, probe):
    """d sum(layer(x) * probe) / dx, as numpy."""
    layer(x)
    return backend.gradients(layer, x, [probe], wrt_input=True)[1][0]


# Axis name -> axes reduced for channels_last (batch, frames, bins, channels).
REDUCED_CHANNELS_LAST = {
    "freq": (1, 3),
    "time": (2, 3),
    "channel": (1, 2),
    "sample": (1, 2, 3),
    "batch": (0, 1, 2, 3),
}


def numpy_reference(x, axis, data_format, eps):
    x = x.astype(np.float64)
    if data_format == "channels_first":
        x = np.transpose(x, (0, 2, 3, 1))
    axes = REDUCED_CHANNELS_LAST[axis]
    out = (x - x.mean(axis=axes, keepdims=True)) / (x.std(axis=axes, keepdims=True) + eps)
    return np.transpose(out, (0, 3, 1, 2)) if data_format == "channels_first" else out


def spectrogram_like(data_format, seed=0):
    rng = np.random.default_rng(seed)
    # Different offsets and scales per example, frame, bin and channel.
    x = rng.normal(size=(3, 20, 16, 2)) * rng.uniform(0.5, 20, (3, 1, 16, 1)) + rng.uniform(
        -80, 0, (3, 20, 1, 2)
    )
    x = x.astype("float32")
    return np.transpose(x, (0, 3, 1, 2)) if data_format == "channels_first" else x


@pytest.mark.parametrize("axis", list(REDUCED_CHANNELS_LAST))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("eps", [1e-10, 0.5])
def test_equals_numpy_reference(axis, data_format, eps):
    x = spectrogram_like(data_format)
    layer = Normalization2D(axis=axis, eps=eps, data_format=data_format)
    out = to_numpy(layer(x))
    np.testing.assert_allclose(out, numpy_reference(x, axis, data_format, eps), atol=2e-5)
    assert out.shape == layer.compute_output_shape(x.shape)


@pytest.mark.parametrize("axis", list(REDUCED_CHANNELS_LAST))
def test_same_in_training_and_inference(axis):
    x = spectrogram_like("channels_last")
    layer = Normalization2D(axis=axis)
    np.testing.assert_array_equal(
        to_numpy(layer(x, training=True)), to_numpy(layer(x, training=False))
    )
    inputs = keras.Input(shape=x.shape[1:])
    model = keras.Model(inputs, Normalization2D(axis=axis)(inputs))
    np.testing.assert_allclose(model.predict(x, verbose=0), to_numpy(layer(x)), atol=1e-5)


def clipped_db_spectrogram():
    """Speech followed by digital silence: the silent frames sit exactly at the top_db floor."""
    x = fsdd_batch(length=6000)
    x[:, 4000:] = 0.0
    return to_numpy(
        MelSpectrogram(
            sample_rate=8000, n_fft=256, hop_length=128, n_mels=32, decibel=True, top_db=60.0
        )(x)
    )


@pytest.mark.parametrize("axis", ["time", "freq", "sample", "batch"])
def test_constant_slices_give_zero_and_finite_gradients(axis):
    spec = clipped_db_spectrogram()
    floor_frames = np.all(spec == spec.max(axis=(1, 2, 3), keepdims=True) - 60.0, axis=(2, 3))
    assert floor_frames[:, -10:].all()  # the silent tail is constant
    layer = Normalization2D(axis=axis)
    out = to_numpy(layer(spec))
    assert np.all(np.isfinite(out))
    if axis == "time":
        assert np.all(out[floor_frames] == 0.0)
    probe = np.random.default_rng(0).standard_normal(spec.shape).astype("float32")
    grad = input_gradient(layer, spec, probe)
    assert np.all(np.isfinite(grad))


def test_constant_bin_has_finite_gradient_per_freq():
    spec = spectrogram_like("channels_last")
    spec[:, :, 5, :] = -80.0  # one bin stuck at the floor in every frame and channel
    layer = Normalization2D(axis="freq")
    out = to_numpy(layer(spec))
    assert np.all(out[:, :, 5, :] == 0.0)
    grad = input_gradient(layer, spec, np.ones(spec.shape, "float32"))
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize(
    "kwargs,match",
    [(dict(axis="frequency"), "`axis`.*'freq'.*axis='frequency'"), (dict(eps=-1.0), "`eps`")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Normalization2D(**kwargs)


def test_rejects_non_4d():
    with pytest.raises(ValueError, match=r"4-D.*\(2, 10, 16\)"):
        Normalization2D()(np.zeros((2, 10, 16), "float32"))
