"""Bad input, as the contract's last section says: a ValueError (TypeError for dtype) that
names the argument, its value and what is accepted; silence gives finite dB."""

import re

import keras
import numpy as np
import pytest

from audiofront import STFT, Decibel, Filterbank, MelSpectrogram, Spectrogram
from audiofront.testing import assert_raises_naming, to_numpy

CONSTRUCTION_ERRORS = [
    # (layer, kwargs, words the message must contain)
    (STFT, dict(mode="phase"), ["`mode`", "'phase'", "magnitude", "complex"]),
    (STFT, dict(n_fft=256, win_length=512), ["`win_length`", "512", "n_fft=256"]),
    (STFT, dict(hop_length=0), ["`hop_length`", "hop_length=0", "positive integer"]),
    (STFT, dict(hop_length=-3), ["`hop_length`", "hop_length=-3"]),
    (STFT, dict(n_fft=2, win_length=2), ["`hop_length`", "win_length // 4"]),
    (STFT, dict(n_fft=0), ["`n_fft`", "n_fft=0"]),
    (STFT, dict(window="kaiser"), ["`window`", "'kaiser'", "hann"]),
    (STFT, dict(n_fft=256, window=np.ones(100)), ["`window`", "win_length=256", "(100,)"]),
    (STFT, dict(pad_mode="edge"), ["`pad_mode`", "'edge'", "reflect"]),
    (STFT, dict(center="yes"), ["`center`", "'yes'"]),
    (STFT, dict(implementation="cufft"), ["`implementation`", "'cufft'", "fft", "blocked"]),
    (
        STFT,
        dict(data_format="channels_middle"),
        ["`data_format`", "'channels_middle'", "channels_first"],
    ),
    (Spectrogram, dict(power=0.0), ["`power`", "power=0.0"]),
    (Spectrogram, dict(power=3.0, decibel=True), ["`power`", "3.0", "decibel=True"]),
    (Spectrogram, dict(decibel=True, ref=-1.0), ["`ref`", "ref=-1.0", '"max"']),
    (Spectrogram, dict(decibel=True, ref="min"), ["`ref`", "'min'"]),
    (Spectrogram, dict(decibel=True, amin=0.0), ["`amin`", "amin=0.0"]),
    (Spectrogram, dict(decibel=True, top_db=-10.0), ["`top_db`", "top_db=-10.0"]),
    (MelSpectrogram, dict(sample_rate=8000, fmax=5000.0), ["`fmax`", "5000.0", "4000.0"]),
    (
        MelSpectrogram,
        dict(sample_rate=8000, fmin=3000.0, fmax=2000.0),
        ["`fmin`", "3000.0", "2000.0"],
    ),
    (MelSpectrogram, dict(sample_rate=8000, fmin=4000.0), ["`fmin`", "4000.0"]),
    (MelSpectrogram, dict(n_mels=0), ["`n_mels`", "n_mels=0"]),
    (MelSpectrogram, dict(norm="l2"), ["`norm`", "'l2'", "slaney"]),
    (MelSpectrogram, dict(sample_rate=-1), ["`sample_rate`", "-1"]),
    (MelSpectrogram, dict(window="triangle"), ["`window`", "'triangle'"]),
    (Filterbank, dict(kind="bark"), ["`kind`", "'bark'", "mel", "linear", "log", "random"]),
    (Filterbank, dict(sample_rate=8000, fmax=8000.0), ["`fmax`", "8000.0"]),
    (Filterbank, dict(n_filters=-1), ["`n_filters`", "n_filters=-1"]),
    (Decibel, dict(scale="energy"), ["`scale`", "'energy'", "power", "magnitude"]),
    (Decibel, dict(ref=0), ["`ref`", "ref=0"]),
]


@pytest.mark.parametrize(
    "layer,kwargs,words",
    CONSTRUCTION_ERRORS,
    ids=[f"{c[0].__name__}-{'-'.join(c[1])}" for c in CONSTRUCTION_ERRORS],
)
def test_bad_argument_raises_value_error_naming_it(layer, kwargs, words):
    assert_raises_naming(lambda: layer(**kwargs), words)


WAVEFORM_LAYERS = [
    lambda: STFT(n_fft=256),
    lambda: Spectrogram(n_fft=256, decibel=True),
    lambda: MelSpectrogram(sample_rate=8000, n_fft=256, n_mels=20),
]


