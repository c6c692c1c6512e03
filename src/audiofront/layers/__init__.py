"""The audiofront layers, each a ``keras.layers.Layer`` written against ``keras.ops``."""

from audiofront.layers.decibel import Decibel
from audiofront.layers.filterbank import Filterbank
from audiofront.layers.mel_spectrogram import MelSpectrogram
from audiofront.layers.noise import AdditiveNoise
from audiofront.layers.normalization import Normalization2D
from audiofront.layers.spec_augment import SpecAugment
from audiofront.layers.spectrogram import Spectrogram
from audiofront.layers.stft import STFT

__all__ = [
    "STFT",
    "Filterbank",
    "Decibel",
    "Spectrogram",
    "MelSpectrogram",
    "Normalization2D",
    "AdditiveNoise",
    "SpecAugment",
]
