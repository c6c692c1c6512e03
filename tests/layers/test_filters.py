"""audiofront.filters: numpy builders against librosa, scipy and a naive DFT oracle."""

import warnings

import librosa
import numpy as np
import pytest
import scipy.signal

from audiofront import filters


@pytest.mark.parametrize("sample_rate", [8000, 16000, 22050, 44100])
@pytest.mark.parametrize("n_fft", [256, 512, 2048])
@pytest.mark.parametrize("n_mels", [40, 128])
@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm", ["slaney", None, 1.0, 2.0, np.inf])
def test_mel_filterbank_equals_librosa(sample_rate, n_fft, n_mels, htk, norm):
    for fmin, fmax in ((0.0, None), (50.0, None), (20.0, sample_rate / 4)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # both warn alike on empty filters
            ours = filters.mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax, htk, norm)
            theirs = librosa.filters.mel(
                sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm
            )
        assert ours.shape == theirs.shape == (n_mels, n_fft // 2 + 1)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_mel_filterbank_warns_on_empty_filters_like_librosa():
    with pytest.warns(UserWarning, match="Empty filters"):
        filters.mel_filterbank(8000, 64, n_mels=128)
    with pytest.warns(UserWarning, match="Empty filters"):
        librosa.filters.mel(sr=8000, n_fft=64, n_mels=128)


@pytest.mark.parametrize("htk", [False, True])
def test_mel_scale_round_trip_and_librosa(htk):
    hz = np.array([0.0, 60.0, 440.0, 999.0, 1000.0, 1001.0, 4000.0, 11025.0])
    np.testing.assert_allclose(
        filters.hz_to_mel(hz, htk=htk), librosa.hz_to_mel(hz, htk=htk), rtol=1e-12
    )
    np.testing.assert_allclose(
        filters.mel_to_hz(filters.hz_to_mel(hz, htk=htk), htk=htk), hz, atol=1e-9
    )


@pytest.mark.parametrize("window", ["hann", "hamming", "blackman", "rectangular"])
@pytest.mark.parametrize("win_length", [1, 2, 7, 400, 512, 2048])
def test_windows_equal_scipy_periodic(window, win_length):
    expected = scipy.signal.get_window(
        "boxcar" if window == "rectangular" else window, win_length, fftbins=True
    )
    np.testing.assert_allclose(filters.get_window(window, win_length), expected, atol=1e-12)


def test_array_window_is_used_as_given():
    w = np.linspace(0, 1, 16)
    np.testing.assert_array_equal(filters.get_window(w, 16), w)
    with pytest.raises(ValueError, match="win_length=8"):
        filters.get_window(w, 8)
    with pytest.raises(ValueError, match="window='kaiser'"):
        filters.get_window("kaiser", 8)


@pytest.mark.parametrize(
    "n_fft,win_length", [(256, 256), (400, 400), (512, 300), (1024, 1000), (2048, 1536)]
)
@pytest.mark.parametrize("window", ["hann", "blackman"])
def test_dft_kernels_equal_naive_rfft_of_windowed_frame(n_fft, win_length, window):
    rng = np.random.default_rng(n_fft)
    frames = rng.standard_normal((5, n_fft))
    padded = librosa.util.pad_center(scipy.signal.get_window(window, win_length), size=n_fft)
    spectrum = np.fft.rfft(frames * padded, axis=-1)
    kernels = filters.dft_kernels(n_fft, win_length, window)
    bins = n_fft // 2 + 1
    assert kernels.shape == (n_fft, 2 * bins)
    np.testing.assert_allclose(frames @ kernels[:, :bins], spectrum.real, atol=1e-9)
    np.testing.assert_allclose(frames @ kernels[:, bins:], spectrum.imag, atol=1e-9)


@pytest.mark.parametrize("kind", ["linear", "log"])
def test_linear_and_log_filterbanks_place_peaks_on_their_scale(kind):
    sample_rate, n_fft, n = 16000, 4096, 20
    fb = filters.filterbank(
        kind, sample_rate=sample_rate, n_fft=n_fft, n_filters=n, fmin=100.0, fmax=6000.0, norm=None
    )
    assert fb.shape == (n, n_fft // 2 + 1)
    assert fb.min() >= 0 and np.allclose(fb.max(axis=1), 1.0, atol=0.05)
    peaks = filters.fft_frequencies(sample_rate, n_fft)[fb.argmax(axis=1)]
    steps = np.diff(peaks) if kind == "linear" else np.diff(np.log(peaks))
    np.testing.assert_allclose(steps, steps.mean(), rtol=0.15)


def test_log_filterbank_default_fmin_starts_at_first_bin():
    fb = filters.log_filterbank(16000, 8192, n_filters=12)
    freqs = filters.fft_frequencies(16000, 8192)
    assert fb[:, freqs <= 16000 / 8192].sum() == 0 and fb[0].max() > 0


@pytest.mark.parametrize("kind", ["mel", "linear", "log"])
def test_slaney_norm_gives_constant_area(kind):
    # Area in Hz of each triangle is 1 under slaney's normalisation (width / 2 * 2 / width).
    sample_rate, n_fft = 16000, 8192
    fb = filters.filterbank(kind, sample_rate=sample_rate, n_fft=n_fft, n_filters=16, fmin=200.0)
    area = fb.sum(axis=1) * sample_rate / n_fft
    np.testing.assert_allclose(area, 1.0, rtol=0.02)


def test_random_filterbank_is_seeded_and_non_negative():
    a = filters.random_filterbank(512, 32, seed=3)
    np.testing.assert_array_equal(a, filters.random_filterbank(512, 32, seed=3))
    assert not np.array_equal(a, filters.random_filterbank(512, 32, seed=4))
    assert a.shape == (32, 257) and a.min() >= 0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(kind="bark"), "`kind`"),
        (dict(fmax=9000.0), "`fmax`"),
        (dict(fmin=5000.0, fmax=4000.0), "`fmin`"),
        (dict(fmin=-1.0), "`fmin`"),
        (dict(n_filters=0), "`n_filters`"),
        (dict(n_fft=0), "`n_fft`"),
        (dict(sample_rate=0), "`sample_rate`"),
        (dict(norm="l2"), "`norm`"),
    ],
)
def test_filterbank_errors_name_the_argument(kwargs, match):
    args = dict(kind="mel", sample_rate=16000, n_fft=512, n_filters=40)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        filters.filterbank(**args)


def test_dft_kernel_errors():
    with pytest.raises(ValueError, match="win_length"):
        filters.dft_kernels(256, 512)
    with pytest.raises(ValueError, match="n_fft"):
        filters.dft_kernels(0)
