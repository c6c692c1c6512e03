"""Trainable kernels and filterbanks: the named weights exist, fit moves them, they stay sane;
fit and predict with jit_compile=True equal eager."""

import keras
import numpy as np
import pytest

from audiofront import (
    MFCC,
    PCEN,
    STFT,
    Delta,
    Filterbank,
    InverseSTFT,
    MelSpectrogram,
    Spectrogram,
    filters,
)
from audiofront.testing import to_numpy
from conftest import fsdd_batch


def weight_names(weights):
    return sorted(w.name for w in weights)


@pytest.mark.parametrize(
    "factory,trainable,non_trainable",
    [
        (lambda: STFT(n_fft=256), [], ["kernel"]),
        (lambda: STFT(n_fft=256, trainable=True), ["kernel"], []),
        (lambda: Spectrogram(n_fft=256), [], ["kernel"]),
        (lambda: Spectrogram(n_fft=256, trainable_kernel=True), ["kernel"], []),
        (
            lambda: MelSpectrogram(sample_rate=8000, n_fft=256, n_mels=20),
            [],
            ["filterbank", "kernel"],
        ),
        (
            lambda: MelSpectrogram(sample_rate=8000, n_fft=256, n_mels=20, trainable_kernel=True),
            ["kernel"],
            ["filterbank"],
        ),
        (
            lambda: MelSpectrogram(
                sample_rate=8000, n_fft=256, n_mels=20, trainable_filterbank=True
            ),
            ["filterbank"],
            ["kernel"],
        ),
        (
            lambda: MelSpectrogram(
                sample_rate=8000,
                n_fft=256,
                n_mels=20,
                trainable_kernel=True,
                trainable_filterbank=True,
            ),
            ["filterbank", "kernel"],
            [],
        ),
    ],
)
def test_trainable_flags_create_named_weights(factory, trainable, non_trainable):
    layer = factory()
    layer.build((None, 1000))
    assert weight_names(layer.trainable_weights) == trainable
    assert weight_names(layer.non_trainable_weights) == non_trainable
    assert tuple(layer.kernel.shape) == (256, 1, 2 * 129)
    np.testing.assert_allclose(to_numpy(layer.kernel)[:, 0, :], filters.dft_kernels(256), atol=1e-6)
    if hasattr(layer, "filterbank"):
        assert tuple(layer.filterbank.shape) == (129, 20)


def labelled_batch():
    x = fsdd_batch(length=4000)
    y = np.array([7, 0, 3, 9]) % 2
    return x, y


def classifier(front_end):
    return keras.Sequential(
        [
            keras.Input(shape=(4000,)),
            front_end,
            # Standardise, so that dB values (tens) do not saturate the softmax.
            keras.layers.LayerNormalization(axis=(1, 2, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


@pytest.mark.parametrize("decibel", [True, False])
def test_fit_moves_trainable_weights_and_stays_finite(decibel):
    keras.utils.set_random_seed(0)
    front_end = MelSpectrogram(
        sample_rate=8000,
        n_fft=256,
        hop_length=128,
        n_mels=24,
        decibel=decibel,
        trainable_kernel=True,
        trainable_filterbank=True,
    )
    model = classifier(front_end)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    kernel0, fb0 = to_numpy(front_end.kernel).copy(), to_numpy(front_end.filterbank).copy()
    x, y = labelled_batch()
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    kernel1, fb1 = to_numpy(front_end.kernel), to_numpy(front_end.filterbank)
    assert np.all(np.isfinite(history.history["loss"]))
    assert np.all(np.isfinite(kernel1)) and np.all(np.isfinite(fb1))
    assert np.abs(kernel1 - kernel0).max() > 1e-4
    assert np.abs(fb1 - fb0).max() > 1e-5
    assert fb1.min() >= 0.0
    assert np.all(np.isfinite(model.predict(x, verbose=0)))


class _MeanOutput(keras.losses.Loss):
    """Loss = mean of the prediction: its gradient pushes every filter weight down."""

    def call(self, y_true, y_pred):
        return keras.ops.mean(y_pred, axis=tuple(range(1, len(y_pred.shape))))


@pytest.mark.parametrize("make", ["mel", "filterbank"])
def test_trainable_filterbank_stays_non_negative_and_db_finite(make):
    x, _ = labelled_batch()
    if make == "mel":
        front_end = MelSpectrogram(
            sample_rate=8000, n_fft=256, hop_length=128, n_mels=24, trainable_filterbank=True
        )
        model = keras.Sequential([keras.Input((4000,)), front_end])
    else:
        front_end = Filterbank(n_filters=24, sample_rate=8000, n_fft=256, trainable=True)
        model = keras.Sequential(
            [keras.Input((4000,)), Spectrogram(n_fft=256, hop_length=128), front_end]
        )
    model.compile(optimizer=keras.optimizers.SGD(1e3), loss=_MeanOutput())
    model.fit(x, np.zeros(len(x)), epochs=2, batch_size=4, verbose=0)
    fb = to_numpy(front_end.filterbank)
    # The step is large enough to drive weights far below zero; the constraint clips them.
    assert fb.min() == 0.0 and (fb == 0).mean() > 0.5
    db = to_numpy(keras.ops.log10(keras.ops.maximum(model(x), 1e-10)))
    assert np.all(np.isfinite(db))


def front_end(name, x):
    """The front-end of `small_model`, trainable wherever it can be: the mel spectrogram, or
    one model with every transform (MFCC + deltas, PCEN, STFT -> InverseSTFT -> mel)."""
    mel = dict(sample_rate=8000, n_fft=256, hop_length=128, n_mels=24)
    if name == "mel":
        return MelSpectrogram(
            **mel, decibel=True, trainable_kernel=True, trainable_filterbank=True
        )(x)
    mfcc = MFCC(**mel, n_mfcc=12, trainable_kernel=True, trainable_filterbank=True)(x)
    power = MelSpectrogram(**mel, power=1.0, trainable_filterbank=True)(x)
    pcen = PCEN(sample_rate=8000, hop_length=128, trainable=True)(power * 2.0**31)
    real, imag = STFT(n_fft=256, hop_length=64, mode="complex")(x)
    waves = InverseSTFT(n_fft=256, hop_length=64, length=4000, trainable=True)([real, imag])
    resynthesised = MelSpectrogram(**mel, decibel=True)(waves[..., 0])
    return keras.layers.Concatenate(axis=2)([mfcc, Delta(width=5)(mfcc), pcen, resynthesised])


def small_model(name="mel"):
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(4000,))
    h = keras.layers.LayerNormalization(axis=(1, 2, 3))(front_end(name, inputs))
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(h)))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mel", "transforms"])
def test_fit_and_predict_with_jit_compile_equal_eager(name):
    x, y = fsdd_batch(length=4000), np.array([1, 0, 1, 1])
    results = {}
    for jit in (False, True):
        model = small_model(name)
        model.compile(
            optimizer=keras.optimizers.SGD(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit,
        )
        before = model.predict(x, verbose=0)
        history = model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
        results[jit] = (before, history.history["loss"], [to_numpy(w) for w in model.weights])
    (b0, l0, w0), (b1, l1, w1) = results[False], results[True]
    np.testing.assert_allclose(b1, b0, rtol=1e-5, atol=1e-5 * np.abs(b0).max())
    assert np.all(np.isfinite(l1))
    np.testing.assert_allclose(l1, l0, rtol=1e-4)
    for a, b in zip(w1, w0):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())
