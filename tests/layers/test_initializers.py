"""The serializable initializers: the arrays they build, their configs, shape checks."""

import keras
import librosa
import numpy as np
import pytest
import scipy.signal

from audiofront.initializers import DFTKernel, FilterbankMatrix
from audiofront.testing import to_numpy


@pytest.mark.parametrize("n_fft,win_length,window", [(64, None, "hann"), (100, 60, "hamming")])
def test_dft_kernel_is_the_windowed_rfft_of_each_sample(n_fft, win_length, window):
    kernel = to_numpy(DFTKernel(n_fft, win_length, window)((n_fft, 1, 2 * (n_fft // 2 + 1))))
    win = scipy.signal.get_window(window, win_length or n_fft, fftbins=True)
    full = np.zeros(n_fft)
    offset = (n_fft - len(win)) // 2
    full[offset : offset + len(win)] = win
    frame = np.random.default_rng(0).standard_normal(n_fft)
    spectrum = np.fft.rfft(frame * full)
    out = frame @ kernel[:, 0, :]
    np.testing.assert_allclose(out, np.concatenate([spectrum.real, spectrum.imag]), atol=1e-5)


def test_filterbank_matrix_is_librosa_mel_transposed():
    init = FilterbankMatrix("mel", sample_rate=16000, n_fft=512, n_filters=40, fmax=7000.0)
    expected = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40, fmax=7000.0).T
    np.testing.assert_allclose(to_numpy(init((257, 40))), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "init",
    [
        DFTKernel(16, 12, [0.5] * 12),
        FilterbankMatrix("log", sample_rate=8000, n_fft=256, n_filters=10, fmin=60.0),
    ],
    ids=["dft", "filterbank"],
)
def test_config_round_trip_through_keras(init):
    restored = keras.initializers.deserialize(keras.initializers.serialize(init))
    assert type(restored) is type(init) and restored.get_config() == init.get_config()


def test_wrong_shape_and_bad_recipe_raise():
    with pytest.raises(ValueError, match=r"shape \(16, 1, 18\).*\(16, 1, 10\)"):
        DFTKernel(16)((16, 1, 10))
    with pytest.raises(ValueError, match="`kind`"):
        FilterbankMatrix("bark", n_fft=256)
