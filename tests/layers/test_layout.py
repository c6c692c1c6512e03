"""Layouts and consistency: mono, channels_last / channels_first, batches, variable length."""

import keras
import numpy as np
import pytest

from audiofront import STFT, Decibel, Filterbank, MelSpectrogram, Spectrogram
from audiofront.testing import to_numpy
from conftest import fsdd_batch

WAVEFORM_LAYERS = {
    "stft": lambda **kw: STFT(n_fft=256, hop_length=100, **kw),
    "stft_complex": lambda **kw: STFT(
        n_fft=256, hop_length=64, mode="complex", pad_mode="reflect", **kw
    ),
    "stft_nocenter": lambda **kw: STFT(n_fft=400, hop_length=160, center=False, mode="power", **kw),
    "spectrogram_db": lambda **kw: Spectrogram(
        n_fft=512, hop_length=128, power=1.0, decibel=True, ref="max", **kw
    ),
    "mel_db": lambda **kw: MelSpectrogram(
        sample_rate=8000, n_fft=512, hop_length=160, n_mels=40, decibel=True, **kw
    ),
}


def as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def frames_for(layer, samples):
    if layer.center:
        return 1 + (samples + 2 * (layer.n_fft // 2) - layer.n_fft) // layer._hop_length
    return 1 + (samples - layer.n_fft) // layer._hop_length


@pytest.mark.parametrize("name", WAVEFORM_LAYERS)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_mono_input_gives_4d_with_one_channel(name, data_format):
    x = fsdd_batch(length=3001)
    layer = WAVEFORM_LAYERS[name](data_format=data_format)
    outputs = as_tuple(to_numpy(layer(x)))
    bins = layer.n_mels if name == "mel_db" else layer.n_fft // 2 + 1
    frames = frames_for(layer, 3001)
    expected = (4, frames, bins, 1) if data_format == "channels_last" else (4, 1, frames, bins)
    for out in outputs:
        assert out.shape == expected
    shapes = layer.compute_output_shape((4, 3001))
    assert (shapes if isinstance(shapes[0], tuple) else (shapes,))[0] == expected


# dB with ref="max" or top_db takes its statistics over all channels of an example (see
# the next test), so channel independence is checked with a fixed ref and no clipping.
CHANNEL_INDEPENDENT = {
    **{k: v for k, v in WAVEFORM_LAYERS.items() if not k.endswith("_db")},
    "spectrogram_db_fixed": lambda **kw: Spectrogram(
        n_fft=512, hop_length=128, power=1.0, decibel=True, ref=0.5, top_db=None, **kw
    ),
    "mel_db_fixed": lambda **kw: MelSpectrogram(
        sample_rate=8000, n_fft=512, hop_length=160, n_mels=40, decibel=True, top_db=None, **kw
    ),
}


def channel(x, c, data_format):
    return x[..., c] if data_format == "channels_last" else x[:, c]


@pytest.mark.parametrize("name", CHANNEL_INDEPENDENT)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_each_channel_equals_that_channel_alone(name, data_format):
    x = fsdd_batch(length=4000)
    waves = np.stack([x[:2], x[2:] * 0.1], axis=-1)  # (2, samples, 2 channels)
    if data_format == "channels_first":
        waves = np.transpose(waves, (0, 2, 1))
    layer = CHANNEL_INDEPENDENT[name](data_format=data_format)
    together = as_tuple(to_numpy(layer(waves)))
    for c in range(2):
        alone = as_tuple(to_numpy(layer(channel(waves, c, data_format))))
        for t, a in zip(together, alone):
            single = channel(a, 0, data_format)
            np.testing.assert_allclose(
                channel(t, c, data_format), single, rtol=1e-5, atol=1e-5 * np.abs(single).max()
            )


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_multichannel_db_statistics_span_channels(data_format):
    """dB with top_db clips at the example's max over all channels, not per channel."""
    x = fsdd_batch(length=4000)
    stereo = np.stack([x[:2], 1e-3 * x[2:]], axis=1)  # (2, 2 channels, samples), one quiet
    if data_format == "channels_last":
        stereo = np.transpose(stereo, (0, 2, 1))
    db = to_numpy(
        MelSpectrogram(
            sample_rate=8000,
            n_fft=512,
            n_mels=40,
            decibel=True,
            top_db=30.0,
            data_format=data_format,
        )(stereo)
    )
    linear = to_numpy(
        MelSpectrogram(sample_rate=8000, n_fft=512, n_mels=40, data_format=data_format)(stereo)
    )
    for example in range(2):
        expected = np.maximum(
            10 * np.log10(np.maximum(linear[example], 1e-10)),
            10 * np.log10(linear[example].max()) - 30.0,
        )
        np.testing.assert_allclose(db[example], expected, atol=1e-3)


@pytest.mark.parametrize("name", WAVEFORM_LAYERS)
def test_batch_equals_items_one_by_one(name):
    x = fsdd_batch(length=5000)
    x[1] *= 0.01
    layer = WAVEFORM_LAYERS[name]()
    batch = as_tuple(to_numpy(layer(x)))
    for i in range(len(x)):
        single = as_tuple(to_numpy(layer(x[i : i + 1])))
        for b, s in zip(batch, single):
            np.testing.assert_allclose(b[i : i + 1], s, rtol=1e-5, atol=1e-5 * np.abs(b).max())


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_filterbank_and_decibel_on_4d(data_format):
    rng = np.random.default_rng(0)
    spectra = rng.uniform(0, 1, (2, 7, 257, 3)).astype("float32")
    if data_format == "channels_first":
        spectra = np.transpose(spectra, (0, 3, 1, 2))
    fb = Filterbank(n_filters=20, sample_rate=16000, n_fft=512, data_format=data_format)
    out = to_numpy(fb(spectra))
    weights = to_numpy(fb.filterbank)
    if data_format == "channels_last":
        expected = np.einsum("btfc,fm->btmc", spectra, weights)
    else:
        expected = spectra @ weights
    assert out.shape == fb.compute_output_shape(spectra.shape)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    db = to_numpy(Decibel(ref="max", top_db=None)(out))
    np.testing.assert_allclose(
        db, 10 * np.log10(out / out.max(axis=(1, 2, 3), keepdims=True)), atol=1e-4
    )


@pytest.mark.parametrize("name", ["stft", "stft_nocenter", "mel_db"])
def test_variable_length_functional_model(name):
    inputs = keras.Input(shape=(None,))
    layer = WAVEFORM_LAYERS[name]()
    outputs = layer(inputs)
    assert outputs.shape[1] is None
    model = keras.Model(inputs, outputs)
    for samples in (3000, 4321):
        x = fsdd_batch(length=samples)
        predicted = model.predict(x, verbose=0)
        direct = to_numpy(layer(x))
        assert predicted.shape == direct.shape
        assert predicted.shape[1] == frames_for(layer, samples)
        np.testing.assert_allclose(predicted, direct, rtol=1e-5, atol=1e-4 * np.abs(direct).max())


def test_variable_length_multichannel_functional_model():
    inputs = keras.Input(shape=(2, None))
    layer = MelSpectrogram(
        sample_rate=8000, n_fft=256, hop_length=80, n_mels=32, data_format="channels_first"
    )
    model = keras.Model(inputs, layer(inputs))
    x = fsdd_batch(length=2500).reshape(2, 2, 2500)
    out = model.predict(x, verbose=0)
    assert out.shape == (2, 2, 1 + 2500 // 80, 32)
    np.testing.assert_allclose(out, to_numpy(layer(x)), rtol=1e-5, atol=1e-5 * np.abs(out).max())