@pytest.mark.parametrize("make", WAVEFORM_LAYERS)
@pytest.mark.parametrize("shape", [(1000,), (2, 2, 2, 1000)])
def test_wrong_rank_raises(make, shape):
    with pytest.raises(ValueError, match=re.escape(f"Received: inputs with shape {shape}")):
        make()(np.zeros(shape, "float32"))


@pytest.mark.parametrize("make", WAVEFORM_LAYERS)
@pytest.mark.parametrize("dtype", ["int16", "int32", "uint8", "bool"])
def test_integer_input_raises_type_error(make, dtype):
    with pytest.raises(TypeError, match=f"`inputs` must be a floating-point tensor.*{dtype}"):
        make()(np.zeros((2, 1000), dtype))


def test_filterbank_rejects_wrong_rank_and_bins():
    with pytest.raises(ValueError, match=r"4-D spectrogram.*\(2, 10, 257\)"):
        Filterbank(n_fft=512)(np.zeros((2, 10, 257), "float32"))
    with pytest.raises(ValueError, match=r"257 frequency bins.*n_fft=512.*\(2, 10, 129, 1\)"):
        Filterbank(n_fft=512)(np.zeros((2, 10, 129, 1), "float32"))
    with pytest.raises(TypeError, match="int32"):
        Filterbank(n_fft=512)(np.zeros((2, 10, 257, 1), "int32"))


def test_decibel_rejects_batch_only_and_integers():
    with pytest.raises(ValueError, match="batch axis and at least one more"):
        Decibel()(np.ones((4,), "float32"))
    with pytest.raises(TypeError, match="int16"):
        Decibel()(np.ones((4, 3), "int16"))


@pytest.mark.parametrize(
    "make", [lambda: STFT(n_fft=512, center=False), lambda: MelSpectrogram(n_fft=512, center=False)]
)
def test_input_shorter_than_n_fft_without_centering_raises(make):
    with pytest.raises(ValueError, match=r"center=False.*n_fft=512.*300 samples"):
        make()(np.zeros((2, 300), "float32"))
    # Symbolic: caught when the functional model is built.
    with pytest.raises(ValueError, match=r"center=False.*n_fft=512.*300 samples"):
        make()(keras.Input(shape=(300,)))


def test_reflect_padding_needs_more_than_half_a_frame():
    with pytest.raises(ValueError, match=r"pad_mode='reflect'.*256.*200 samples"):
        STFT(n_fft=512, pad_mode="reflect")(np.zeros((1, 200), "float32"))


def test_short_input_with_centering_and_zero_padding_works():
    out = to_numpy(STFT(n_fft=512, hop_length=128)(np.ones((1, 100), "float32")))
    assert out.shape == (1, 1, 257, 1) and np.all(np.isfinite(out))


@pytest.mark.parametrize("power", [1.0, 2.0])
@pytest.mark.parametrize("ref", [1.0, "max"])
@pytest.mark.parametrize("top_db", [80.0, None])
def test_silence_gives_finite_db_at_the_amin_floor(power, ref, top_db):
    silence = np.zeros((2, 4000), "float32")
    out = to_numpy(
        MelSpectrogram(
            sample_rate=8000,
            n_fft=256,
            n_mels=20,
            power=power,
            decibel=True,
            ref=ref,
            top_db=top_db,
        )(silence)
    )
    assert np.all(np.isfinite(out))
    floor = 0.0 if ref == "max" else -100.0  # 10 log10(1e-10) = 20 log10(1e-5)
    np.testing.assert_allclose(out, floor, atol=1e-4)


@pytest.mark.parametrize("path", ["fft", "blocked"])
@pytest.mark.parametrize(
    "make",
    [
        lambda path: STFT(n_fft=256, trainable=True, implementation=path),
        lambda path: Spectrogram(n_fft=256, trainable_kernel=True, implementation=path),
        lambda path: MelSpectrogram(n_fft=256, n_mels=20, trainable_kernel=True,
                                    implementation=path),
    ],
)  # fmt: skip
def test_fft_paths_refuse_a_trainable_kernel(make, path):
    with pytest.raises(ValueError, match=f"`implementation` '{path}' needs a frozen kernel"):
        make(path)(np.zeros((1, 1000), "float32"))
