"""Streaming (``stateful=True``): chunks of ``k * hop_length`` samples through STFT,
Spectrogram, MelSpectrogram and MFCC, and chunks of frames through PCEN, give what librosa
computes on the whole stream (with ``n_fft - hop_length`` zeros in front for the STFT
family), for uneven chunk sizes, after `reset_state`, inside a Keras model, compiled, and
after a ``.keras`` round trip; the arguments a stream cannot honour raise."""

import keras
import librosa
import numpy as np
import pytest
import scipy.fft

from audiofront import MFCC, PCEN, STFT, MelSpectrogram, Spectrogram
from audiofront.testing import assert_linear_close, assert_raises_naming, to_numpy
from conftest import fsdd_batch

SR, N_FFT, HOP = 8000, 256, 64
CHUNKS = (3, 1, 5, 2, 1, 8)  # hops per chunk: uneven
DB = dict(ref=1.0, top_db=None)


def stream_signal(channels=0):
    """Two FSDD recordings, ``sum(CHUNKS) * HOP`` samples; with channels, a second one
    at half level (channels_last)."""
    x = fsdd_batch(sum(CHUNKS) * HOP)[:2]
    return x if not channels else np.stack([x, 0.5 * x[::-1]], axis=-1)


def chunks(x, sizes=CHUNKS, unit=HOP, axis=1):
    """``x`` cut along ``axis`` into consecutive chunks of ``size * unit``."""
    edges = np.cumsum((0,) + tuple(sizes)) * unit
    return [np.take(x, np.arange(a, b), axis=axis) for a, b in zip(edges[:-1], edges[1:])]


def stream(layer, x, sizes=CHUNKS, unit=HOP):
    """The layer's outputs on consecutive chunks, concatenated along time."""
    return np.concatenate([to_numpy(layer(c)) for c in chunks(x, sizes, unit)], axis=1)


# ------------------------------------------------------- librosa on the whole stream


def zero_prefixed(x):
    return np.pad(x.astype(np.float64), ((0, 0), (N_FFT - HOP, 0)))


def librosa_features(name, x):
    """(batch, frames, features) from librosa with center=False on the zero-prefixed stream."""
    y = zero_prefixed(x)
    stft = dict(n_fft=N_FFT, hop_length=HOP, center=False)
    if name == "stft":
        out = np.abs(librosa.stft(y, **stft))
    elif name == "spectrogram-db":
        out = librosa.power_to_db(np.abs(librosa.stft(y, **stft)) ** 2, top_db=None)
    else:
        mel = librosa.feature.melspectrogram(y=y, sr=SR, n_mels=40, **stft)
        if name == "mel":
            out = mel
        else:  # mfcc: librosa's power_to_db (amin 1e-10), then the orthonormal DCT-II
            db = librosa.power_to_db(mel, amin=1e-10, top_db=None)
            out = scipy.fft.dct(db, axis=-2, type=2, norm="ortho")[..., :13, :]
    return np.swapaxes(out, -1, -2)


LAYERS = {
    "stft": lambda **kw: STFT(n_fft=N_FFT, hop_length=HOP, center=False, **kw),
    "spectrogram-db": lambda **kw: Spectrogram(
        n_fft=N_FFT, hop_length=HOP, center=False, decibel=True, **DB, **kw
    ),
    "mel": lambda **kw: MelSpectrogram(
        sample_rate=SR, n_fft=N_FFT, hop_length=HOP, n_mels=40, center=False, **kw
    ),
    "mfcc": lambda **kw: MFCC(
        sample_rate=SR,
        n_mfcc=13,
        n_fft=N_FFT,
        hop_length=HOP,
        n_mels=40,
        center=False,
        **DB,
        **kw,
    ),  # fmt: skip
}


def assert_matches(name, actual, reference):
    if name == "spectrogram-db":  # dB: within 0.01 dB everywhere (no top_db clip here)
        np.testing.assert_allclose(actual, reference, rtol=0, atol=0.01)
    else:
        assert_linear_close(actual, reference)


