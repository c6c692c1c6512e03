"""The public layers: the one list from which every other list of them is derived.

No Keras import, so that the tools can name and feed the layers without a backend.
``audiofront.layers`` imports each layer from its module here, ``audiofront`` re-exports
them, and `audiofront parity`, the case table and the package tests read this dict.

Example:

>>> from audiofront.catalog import LAYERS
>>> LAYERS["MelSpectrogram"]
Entry(module='mel_spectrogram', takes='waveform', sample_rate=True, augments=False)
"""

from typing import NamedTuple

__all__ = ["Entry", "LAYERS", "TAKES"]

# What a layer takes as input (the tools make such inputs from waveforms):
TAKES = {
    "waveform": "(batch, samples) or (batch, samples, channels) / (batch, channels, samples)",
    "power": "a 4-D linear-frequency power spectrogram with n_fft // 2 + 1 bins",
    "mel": "a 4-D non-negative mel power spectrogram",
    "db": "a 4-D mel spectrogram in dB",
    "complex": "the (real, imag) pair of 4-D spectra that STFT(mode='complex') returns",
}


class Entry(NamedTuple):
    """A public layer: its module under ``audiofront.layers``, what it takes, whether it
    takes a ``sample_rate`` argument (the tools then pass their input's), and whether it
    augments (training only, random: the identity at inference)."""

    module: str
    takes: str
    sample_rate: bool = False
    augments: bool = False


LAYERS = {
    "STFT": Entry("stft", "waveform"),
    "Filterbank": Entry("filterbank", "power", sample_rate=True),
    "Decibel": Entry("decibel", "mel"),
    "Spectrogram": Entry("spectrogram", "waveform"),
    "MelSpectrogram": Entry("mel_spectrogram", "waveform", sample_rate=True),
    "Normalization2D": Entry("normalization", "db"),
    "AdditiveNoise": Entry("noise", "waveform", augments=True),
    "SpecAugment": Entry("spec_augment", "db", augments=True),
    "InverseSTFT": Entry("inverse_stft", "complex"),
    "MFCC": Entry("mfcc", "waveform", sample_rate=True),
    "Delta": Entry("delta", "db"),
    "PCEN": Entry("pcen", "mel", sample_rate=True),
    "RandomGain": Entry("gain", "waveform", augments=True),
    "Reverb": Entry("reverb", "waveform", sample_rate=True, augments=True),
    "BandPassFilter": Entry("band_pass", "waveform", sample_rate=True, augments=True),
    "BackgroundNoise": Entry("background_noise", "waveform", augments=True),
    "CQT": Entry("cqt", "waveform", sample_rate=True),
    "SincConv": Entry("sinc_conv", "waveform", sample_rate=True),
    "LEAF": Entry("leaf", "waveform", sample_rate=True),
}
