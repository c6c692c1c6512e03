"""get_config / from_config and .keras round trips, on the current backend.

The cross-backend round trip (save under one backend, load under the others) is in
test_cross_backend.py.
"""

import json

import keras
import numpy as np
import pytest

import audiofront
from audiofront import (
    STFT,
    AdditiveNoise,
    Decibel,
    Filterbank,
    MelSpectrogram,
    Normalization2D,
    SpecAugment,
    Spectrogram,
)
from conftest import fsdd_batch, to_numpy

CONFIGS = {
    "noise_snr_range": lambda: AdditiveNoise(noise="pink", snr_db=(5.0, 25.0), seed=1),
    "stft": lambda: STFT(
        n_fft=400,
        hop_length=133,
        win_length=300,
        window="hamming",
        center=False,
        mode="power",
        trainable=True,
    ),
    "stft_complex": lambda: STFT(
        n_fft=256, pad_mode="reflect", mode="complex", data_format="channels_first"
    ),
    "stft_array_window": lambda: STFT(n_fft=256, hop_length=64, window=np.kaiser(256, 8.0)),
    "spectrogram": lambda: Spectrogram(
        n_fft=512,
        hop_length=160,
        power=1.0,
        decibel=True,
        ref="max",
        top_db=None,
        trainable_kernel=True,
    ),
    "mel": lambda: MelSpectrogram(
        sample_rate=8000,
        n_fft=512,
        hop_length=128,
        n_mels=40,
        fmin=50.0,
        fmax=3500.0,
        htk=True,
        norm=None,
        decibel=True,
        ref=0.5,
        amin=1e-8,
        top_db=60.0,
        trainable_kernel=True,
        trainable_filterbank=True,
    ),
}
SPECTRAL_CONFIGS = {
    "normalization": lambda: Normalization2D(axis="time", eps=1e-6, data_format="channels_first"),
    "spec_augment": lambda: SpecAugment(
        freq_mask_param=10,
        time_mask_param=4,
        n_freq_masks=2,
        n_time_masks=3,
        mask_value=-80.0,
        seed=3,
    ),
    "noise_on_spectra": lambda: AdditiveNoise(
        power=0.2, noise="brown", random_gain=True, seed=2, axis=2
    ),
    "filterbank_log": lambda: Filterbank(
        kind="log", n_filters=30, sample_rate=8000, n_fft=512, fmin=40.0, norm=2.0, trainable=True
    ),
    "filterbank_random": lambda: Filterbank(kind="random", n_filters=16, n_fft=512, seed=5),
    "decibel": lambda: Decibel(scale="magnitude", ref="max", amin=1e-4, top_db=50.0),
}


def waves():
    return fsdd_batch(length=3000)


def spectra():
    return np.abs(np.random.default_rng(0).standard_normal((2, 12, 257, 1))).astype("float32")


def all_configs():
    return [(name, make, waves) for name, make in CONFIGS.items()] + [
        (name, make, spectra) for name, make in SPECTRAL_CONFIGS.items()
    ]


@pytest.mark.parametrize("name,make,data", all_configs(), ids=[c[0] for c in all_configs()])
def test_config_round_trip(name, make, data):
    layer = make()
    config = layer.get_config()
    json.dumps(config)  # parameters only, never arrays
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    x = data()
    np.testing.assert_array_equal(np.asarray(to_numpy(layer(x))), np.asarray(to_numpy(clone(x))))


@pytest.mark.parametrize("name,make,data", all_configs(), ids=[c[0] for c in all_configs()])
def test_keras_file_round_trip_keeps_trained_weights(name, make, data, tmp_path):
    x = data()
    layer = make()
    inputs = keras.Input(shape=x.shape[1:])
    outputs = layer(inputs)
    model = keras.Model(inputs, outputs)
    # Stand-in for training: perturb every weight so that defaults cannot pass for loaded ones.
    rng = np.random.default_rng(1)
    for w in model.weights:
        value = to_numpy(w)
        w.assign(np.abs(value * (1 + 0.1 * rng.standard_normal(value.shape))).astype(value.dtype))
    expected = to_numpy(model(x))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert [w.name for w in loaded.weights] == [w.name for w in model.weights]
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
        assert a.trainable == b.trainable
    np.testing.assert_array_equal(np.asarray(to_numpy(loaded(x))), np.asarray(expected))


def test_layers_registered_under_audiofront_package():
    for cls in (
        STFT,
        Filterbank,
        Decibel,
        Spectrogram,
        MelSpectrogram,
        Normalization2D,
        AdditiveNoise,
        SpecAugment,
    ):
        assert keras.saving.get_registered_name(cls) == f"audiofront>{cls.__name__}"
        assert getattr(audiofront.layers, cls.__name__) is cls
