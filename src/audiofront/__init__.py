"""audiofront: the audio front-end for Keras 3 on JAX, PyTorch and TensorFlow.

Layers turn waveforms into spectrograms inside the model, as one strided
convolution with (optionally trainable) DFT kernels and filterbanks, matching
librosa to float32 precision on every backend.

>>> import audiofront
>>> layer = audiofront.MelSpectrogram(sample_rate=16000, n_fft=512, n_mels=64)
"""

from audiofront import filters
from audiofront.layers import (
    STFT,
    AdditiveNoise,
    Decibel,
    Filterbank,
    MelSpectrogram,
    Normalization2D,
    SpecAugment,
    Spectrogram,
)

__version__ = "0.1.0"

__all__ = [
    "STFT",
    "Decibel",
    "Filterbank",
    "MelSpectrogram",
    "Spectrogram",
    "Normalization2D",
    "AdditiveNoise",
    "SpecAugment",
    "filters",
    "__version__",
]
