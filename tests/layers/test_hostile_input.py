"""Hostile inputs: each has one documented behaviour, the same on every backend.

References are librosa (float64) wherever librosa accepts the input; where it refuses
(non-finite samples) the frames that cannot see the bad sample are compared with librosa on
the same signal with that sample zeroed. The README's "Reliability" section lists what
each input does.
"""

import warnings

import keras
import librosa
import numpy as np
import pytest

from audiofront import (
    STFT,
    AdditiveNoise,
    Decibel,
    MelSpectrogram,
    Normalization2D,
    SpecAugment,
    Spectrogram,
)
from audiofront.testing import assert_db_close, assert_linear_close, to_numpy
from conftest import fsdd_batch

SR, N_FFT, HOP, N_MELS = 8000, 256, 64, 32
IMPLEMENTATIONS = pytest.mark.parametrize("implementation", ["conv", "fft"])


def mel_layer(implementation="auto", **kwargs):
    return MelSpectrogram(
        sample_rate=SR,
        n_fft=N_FFT,
        hop_length=HOP,
        n_mels=N_MELS,
        implementation=implementation,
        **kwargs,
    )


def librosa_mel(batch, decibel=False, **kwargs):
    with warnings.catch_warnings():  # inputs shorter than n_fft warn in librosa
        warnings.filterwarnings("ignore", message="n_fft=.* is too large")
        mel = np.stack(
            [
                librosa.feature.melspectrogram(
                    y=np.asarray(y, np.float64),
                    sr=SR,
                    n_fft=N_FFT,
                    hop_length=HOP,
                    n_mels=N_MELS,
                    **kwargs,
                ).T
                for y in batch
            ]
        )
    return np.stack([librosa.power_to_db(m) for m in mel]) if decibel else mel


def speech(batch=2, length=4000):
    return fsdd_batch(length=length)[:batch]


# -- non-finite samples ------------------------------------------------------------


