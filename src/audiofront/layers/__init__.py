"""The audiofront layers, each a ``keras.layers.Layer`` written against ``keras.ops``."""

from audiofront.layers.decibel import Decibel
from audiofront.layers.filterbank import Filterbank
from audiofront.layers.mel_spectrogram import MelSpectrogram
from audiofront.layers.spectrogram import Spectrogram
from audiofront.layers.stft import STFT

__all__ = ["STFT", "Filterbank", "Decibel", "Spectrogram", "MelSpectrogram"]
