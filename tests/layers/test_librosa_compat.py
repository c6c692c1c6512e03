"""Parity with librosa, over a grid of configurations, on real speech and synthetic signals.

References are librosa on the float64 copy of the float32 input; the bounds are the
contract's: linear outputs within 1e-4 * max|ref|, dB within 0.01 dB above the floor.
"""

import itertools

import librosa
import numpy as np
import pytest

from audiofront import STFT, MelSpectrogram, Spectrogram, filters
from audiofront.testing import assert_db_close, assert_linear_close, to_numpy
from conftest import block_frames, fsdd_batch, synthetic_batch

N_FFTS = (256, 400, 512, 1024, 2048)
# The three STFT paths meet the same bounds: the strided conv, keras.ops.rfft, and the rfft
# one block of frames at a time (7 frames per block here, so that every case spans blocks).
IMPLEMENTATIONS = pytest.mark.parametrize("implementation", ["conv", "fft", "blocked"])


@pytest.fixture(autouse=True)
def _small_blocks():
    with block_frames(7):
        yield


def hops(n_fft):
    """n_fft // 4, n_fft // 2, and n_fft // 3, which never divides these n_fft."""
    return (n_fft // 4, n_fft // 2, n_fft // 3)


def librosa_batch(fn, batch, **kwargs):
    """Applies a librosa function item by item (float64) and stacks ``(batch, frames, ...)``."""
    return np.stack([fn(y=y.astype(np.float64), **kwargs).T for y in batch])


def mono(x):
    return x[..., 0]


STFT_GRID = [
    pytest.param(
        n_fft,
        hop,
        center,
        pad_mode,
        marks=[pytest.mark.slow]
        if (n_fft, hop) not in {(512, 128), (400, 200), (2048, 682)}
        else [],
        id=f"n{n_fft}-h{hop}-{'center-' + pad_mode if center else 'nocenter'}",
    )
    for n_fft in N_FFTS
    for hop in hops(n_fft)
    for center, pad_mode in ((True, "constant"), (True, "reflect"), (False, "constant"))
]


@pytest.mark.parametrize("n_fft,hop_length,center,pad_mode", STFT_GRID)
@IMPLEMENTATIONS
def test_stft_complex_matches_librosa_on_speech(
    implementation, n_fft, hop_length, center, pad_mode
):
    batch = fsdd_batch()
    layer = STFT(
        n_fft=n_fft,
        hop_length=hop_length,
        center=center,
        pad_mode=pad_mode,
        mode="complex",
        implementation=implementation,
    )
    real, imag = to_numpy(layer(batch))
    reference = librosa_batch(
        librosa.stft, batch, n_fft=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode
    )
    assert_linear_close(mono(real), reference.real)
    assert_linear_close(mono(imag), reference.imag)


ARRAY_WINDOW = "array"  # a Tukey window, given as numbers


def window_argument(name, win_length):
    if name == ARRAY_WINDOW:
        import scipy.signal

        return scipy.signal.get_window(("tukey", 0.3), win_length, fftbins=True)
    return name


@pytest.mark.parametrize("n_fft", N_FFTS)
@pytest.mark.parametrize("window", ["hann", "hamming", "blackman", ARRAY_WINDOW])
@pytest.mark.parametrize("mode", ["magnitude", "power"])
@IMPLEMENTATIONS
def test_stft_short_windows_match_librosa(implementation, n_fft, window, mode):
    """win_length < n_fft: the window is centred in the frame, as librosa does."""
    batch = synthetic_batch(length=6000)
    win_length = 3 * n_fft // 4
    hop_length = win_length // 4
    win = window_argument(window, win_length)
    layer = STFT(
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=win,
        mode=mode,
        implementation=implementation,
    )
    reference = np.abs(
        librosa_batch(
            librosa.stft,
            batch,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=win,
        )
    )
    assert_linear_close(mono(to_numpy(layer(batch))), reference ** (2 if mode == "power" else 1))


@pytest.mark.parametrize("window", ["hann", "hamming", "blackman", "rectangular", ARRAY_WINDOW])
@pytest.mark.parametrize("power", [1.0, 2.0])
@IMPLEMENTATIONS
def test_spectrogram_windows_and_powers(implementation, window, power):
    batch = fsdd_batch()
    n_fft, hop_length = 512, 128
    win = window_argument(window, n_fft)
    layer = Spectrogram(
        n_fft=n_fft, hop_length=hop_length, window=win, power=power, implementation=implementation
    )
    reference = (
        np.abs(
            librosa_batch(
                librosa.stft,
                batch,
                n_fft=n_fft,
                hop_length=hop_length,
                window=win if window != "rectangular" else "boxcar",
            )
        )
        ** power
    )
    assert_linear_close(mono(to_numpy(layer(batch))), reference)


def db_reference(spectra, power, ref, amin, top_db):
    convert = librosa.power_to_db if power == 2.0 else librosa.amplitude_to_db
    kwargs = {"ref": np.max if ref == "max" else ref, "top_db": top_db}
    if amin is not None:
        kwargs["amin"] = amin
    return np.stack([convert(s, **kwargs) for s in spectra])


DB_GRID = list(itertools.product([1.0, 2.0], [1.0, 0.5, "max"], [80.0, 40.0, None]))


@pytest.mark.parametrize("power,ref,top_db", DB_GRID)
@IMPLEMENTATIONS
def test_spectrogram_decibel_matches_librosa(implementation, power, ref, top_db):
    batch = fsdd_batch()
    batch[1] *= 0.01  # a quiet example next to loud ones: statistics are per example
    kwargs = dict(n_fft=512, hop_length=128)
    layer = Spectrogram(
        **kwargs, power=power, decibel=True, ref=ref, top_db=top_db, implementation=implementation
    )
    spectra = np.abs(librosa_batch(librosa.stft, batch, **kwargs)) ** power
    reference = db_reference(spectra, power, ref, None, top_db)
    assert_db_close(mono(to_numpy(layer(batch))), reference, top_db)


MEL_GRID = [
    # (sample_rate, n_fft, hop, n_mels, fmin, fmax, htk, norm, signal)
    (8000, 512, 128, 40, 0.0, None, False, "slaney", "speech"),
    (8000, 1024, 256, 64, 20.0, 3800.0, False, "slaney", "speech"),
    (8000, 2048, 682, 128, 0.0, None, False, "slaney", "speech"),
    (8000, 400, 133, 40, 0.0, None, True, "slaney", "speech"),
    (8000, 512, 256, 32, 300.0, 3400.0, True, None, "speech"),
    (8000, 1024, 341, 48, 0.0, 4000.0, False, 2.0, "speech"),
    (16000, 512, 160, 64, 0.0, None, False, "slaney", "synthetic"),
    (16000, 400, 100, 80, 50.0, 7600.0, True, "slaney", "synthetic"),
    (16000, 2048, 512, 128, 0.0, None, False, None, "synthetic"),
    (22050, 2048, 512, 128, 0.0, None, False, "slaney", "synthetic"),
    (22050, 256, 85, 24, 0.0, None, False, 1.0, "synthetic"),
]


def signal(kind, sample_rate):
    if kind == "speech":
        return fsdd_batch()
    return synthetic_batch(length=sample_rate // 2, sample_rate=sample_rate)


@pytest.mark.parametrize("power", [1.0, 2.0])
@pytest.mark.parametrize("sample_rate,n_fft,hop_length,n_mels,fmin,fmax,htk,norm,kind", MEL_GRID)
@IMPLEMENTATIONS
def test_melspectrogram_matches_librosa(
    implementation, sample_rate, n_fft, hop_length, n_mels, fmin, fmax, htk, norm, kind, power
):
    batch = signal(kind, sample_rate)
    mel = dict(n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    layer = MelSpectrogram(
        sample_rate=sample_rate,
        n_fft=n_fft,
        hop_length=hop_length,
        power=power,
        implementation=implementation,
        **mel,
    )
    reference = librosa_batch(
        librosa.feature.melspectrogram,
        batch,
        sr=sample_rate,
        n_fft=n_fft,
        hop_length=hop_length,
        power=power,
        **mel,
    )
    assert_linear_close(mono(to_numpy(layer(batch))), reference)


@pytest.mark.parametrize(
    "center,pad_mode", [(True, "constant"), (True, "reflect"), (False, "constant")]
)
@pytest.mark.parametrize(
    "power,ref,top_db", [(2.0, 1.0, 80.0), (2.0, "max", None), (1.0, "max", 80.0), (1.0, 0.1, None)]
)
@IMPLEMENTATIONS
def test_melspectrogram_decibel_matches_librosa(
    implementation, center, pad_mode, power, ref, top_db
):
    batch = fsdd_batch()
    batch[2] *= 0.05
    kwargs = dict(
        sr=8000, n_fft=512, hop_length=128, n_mels=40, center=center, pad_mode=pad_mode, power=power
    )
    layer = MelSpectrogram(
        sample_rate=8000,
        n_fft=512,
        hop_length=128,
        n_mels=40,
        center=center,
        pad_mode=pad_mode,
        power=power,
        decibel=True,
        implementation=implementation,
        ref=ref,
        top_db=top_db,
    )
    mel = librosa_batch(librosa.feature.melspectrogram, batch, **kwargs)
    reference = db_reference(mel, power, ref, None, top_db)
    assert_db_close(mono(to_numpy(layer(batch))), reference, top_db)


def test_melspectrogram_custom_amin():
    batch = fsdd_batch()
    layer = MelSpectrogram(
        sample_rate=8000, n_fft=512, hop_length=128, n_mels=40, decibel=True, amin=1e-6, top_db=None
    )
    mel = librosa_batch(
        librosa.feature.melspectrogram, batch, sr=8000, n_fft=512, hop_length=128, n_mels=40
    )
    assert_db_close(mono(to_numpy(layer(batch))), db_reference(mel, 2.0, 1.0, 1e-6, None), None)


def test_filterbank_matches_librosa_mel_transposed():
    from audiofront import Filterbank

    layer = Filterbank(n_filters=40, sample_rate=8000, n_fft=512)
    layer.build((None, None, 257, 1))
    expected = librosa.filters.mel(sr=8000, n_fft=512, n_mels=40)
    np.testing.assert_allclose(to_numpy(layer.filterbank), expected.T, atol=1e-7)
    np.testing.assert_allclose(filters.mel_filterbank(8000, 512, 40), expected, atol=1e-6)