def frames_touching(sample, n_fft=N_FFT, hop=HOP, center=True):
    """The frames whose n_fft-long span covers ``sample`` (index in the unpadded input)."""
    position = sample + (n_fft // 2 if center else 0)
    first = max(0, -(-(position - n_fft + 1) // hop))
    return np.arange(first, position // hop + 1)


@IMPLEMENTATIONS
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_sample_poisons_only_the_frames_that_see_it(implementation, bad):
    x = speech()
    at = 1500
    clean = x.copy()
    clean[0, at] = 0.0
    x[0, at] = bad
    out = to_numpy(mel_layer(implementation)(x))[..., 0]
    touched = frames_touching(at)
    assert len(touched) == N_FFT // HOP
    # Those frames are NaN (inf * 0 and inf - inf in the transform), never finite numbers.
    assert np.all(np.isnan(out[0, touched]))
    untouched = np.setdiff1d(np.arange(out.shape[1]), touched)
    reference = librosa_mel(clean)
    assert_linear_close(out[0, untouched], reference[0, untouched])
    assert_linear_close(out[1], reference[1])  # the rest of the batch is unaffected


@pytest.mark.parametrize("ref,top_db", [(1.0, 80.0), ("max", None)])
def test_non_finite_sample_in_db_spoils_its_whole_example_only(ref, top_db):
    """The dB floor and ref="max" use the example's maximum, which is then NaN."""
    x = speech()
    x[0, 1500] = np.nan
    out = to_numpy(mel_layer(decibel=True, ref=ref, top_db=top_db)(x))[..., 0]
    assert np.all(np.isnan(out[0]))
    mel = librosa_mel(x[1:])
    reference = librosa.power_to_db(mel[0], ref=np.max if ref == "max" else ref, top_db=top_db)
    assert_db_close(out[1:], reference[None], top_db)


def test_non_finite_values_in_the_other_layers():
    spectra = np.abs(np.random.default_rng(0).standard_normal((2, 10, 8, 1))).astype("float32")
    spectra[0, 3, 5, 0] = np.nan
    # Normalization2D: only the statistics that include the NaN (bin 5 of example 0).
    out = to_numpy(Normalization2D(axis="freq")(spectra))
    assert np.all(np.isnan(out[0, :, 5])) and np.isfinite(np.delete(out[0], 5, axis=1)).all()
    assert np.isfinite(out[1]).all()
    # Decibel with top_db: the example's maximum is NaN, so is all of that example.
    db = to_numpy(Decibel()(spectra))
    assert np.isnan(db[0]).all() and np.isfinite(db[1]).all()
    # SpecAugment replaces masked values whatever they are and leaves others alone.
    masked = to_numpy(
        SpecAugment(freq_mask_param=8, time_mask_param=10, seed=0)(spectra, training=True)
    )
    kept = (masked == spectra) | (np.isnan(masked) & np.isnan(spectra))
    assert np.all(masked[~kept] == 0.0) and (~kept).any()
    assert np.isnan(masked[0, 3, 5, 0]) or masked[0, 3, 5, 0] == 0.0
    # AdditiveNoise with snr_db: the example's signal power is NaN, so is its noise.
    wave = speech()
    wave[0, 10] = np.nan
    noisy = to_numpy(AdditiveNoise(snr_db=10.0, seed=0)(wave, training=True))
    assert np.isnan(noisy[0]).all() and np.isfinite(noisy[1]).all()


# -- levels -------------------------------------------------------------------------


def square_wave(level, length=4000, frequency=440.0):
    t = np.arange(length) / SR
    return (level * np.sign(np.sin(2 * np.pi * frequency * t + 0.1)))[None].astype("float32")


@IMPLEMENTATIONS
@pytest.mark.parametrize("level", [1.0, 32768.0, 1e6, 1e12])
def test_full_scale_and_far_above_full_scale_match_librosa(implementation, level):
    """Linear outputs scale with the input; dB outputs shift by 20 log10(level)."""
    x = np.concatenate([square_wave(level), level * speech(1)])
    out = to_numpy(mel_layer(implementation)(x))[..., 0]
    for a, r in zip(out, librosa_mel(x)):
        assert_linear_close(a, r)
    db = to_numpy(mel_layer(implementation, decibel=True)(x))[..., 0]
    assert_db_close(db, librosa_mel(x, decibel=True), top_db=80.0)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_float32_overflow_gives_non_finite_values_not_wrong_numbers(power):
    """Past ~1e19 / sum(window) the float32 power spectrum overflows: inf or NaN, never a
    finite wrong value. A float64 layer (dtype="float64", outside JAX's default) or a
    rescaled input avoids it."""
    x = square_wave(1e30)
    out = to_numpy(Spectrogram(n_fft=N_FFT, hop_length=HOP, power=power)(x))
    assert not np.isfinite(out).all()
    finite = np.isfinite(out)
    # Whatever stays finite is right (the bins the overflow did not reach).
    if power == 1.0:
        reference = np.abs(librosa.stft(x[0].astype(np.float64), n_fft=N_FFT, hop_length=HOP)).T
        np.testing.assert_allclose(
            out[0, ..., 0][finite[0, ..., 0]], reference[finite[0, ..., 0]], rtol=1e-4
        )


# -- special signals ------------------------------------------------------------------


@IMPLEMENTATIONS
@pytest.mark.parametrize("kind", ["dc", "impulse", "silence"])
def test_dc_impulse_and_silence_match_librosa(implementation, kind):
    x = np.zeros((2, 3000), "float32")
    if kind == "dc":
        x[0], x[1] = 0.5, -1.0
    elif kind == "impulse":
        x[0, 1234], x[1, 0] = 1.0, -1.0
    out = to_numpy(mel_layer(implementation)(x))[..., 0]
    reference = librosa_mel(x)
    if kind == "silence":
        assert np.all(out == 0.0)  # exactly zero, not rounding noise
        return
    for a, r in zip(out, reference):
        assert_linear_close(a, r)
    db = to_numpy(mel_layer(implementation, decibel=True)(x))[..., 0]
    assert_db_close(db, librosa_mel(x, decibel=True), top_db=80.0)


@IMPLEMENTATIONS
@pytest.mark.parametrize("power", [1.0, 0.5])
def test_silence_is_exactly_zero_for_any_power(implementation, power):
    out = to_numpy(mel_layer(implementation, power=power)(np.zeros((2, 3000), "float32")))
    assert np.all(out == 0.0)  # not the root of a floor (it was 1e-15 for power=1)


def test_normalization_of_silent_db_spectrogram_is_zero_and_finite():
    db = mel_layer(decibel=True)(np.zeros((2, 3000), "float32"))
    out = to_numpy(Normalization2D(axis="freq")(db))
    assert np.all(out == 0.0)


@pytest.mark.parametrize("length", [1, 2, 100, N_FFT - 1])
def test_centred_input_shorter_than_n_fft_matches_librosa(length):
    x = speech(2, 4000)[:, 1000 : 1000 + length]
    out = to_numpy(mel_layer()(x))[..., 0]
    assert out.shape[1] == 1 + length // HOP
    for a, r in zip(out, librosa_mel(x)):
        assert_linear_close(a, r)


# -- batch sizes ------------------------------------------------------------------------


def test_batch_of_one_and_of_256_match_librosa():
    rng = np.random.default_rng(0)
    base = speech(4, 2000)
    batch = (base[rng.integers(0, 4, 256)] * rng.uniform(0.01, 2.0, (256, 1))).astype("float32")
    layer = mel_layer()
    out = to_numpy(layer(batch))[..., 0]
    assert out.shape[0] == 256
    reference = librosa_mel(batch)
    for a, r in zip(out, reference):
        assert_linear_close(a, r)
    single = to_numpy(layer(batch[17:18]))[..., 0]
    assert_linear_close(single[0], reference[17])


# -- dtypes and memory layouts --------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "float64"])
@pytest.mark.parametrize("make", ["numpy", "tensor"])
def test_numpy_and_tensor_inputs_of_other_float_dtypes(dtype, make):
    """Computed in float32 from the value the layer receives; float32 out."""
    x = speech().astype(dtype)
    if make == "tensor" and dtype == "float64" and keras.backend.backend() == "jax":
        pytest.skip("JAX has no float64 tensors without jax_enable_x64 (numpy input is tested)")
    x = keras.ops.convert_to_tensor(x, dtype) if make == "tensor" else x
    out = to_numpy(mel_layer()(x))
    assert out.dtype == np.float32
    received = np.asarray(keras.ops.convert_to_numpy(x), np.float32)
    for a, r in zip(out[..., 0], librosa_mel(received)):
        assert_linear_close(a, r)


def test_bfloat16_tensor_input():
    x = keras.ops.cast(speech(), "bfloat16")
    out = to_numpy(mel_layer()(x))
    assert out.dtype == np.float32
    received = to_numpy(keras.ops.cast(x, "float32"))
    for a, r in zip(out[..., 0], librosa_mel(received)):
        assert_linear_close(a, r)


NON_CONTIGUOUS = {
    "fortran-order": lambda x: np.asfortranarray(x),
    "every-other-sample": lambda x: np.repeat(x, 2, axis=1)[:, ::2],
    "reversed-twice": lambda x: x[::-1, ::-1][::-1, ::-1],
    "reversed-time": lambda x: x[:, ::-1],
    "read-only": lambda x: _read_only(x),
}


def _read_only(x):
    x = x.copy()
    x.flags.writeable = False
    return x


@pytest.mark.parametrize("view", list(NON_CONTIGUOUS))
def test_non_contiguous_numpy_views(view):
    x = speech()
    y = NON_CONTIGUOUS[view](x)
    assert view == "read-only" or not y.flags.c_contiguous or view == "reversed-twice"
    out = to_numpy(mel_layer()(y))[..., 0]
    for a, r in zip(out, librosa_mel(np.ascontiguousarray(y))):
        assert_linear_close(a, r)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_transposed_multichannel_view(data_format):
    """A (batch, samples, channels) view of a (batch, channels, samples) array, and back."""
    stereo = np.stack([speech(), 0.5 * speech()[:, ::-1]], axis=1)  # (2, 2, samples)
    x = np.transpose(stereo, (0, 2, 1)) if data_format == "channels_last" else stereo
    x = np.transpose(np.transpose(x, (0, 2, 1)), (0, 2, 1))  # a strided view either way
    out = to_numpy(mel_layer(data_format=data_format)(x))
    if data_format == "channels_last":
        out = np.transpose(out, (0, 3, 1, 2))
    for example, channels in zip(out, stereo):
        for a, y in zip(example, channels):
            assert_linear_close(a, librosa_mel(y[None])[0])


@pytest.mark.parametrize("dtype", ["int16", "int32", "uint8", "bool", "complex64"])
def test_non_float_numpy_arrays_raise_type_error(dtype):
    x = (speech() * 1000).astype(dtype)
    with pytest.raises(TypeError, match="`inputs` must be a floating-point tensor"):
        mel_layer()(x)
    with pytest.raises(TypeError, match="`inputs` must be a floating-point tensor"):
        STFT(n_fft=N_FFT)(x)
