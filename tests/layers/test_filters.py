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


def _with_an_empty_filter():
    weights = filters.mel_filterbank(16000, 256, 12, fmin=300.0)
    weights[4] = 0.0
    return weights


@pytest.mark.parametrize(
    "weights",
    [
        pytest.param(lambda: filters.mel_filterbank(32000, 512, 128), id="mel-128"),
        pytest.param(lambda: filters.mel_filterbank(8000, 400, 40, htk=True), id="mel-htk"),
        pytest.param(lambda: filters.log_filterbank(16000, 1024, 48), id="log"),
        pytest.param(lambda: filters.random_filterbank(64, 10, seed=1), id="random-dense"),
        pytest.param(_with_an_empty_filter, id="empty-filter"),
    ],
)
@pytest.mark.parametrize("cost", [0, 64, 1024])
def test_band_groups_skip_only_zeros_and_cost_least(weights, cost):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 128-band mel filterbank has empty filters
        weights = weights()
    runs = filters.band_groups(weights, cost)
    # The runs cover the filters in order, and every non-zero weight lies in its run's bins.
    assert [f for run in runs for f in run[:2]][1:-1:2] == [f for run in runs for f in run[:2]][
        2::2
    ]
    assert runs[0][0] == 0 and runs[-1][1] == weights.shape[0]
    for f0, f1, b0, b1 in runs:
        outside = weights[f0:f1].copy()
        outside[:, b0:b1] = 0
        assert not outside.any() and 0 <= b0 < b1 <= weights.shape[1]
    # So the run-by-run product is the dense one.
    spectrum = np.random.default_rng(0).random((3, weights.shape[1]))
    runs_product = np.concatenate(
        [spectrum[:, b0:b1] @ weights[f0:f1, b0:b1].T for f0, f1, b0, b1 in runs], axis=1
    )
    np.testing.assert_allclose(runs_product, spectrum @ weights.T, rtol=1e-12, atol=1e-12)
    # Least cost, against every split of the first ten filters into runs.
    head = weights[:10]

    def cost_of(split):
        total = 0
        for f0, f1 in zip(split[:-1], split[1:]):
            cols = np.flatnonzero(head[f0:f1].any(axis=0))
            width = cols[-1] + 1 - cols[0] if cols.size else 1
            total += width * (f1 - f0) + cost
        return total

    count = head.shape[0]
    best = min(
        cost_of([0, *[i for i in range(1, count) if mask >> (i - 1) & 1], count])
        for mask in range(2 ** (count - 1))
    )
    head_runs = filters.band_groups(head, cost)
    assert cost_of([0, *[run[1] for run in head_runs]]) == best


def test_band_groups_dense_is_one_run_and_errors_name_the_argument():
    dense = filters.random_filterbank(128, 16, seed=0)
    assert filters.band_groups(dense) == ((0, 16, 0, 65),)
    with pytest.raises(ValueError, match="`weights`"):
        filters.band_groups(np.ones(8))
    with pytest.raises(ValueError, match="`cost_per_group`"):
        filters.band_groups(dense, cost_per_group=-1)
