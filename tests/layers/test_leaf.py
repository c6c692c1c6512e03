"""LEAF: the layer at initialisation against a float64 numpy transcription of speechbrain's
``Leaf`` (which the torch session checks against speechbrain itself), training (every
learnable part moves and stays in range), long and hostile input, and argument errors."""

import math

import keras
import librosa
import numpy as np
import pytest

import audiofront
import speechbrain_ref
from audiofront.testing import to_numpy
from conftest import fsdd_batch, synthetic_batch

LEAF = audiofront.LEAF


# -- the reference: speechbrain 1.1.2's Leaf, transcribed to numpy float64 ---------------


def _same_pad(x, kernel_size):
    """speechbrain's (and leaf-audio's) padding: k // 2 + k % 2 - 1 before, k // 2 after."""
    k = kernel_size
    return np.pad(x, [(0, 0)] * (x.ndim - 2) + [(k // 2 + k % 2 - 1, k // 2), (0, 0)])


def _mel_gabor_init(n_filters, sample_rate, min_freq, max_freq, n_fft=512):
    """GaborConv1d._gabor_params_from_mels (in float32 as torch), over torchaudio's
    melscale_fbanks (librosa's HTK mel without norm, as the test stand-in)."""
    bank = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_filters, fmin=min_freq, fmax=max_freq, htk=True,
        norm=None,
    ).astype(np.float32)  # fmt: skip
    root = np.sqrt(bank)
    fwhms = np.sum(root >= root.max(axis=1, keepdims=True) / np.float32(2), axis=1)
    centers = np.argmax(root, axis=1) * 2 * np.pi / n_fft
    sigmas = math.sqrt(2 * math.log(2)) * n_fft / (np.pi * fwhms)
    return centers.astype(np.float32).astype(np.float64), sigmas.astype(np.float32)


def leaf_reference(
    x, n_filters=40, sample_rate=16000, window_len=25.0, window_stride=10.0, min_freq=60.0,
    max_freq=None, compression="pcen",
):  # fmt: skip
    """speechbrain's ``Leaf(...)(x)`` at initialisation, ``(batch, frames, n_filters)``."""
    x = np.asarray(x, np.float64)
    k = int(sample_rate * window_len // 1000 + 1)
    stride = int(sample_rate * window_stride // 1000)
    max_freq = sample_rate / 2 if max_freq is None else max_freq
    mu, sigma = _mel_gabor_init(n_filters, sample_rate, min_freq, max_freq)
    sigma = sigma.astype(np.float64)
    # GaborConv1d: complex Gabor impulse responses, cross-correlation with "same" padding.
    t = np.arange(-(k // 2), (k + 1) // 2, dtype=np.float64)[:, None]
    h = np.exp(-(t**2) / (2 * sigma**2)) / (np.sqrt(2 * np.pi) * sigma) * np.exp(1j * mu * t)
    frames = np.lib.stride_tricks.sliding_window_view(_same_pad(x[..., None], k)[..., 0], k, -1)
    energies = np.abs(frames @ h) ** 2  # the squared modulus, (batch, samples, n_filters)
    # GaussianLowpassPooling: width 0.4, bias 1, stride, "same" padding.
    u = (np.arange(k) - 0.5 * (k - 1)) / (0.5 * (k - 1))
    window = np.exp(-0.5 * (u / 0.4) ** 2)
    windows = np.lib.stride_tricks.sliding_window_view(_same_pad(energies, k), k, 1)
    pooled = np.einsum("btnk,k->btn", windows[:, ::stride], window) + 1.0
    pooled = np.maximum(pooled, 1e-5)
    if compression == "log":
        return np.log(pooled)
    if compression is None:
        return pooled
    # PCEN(alpha=0.96, smooth_coef=0.04, delta=2, root=2, floor=1e-12), per band.
    smoothed = np.empty_like(pooled)
    state = pooled[:, 0]
    for i in range(pooled.shape[1]):
        state = 0.04 * pooled[:, i] + 0.96 * state
        smoothed[:, i] = state
    return (pooled / (1e-12 + smoothed) ** 0.96 + 2.0) ** 0.5 - 2.0**0.5


# (layer arguments, input): the layer's defaults first, then the other lengths and ranges.
SETTINGS = {
    "default-16k": dict(max_freq=8000.0),
    "log-8k": dict(n_filters=20, sample_rate=8000, max_freq=4000.0, compression="log"),
    "none-8k-short": dict(
        n_filters=12, sample_rate=8000, window_len=20.0, window_stride=7.5, min_freq=100.0,
        max_freq=3500.0, compression=None,
    ),
    "pcen-even-taps": dict(
        n_filters=16, sample_rate=8000, window_len=12.625, window_stride=5.0, min_freq=30.0,
        max_freq=3000.0,
    ),
    "pcen-22k": dict(n_filters=24, sample_rate=22050, window_len=30.0, window_stride=12.0,
                     max_freq=11025.0),
}  # fmt: skip
# The same shape for both (JAX compiles each op per shape, eagerly).
INPUTS = {"fsdd": lambda: fsdd_batch(length=4003)[:3], "synthetic": lambda: synthetic_batch(4003)}


@pytest.mark.parametrize("source", list(INPUTS))
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_matches_speechbrain_transcription_at_initialisation(setting, source):
    kwargs, x = SETTINGS[setting], INPUTS[source]()
    reference = leaf_reference(x, **kwargs)
    out = to_numpy(LEAF(**kwargs)(x))
    assert out.shape == (*reference.shape, 1)
    error = np.abs(out[..., 0] - reference).max()
    assert error <= 1e-4 * np.abs(reference).max(), (error, np.abs(reference).max())


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_transcription_equals_speechbrain(setting):
    kwargs = dict(SETTINGS[setting])
    compression = kwargs.pop("compression", "pcen")
    args = dict(out_channels=kwargs.pop("n_filters", 40), in_channels=1, **kwargs)
    x = synthetic_batch(4003)
    expected = speechbrain_ref.run("Leaf", dict(use_pcen=compression == "pcen", **args), x)
    expected = expected["output"].astype(np.float64)
    if compression == "log":  # speechbrain has no log compression: its floored output, logged
        expected = np.log(expected)
    reference = leaf_reference(x, **SETTINGS[setting])
    error = np.abs(expected - reference).max()
    assert expected.shape == reference.shape
    assert error <= 1e-5 * np.abs(reference).max(), error


def test_channels_and_layouts():
    x = synthetic_batch(2000, 8000)
    kwargs = dict(n_filters=6, sample_rate=8000, max_freq=4000.0, compression="log")
    mono = to_numpy(LEAF(**kwargs)(x))
    last = to_numpy(LEAF(**kwargs)(np.stack([x, x[::-1]], axis=-1)))
    first = to_numpy(LEAF(data_format="channels_first", **kwargs)(np.stack([x, x[::-1]], 1)))
    np.testing.assert_allclose(last[..., :1], mono, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.moveaxis(first, 1, -1), last, rtol=1e-5, atol=1e-6)


# -- training: every learnable part moves, stays finite and in range ---------------------


def _bounds(layer):
    taps = int(layer.sample_rate * layer.window_len // 1000 + 1)
    unit = math.sqrt(2 * math.log(2)) / math.pi
    return {
        "center_frequencies": (0.0, math.pi),
        "bandwidths": (4 * unit, taps * unit),
        "pooling_widths": (2 / taps, 0.5),
        "pooling_bias": (-np.inf, np.inf),
        "pcen_gain": (0.0, 1.0),
        "pcen_bias": (1e-6, np.inf),
        "pcen_root": (1.0, np.inf),
        "pcen_smoothing": (1e-6, 1.0),
    }


def test_fit_moves_every_parameter_within_range():
    leaf = LEAF(n_filters=4, sample_rate=8000, window_len=10.0, window_stride=5.0, max_freq=4000.0)
    inputs = keras.Input((2000,))
    features = keras.layers.GlobalAveragePooling2D()(leaf(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(features))
    # A large step, so that some parameters run into their bounds.
    model.compile(optimizer=keras.optimizers.Adam(0.3), loss="mse")
    x = fsdd_batch(length=2000)
    y = np.random.default_rng(0).standard_normal((len(x), 2)).astype("float32") * 10
    before = {w.path.split("/")[-1]: to_numpy(w).copy() for w in leaf.weights}
    assert len(leaf.trainable_weights) == len(before) == 8
    model.fit(x, y, batch_size=len(x), epochs=4, verbose=0)
    bounds = _bounds(leaf)
    for w in leaf.weights:
        name, value = w.path.split("/")[-1], to_numpy(w)
        assert np.all(np.isfinite(value)), name
        assert np.any(value != before[name]), f"{name} did not move"
        low, high = bounds[name]
        assert np.all((value >= low) & (value <= high)), (name, value, (low, high))
    assert np.all(np.isfinite(to_numpy(model(x))))


# -- hostile and long input ---------------------------------------------------------------


def _extreme(layer):
    """Sets every weight to a bound of its range: the smoother at its slowest, no pooling
    bias (silence then reaches the 1e-5 floor), the widest and narrowest filters."""
    bounds = _bounds(layer)
    for w in layer.weights:
        name = w.path.split("/")[-1]
        low, high = bounds[name]
        value = {"pooling_bias": 0.0, "pcen_bias": 1e-6, "pcen_root": 1.0}.get(name, low)
        if name in ("bandwidths", "pcen_gain"):
            value = high
        w.assign(np.full(w.shape, value, "float32"))


@pytest.mark.parametrize("weights", ["initial", "extreme"])
@pytest.mark.parametrize("compression", ["pcen", "log"])
def test_finite_on_silence_and_full_scale_noise(compression, weights):
    rng = np.random.default_rng(0)
    x = np.stack(
        [np.zeros(16000), rng.choice([-1.0, 1.0], 16000), rng.uniform(-1, 1, 16000)]
    ).astype("float32")
    layer = LEAF(n_filters=8, compression=compression)
    layer.build(x.shape)
    if weights == "extreme":
        _extreme(layer)
    out = to_numpy(layer(x))
    assert out.shape == (3, 100, 8, 1)
    assert np.all(np.isfinite(out))


@pytest.mark.slow
def test_finite_on_ten_minutes():
    """Ten minutes of 16 kHz audio: five of full-scale noise, then five of silence."""
    half = 5 * 60 * 16000
    x = np.concatenate([np.random.default_rng(0).uniform(-1, 1, half), np.zeros(half)])
    layer = LEAF(n_filters=8)
    out = to_numpy(layer(x[None].astype("float32")))
    assert out.shape == (1, 60000, 8, 1)
    assert np.all(np.isfinite(out))
    _extreme(layer)
    assert np.all(np.isfinite(to_numpy(layer(x[None].astype("float32")))))


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_filters=0), "n_filters"),
        (dict(n_filters=2.5), "n_filters"),
        (dict(sample_rate=0), "sample_rate"),
        (dict(window_len=-1.0), "window_len"),
        (dict(window_len=0.05), "window_len"),
        (dict(window_stride=0.0), "window_stride"),
        (dict(window_stride=0.01), "window_stride"),
        (dict(min_freq=-1.0), "min_freq"),
        (dict(min_freq=8000.0), "min_freq"),
        (dict(max_freq=9000.0), "max_freq"),
        (dict(sample_rate=8000), "max_freq"),
        (dict(compression="sqrt"), "compression"),
        (dict(data_format="channels_middle"), "data_format"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        LEAF(**kwargs)


def test_bad_input_raises():
    layer = LEAF(n_filters=4)
    with pytest.raises(ValueError, match="`inputs` must be 2-D"):
        layer(np.zeros((1, 2, 3, 400), "float32"))
    with pytest.raises(TypeError, match="floating-point"):
        LEAF(n_filters=4)(np.zeros((1, 400), "int32"))


def test_unknown_length_model_equals_the_layer():
    """A model with an unknown input length (TensorFlow then runs the smoother's scan as a
    while loop: its per-band decay once broadcast wrongly there) equals the layer, compiled."""
    x = fsdd_batch(4000)[:2]
    layer = audiofront.LEAF(sample_rate=8000, n_filters=8, max_freq=3900.0)
    inputs = keras.Input(shape=(None,))
    model = keras.Model(inputs, layer(inputs))
    model.compile(jit_compile=False)
    np.testing.assert_allclose(
        model.predict_on_batch(x),
        to_numpy(layer(x)),
        rtol=1e-5,
        atol=1e-5 * np.abs(to_numpy(layer(x))).max(),
    )
