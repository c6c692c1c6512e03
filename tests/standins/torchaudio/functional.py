"""``melscale_fbanks``: torchaudio's triangular mel filterbank, which is librosa's HTK mel
filterbank with no norm (tests/layers/test_learnable.py checks that claim where torchaudio
is installed)."""

import librosa
import numpy as np
import torch


def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk"):
    """``(n_freqs, n_mels)`` filterbank over ``n_freqs`` bins from 0 to ``sample_rate // 2``."""
    if norm is not None or mel_scale != "htk":
        raise NotImplementedError("the stand-in has only norm=None, mel_scale='htk'")
    n_fft = 2 * (n_freqs - 1)
    bank = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max, htk=True, norm=None
    )
    return torch.from_numpy(np.ascontiguousarray(bank.T, dtype=np.float32))
