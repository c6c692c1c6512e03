"""Compiled equals eager: jax.jit, tf.function(jit_compile=True), torch.compile, and fit/predict
with jit_compile=True. Also: repeated calls with one shape compile once."""

import keras
import numpy as np
import pytest

from audiofront import STFT, Decibel, Filterbank, MelSpectrogram, Spectrogram
from conftest import fsdd_batch, to_numpy

BACKEND = keras.backend.backend()


def compiled(fn):
    """The backend's compiler: jax.jit, tf.function(jit_compile=True) or torch.compile."""
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    import torch

    return torch.compile(fn)


def trace_count(fn):
    """How many times ``fn`` (from `compiled`) has been traced or compiled so far."""
    if BACKEND == "jax":
        return fn._cache_size()
    if BACKEND == "tensorflow":
        return fn.experimental_get_tracing_count()
    import torch._dynamo

    return torch._dynamo.utils.counters["stats"]["unique_graphs"]


LAYERS = {
    "stft_complex": (
        lambda: STFT(n_fft=256, hop_length=100, mode="complex", pad_mode="reflect"),
        "wave",
    ),
    "spectrogram_db": (
        lambda: Spectrogram(n_fft=512, hop_length=128, power=1.0, decibel=True, ref="max"),
        "wave",
    ),
    "mel_db_trainable": (
        lambda: MelSpectrogram(
            sample_rate=8000,
            n_fft=400,
            hop_length=160,
            n_mels=40,
            decibel=True,
            trainable_kernel=True,
            trainable_filterbank=True,
        ),
        "wave",
    ),
    "mel_nocenter_stereo": (
        lambda: MelSpectrogram(
            sample_rate=8000, n_fft=256, center=False, n_mels=32, data_format="channels_first"
        ),
        "stereo",
    ),
    "mel_db_fft": (
        lambda: MelSpectrogram(
            sample_rate=8000,
            n_fft=400,
            hop_length=160,
            n_mels=40,
            decibel=True,
            implementation="fft",
        ),
        "wave",
    ),
    "stft_conv_reflect": (
        lambda: STFT(n_fft=256, hop_length=100, pad_mode="reflect", implementation="conv"),
        "wave",
    ),
    "filterbank": (
        lambda: Filterbank(kind="linear", n_filters=24, sample_rate=8000, n_fft=512),
        "spectra",
    ),
    "decibel": (lambda: Decibel(ref="max", top_db=60.0), "spectra"),
}


def data(kind, seed=0):
    if kind == "wave":
        x = fsdd_batch(length=4000)
    elif kind == "stereo":
        x = fsdd_batch(length=4000).reshape(2, 2, 4000)
    else:
        x = np.abs(np.random.default_rng(seed).standard_normal((2, 9, 257, 1))).astype("float32")
    return x * (1.0 + seed)


@pytest.mark.parametrize("name", LAYERS)
def test_compiled_call_equals_eager(name):
    make, kind = LAYERS[name]
    layer = make()
    x = data(kind)
    eager = to_numpy(layer(x))
    fast = to_numpy(compiled(layer)(keras.ops.convert_to_tensor(x)))
    for e, f in zip(
        eager if isinstance(eager, tuple) else (eager,),
        fast if isinstance(fast, tuple) else (fast,),
    ):
        np.testing.assert_allclose(f, e, rtol=1e-5, atol=1e-5 * np.abs(e).max())


@pytest.mark.parametrize(
    "name", ["stft_complex", "mel_db_trainable", "mel_nocenter_stereo", "mel_db_fft"]
)
def test_repeated_calls_compile_once(name):
    """New data of the same shape must not trigger a new trace or a recompilation."""
    make, kind = LAYERS[name]
    layer = make()
    fn = compiled(layer)
    fn(keras.ops.convert_to_tensor(data(kind, 0)))
    before = trace_count(fn)
    for seed in (1, 2, 3):
        fn(keras.ops.convert_to_tensor(data(kind, seed)))
    assert trace_count(fn) == before


@pytest.mark.skipif(BACKEND != "torch", reason="graph breaks are a torch.compile notion")
@pytest.mark.parametrize("name", LAYERS)
def test_no_graph_breaks_under_torch_compile(name):
    """A graph break splits the model into frames whose shapes dynamo then treats as
    dynamic; keras.ops.max did that, and inductor then failed inside Keras's fit."""
    import torch._dynamo

    make, kind = LAYERS[name]
    layer = make()
    x = keras.ops.convert_to_tensor(data(kind))
    layer(x)
    explanation = torch._dynamo.explain(layer)(x)
    assert explanation.graph_break_count == 0, [b.reason for b in explanation.break_reasons]


def small_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(4000,)),
            MelSpectrogram(
                sample_rate=8000,
                n_fft=256,
                hop_length=128,
                n_mels=24,
                decibel=True,
                trainable_kernel=True,
                trainable_filterbank=True,
            ),
            keras.layers.LayerNormalization(axis=(1, 2, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )


@pytest.mark.slow
def test_fit_and_predict_with_jit_compile_equal_eager():
    x, y = fsdd_batch(length=4000), np.array([1, 0, 1, 1])
    results = {}
    for jit in (False, True):
        model = small_model()
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