@pytest.mark.parametrize("implementation", ["conv", "fft"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_chunks_equal_librosa_on_the_zero_prefixed_stream(name, implementation):
    x = stream_signal()
    layer = LAYERS[name](stateful=True, implementation=implementation)
    out = stream(layer, x)
    assert out.shape[1] == sum(CHUNKS)  # k hops give k frames
    assert_matches(name, out[..., 0], librosa_features(name, x))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_stereo_chunks_in_both_layouts(data_format):
    x = stream_signal(channels=2)  # (batch, samples, 2)
    layer = LAYERS["mel"](stateful=True, data_format=data_format)
    first = data_format == "channels_first"
    feed = np.swapaxes(x, 1, 2) if first else x
    outs = [to_numpy(layer(c)) for c in chunks(feed, axis=2 if first else 1)]
    out = np.concatenate(outs, axis=2 if first else 1)
    for channel in range(2):
        got = out[:, channel] if first else out[..., channel]
        assert_linear_close(got, librosa_features("mel", x[..., channel]))


def test_reset_state_starts_the_stream_over():
    x = stream_signal()
    layer = LAYERS["mel"](stateful=True)
    first = stream(layer, x)
    layer.reset_state()
    again = stream(layer, x)
    np.testing.assert_array_equal(again, first)
    # Without a reset the second pass starts from the first pass's last samples.
    assert not np.allclose(stream(layer, x)[:, :2], first[:, :2])


def test_pcen_chunks_of_frames_equal_librosa_on_the_whole():
    x = stream_signal().astype(np.float64)
    mel = librosa.feature.melspectrogram(y=x, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=40,
                                         power=1.0)[..., : sum(CHUNKS)] * 2.0**31  # fmt: skip
    reference = np.swapaxes(librosa.pcen(mel, sr=SR, hop_length=HOP, axis=-1), 1, 2)
    S = np.swapaxes(mel, 1, 2)[..., None].astype(np.float32)  # (batch, frames, mels, 1)
    layer = PCEN(sample_rate=SR, hop_length=HOP, stateful=True)
    assert_linear_close(stream(layer, S, unit=1)[..., 0], reference)
    layer.reset_state()
    again = stream(layer, S, sizes=(4, 4, 4, 3, 2, 2, 1), unit=1)
    assert_linear_close(again[..., 0], reference)


def streaming_model():
    inputs = keras.Input(batch_shape=(2, None))
    mel = LAYERS["mel"](stateful=True)(inputs)
    pcen = PCEN(sample_rate=SR, hop_length=HOP, stateful=True)(mel * 2.0**31)
    return keras.Model(inputs, pcen)


def whole_stream_model():
    inputs = keras.Input(shape=(None,))
    mel = LAYERS["mel"]()(inputs)
    return keras.Model(inputs, PCEN(sample_rate=SR, hop_length=HOP)(mel * 2.0**31))


def test_model_predict_on_chunks_equals_the_whole_stream():
    """A Keras model of stateful layers run by predict_on_batch (compiled the backend's
    way) chunk by chunk equals the non-stateful model on the zero-prefixed stream."""
    x = stream_signal()
    model = streaming_model()
    out = np.concatenate(
        [to_numpy(model.predict_on_batch(c)) for c in chunks(x)], axis=1
    )  # fmt: skip
    reference = to_numpy(whole_stream_model()(zero_prefixed(x).astype(np.float32)))
    assert_linear_close(out, reference)


def test_compiled_chunks_equal_eager_and_keras_round_trip_keeps_the_stream(tmp_path):
    """``compile(jit_compile=True)`` (jax.jit, XLA, torch.compile) streams as the eager
    calls do; a model saved mid-stream comes back with its kept samples and smoother."""
    parts = chunks(stream_signal(), sizes=(2, 2, 2, 2))
    eager, compiled = streaming_model(), streaming_model()
    compiled.set_weights(eager.get_weights())
    compiled.compile(jit_compile=True)
    for part in parts[:2]:
        assert_linear_close(to_numpy(compiled.predict_on_batch(part)), to_numpy(eager(part)))
    eager.save(tmp_path / "stream.keras")
    loaded = keras.saving.load_model(tmp_path / "stream.keras")
    for part in parts[2:]:
        np.testing.assert_allclose(to_numpy(loaded(part)), to_numpy(eager(part)), rtol=1e-6)


@pytest.mark.parametrize(
    "make,words",
    [
        (lambda: STFT(stateful=True), ["`stateful=True`", "center=False"]),
        (
            lambda: MelSpectrogram(
                center=False, stateful=True, decibel=True, top_db=None, ref="max"
            ),
            ["top_db=None", "ref='max'"],
        ),  # fmt: skip
        (lambda: Spectrogram(center=False, stateful=True, decibel=True), ["top_db=80.0"]),
        (lambda: MFCC(center=False, stateful=True), ["top_db=None", "top_db=80.0"]),
        (lambda: STFT(center=False, stateful="yes"), ["`stateful`"]),
    ],
)
def test_arguments_a_stream_cannot_honour_raise(make, words):
    assert_raises_naming(make, words)


def test_bad_chunks_and_unknown_batch_raise():
    layer = LAYERS["stft"](stateful=True)
    assert_raises_naming(lambda: layer(np.zeros((2, 100), "float32")), ["k * hop_length", "100"])
    assert_raises_naming(
        lambda: LAYERS["stft"](stateful=True)(keras.Input(shape=(HOP,))), ["fixed batch size"]
    )
    assert_raises_naming(
        lambda: PCEN(stateful=True)(keras.Input(shape=(10, 40, 1))), ["fixed batch size"]
    )
    # Mel dB streams with a number ref and no clip, MFCC too.
    MelSpectrogram(center=False, stateful=True, decibel=True, top_db=None)
    MFCC(center=False, stateful=True, top_db=None, ref=0.5)
