"""The shared table of layer cases: every configuration the tests, `audiofront parity` and
the main job (`audiofront compare`) exercise, in one place. Data only, no Keras.

Every case runs through `audiofront.testing.run_layer_test` (config round trip, build and
shapes, weight counts, dtype policy, compiled equals eager, ``.keras`` round trip) on each
backend. Tags pick further families:

- ``"parity"``: the main job's case for its layer (exactly one per public layer): cross-backend
  parity of outputs and gradients, and the cross-backend ``.keras`` round trip of a model
  trained one step under each backend;
- ``"cross"``: also compared across the three backends, outputs and gradients
  (``nox -s crossbackend``);
- ``"grad"``: gradients against float64 finite differences, and float32 against float64.

A new layer adds its rows here (one of them tagged ``"parity"``) and is then tested by all of
the above.

Example:

>>> from audiofront.tools.cases import CASES, tagged
>>> [c.id for c in tagged("parity")][:3]
['stft-complex-trainable', 'spectrogram-db-trainable', 'mel-db-trainable']
"""

from dataclasses import dataclass, field

import numpy as np

from audiofront.catalog import LAYERS
from audiofront.tools import signals

__all__ = ["Case", "CASES", "tagged", "by_id", "example"]


@dataclass(frozen=True)
class Case:
    """One layer configuration.

    Attributes:
        id: a short unique name (pytest ids, parity case names).
        layer: the public layer's name (`audiofront.catalog.LAYERS`).
        params: its constructor arguments (JSON-friendly).
        weights: the expected numbers of ``(trainable, non_trainable)`` weights.
        channels: 0 for mono ``(batch, samples)`` waveforms, else that many channels laid
            out per the case's ``data_format`` (waveform layers only).
        takes: the input, when not the one `audiofront.catalog` gives the layer.
        tags: the families beyond `run_layer_test` (see the module docstring).
    """

    id: str
    layer: str
    params: dict = field(default_factory=dict)
    weights: tuple = (0, 0)
    channels: int = 0
    takes: str = None
    tags: tuple = ()


_KAISER = [float(v) for v in np.kaiser(256, 8.0)]
# Small banks of impulse responses and noise recordings, as JSON-friendly lists.
_RNG = np.random.default_rng(0)
_ROOMS = (_RNG.standard_normal((2, 64)) * np.exp(-np.arange(64) / 16.0)).round(5).tolist()
_NOISES = _RNG.standard_normal((2, 1000)).round(5).tolist()

CASES = (
    # -- STFT
    Case("stft-complex-trainable", "STFT",
         dict(n_fft=512, hop_length=128, mode="complex", trainable=True),
         (1, 0), tags=("parity", "cross", "grad")),
    Case("stft-power-nocenter-trainable", "STFT",
         dict(n_fft=400, hop_length=133, win_length=300, window="hamming", center=False,
              mode="power", trainable=True),
         (1, 0), tags=("grad",)),
    Case("stft-blackman-nocenter", "STFT",
         dict(n_fft=400, hop_length=133, win_length=300, window="blackman", center=False,
              mode="power"),
         (0, 1), tags=("cross",)),
    Case("stft-magnitude-short-window-trainable", "STFT",
         dict(n_fft=128, hop_length=48, win_length=96, mode="magnitude", trainable=True),
         (1, 0), tags=("grad",)),
    Case("stft-complex-reflect-stereo-cf", "STFT",
         dict(n_fft=256, hop_length=100, mode="complex", pad_mode="reflect",
              data_format="channels_first"),
         (0, 1), channels=2),
    Case("stft-conv-reflect", "STFT",
         dict(n_fft=256, hop_length=100, pad_mode="reflect", implementation="conv"), (0, 1)),
    Case("stft-array-window", "STFT", dict(n_fft=256, hop_length=64, window=_KAISER), (0, 1)),
    Case("stft-stateful", "STFT",
         dict(n_fft=256, hop_length=100, center=False, mode="power", stateful=True),
         (0, 2), tags=("cross",)),
    # -- Spectrogram
    Case("spectrogram-db-trainable", "Spectrogram",
         dict(n_fft=400, hop_length=160, pad_mode="reflect", power=1.0, decibel=True,
              trainable_kernel=True),
         (1, 0), tags=("parity",)),
    Case("spectrogram-db-max-trainable", "Spectrogram",
         dict(n_fft=512, hop_length=128, pad_mode="reflect", power=1.0, decibel=True,
              ref="max", top_db=60.0, trainable_kernel=True),  # deeper: docs/limits.md
         (1, 0), tags=("cross", "grad")),
    Case("spectrogram-db-no-floor", "Spectrogram",
         dict(n_fft=512, hop_length=160, power=1.0, decibel=True, ref="max", top_db=None),
         (0, 1)),
    # -- MelSpectrogram
    Case("mel-db-trainable", "MelSpectrogram",
         dict(n_fft=512, hop_length=128, n_mels=64, decibel=True, trainable_kernel=True,
              trainable_filterbank=True),
         (2, 0), tags=("parity", "cross", "grad")),
    Case("mel-custom-trainable", "MelSpectrogram",
         dict(sample_rate=8000, n_fft=512, hop_length=128, n_mels=40, fmin=50.0, fmax=3500.0,
              htk=True, norm=None, decibel=True, ref=0.5, amin=1e-8, top_db=60.0,
              trainable_kernel=True, trainable_filterbank=True),
         (2, 0)),
    Case("mel-nocenter-stereo-cf", "MelSpectrogram",
         dict(n_fft=256, center=False, n_mels=32, data_format="channels_first"),
         (0, 2), channels=2, tags=("cross",)),
    Case("mel-db-stateful-trainable-stereo-cf", "MelSpectrogram",
         dict(n_fft=400, hop_length=100, n_mels=40, center=False, decibel=True, top_db=None,
              trainable_kernel=True, trainable_filterbank=True, stateful=True,
              data_format="channels_first"),
         (2, 1), channels=2, tags=("cross",)),
    Case("mel-fft-db", "MelSpectrogram",
         dict(n_fft=400, hop_length=160, n_mels=40, decibel=True, implementation="fft"),
         (0, 2)),
    # 20 mels, not 40: with 40 at 8 kHz the lowest band (0-114 Hz) holds almost nothing of
    # FSDD speech (27 dB and more below the peak), its 1/mel term dominates the filterbank
    # gradient, and float32 FFT rounding left torch 1.0e-4 from jax on every path (limits.md).
    Case("mel-blocked-db-max-trainable-filterbank", "MelSpectrogram",
         dict(n_fft=400, hop_length=160, n_mels=20, decibel=True, ref="max",
              trainable_filterbank=True, implementation="blocked"),
         (1, 1), tags=("cross", "grad")),
    Case("mel-htk-power1-cf", "MelSpectrogram",
         dict(n_fft=2048, hop_length=512, n_mels=128, htk=True, norm=None, power=1.0,
              data_format="channels_first"),
         (0, 2), tags=("cross",)),
    Case("mel-reflect-power1-cf-trainable", "MelSpectrogram",
         dict(n_fft=128, hop_length=40, n_mels=12, power=1.0, pad_mode="reflect",
              trainable_kernel=True, trainable_filterbank=True, data_format="channels_first"),
         (2, 0), tags=("grad",)),
    # -- Filterbank
    Case("filterbank-mel-trainable", "Filterbank",
         dict(kind="mel", n_filters=40, n_fft=512, trainable=True),
         (1, 0), tags=("parity", "cross", "grad")),
    Case("filterbank-log-trainable", "Filterbank",
         dict(kind="log", n_filters=24, n_fft=512, fmin=50.0, norm=2.0, trainable=True),
         (1, 0), tags=("cross", "grad")),
    Case("filterbank-random-trainable", "Filterbank",
         dict(kind="random", n_filters=16, n_fft=512, seed=3, trainable=True),
         (1, 0), tags=("cross", "grad")),
    Case("filterbank-linear", "Filterbank", dict(kind="linear", n_filters=24, n_fft=512), (0, 1)),
    # -- Decibel
    Case("decibel-max", "Decibel", dict(ref="max", top_db=60.0), tags=("parity", "cross")),
    Case("decibel-magnitude", "Decibel",
         dict(scale="magnitude", ref=0.5, amin=1e-4, top_db=None), tags=("cross",)),
    # -- Normalization2D
    Case("normalization-freq", "Normalization2D", dict(axis="freq"), tags=("parity", "cross")),
    Case("normalization-time-cf", "Normalization2D",
         dict(axis="time", eps=1e-6, data_format="channels_first")),
    Case("normalization-batch-cf", "Normalization2D",
         dict(axis="batch", data_format="channels_first"), tags=("cross",)),
    # -- AdditiveNoise
    Case("noise-pink-snr-range", "AdditiveNoise",
         dict(noise="pink", snr_db=[10.0, 20.0], seed=1), (0, 1), tags=("parity", "cross")),
    Case("noise-brown-gain-axis2", "AdditiveNoise",
         dict(power=0.2, noise="brown", random_gain=True, seed=2, axis=2, probability=0.5),
         (0, 1), takes="db"),
    # -- SpecAugment
    Case("specaugment", "SpecAugment",
         dict(freq_mask_param=10, time_mask_param=20, n_freq_masks=2, n_time_masks=3,
              mask_value=-80.0, seed=2),
         (0, 1), tags=("parity", "cross")),
    # -- InverseSTFT
    Case("istft-trainable", "InverseSTFT", dict(n_fft=512, hop_length=128, trainable=True),
         (1, 0), tags=("parity", "cross", "grad")),
    Case("istft-hamming-nocenter-length-cf", "InverseSTFT",
         dict(n_fft=400, hop_length=100, win_length=300, window="hamming", center=False,
              length=3000, data_format="channels_first"),
         (0, 1), tags=("cross",)),
    # -- MFCC
    Case("mfcc-trainable", "MFCC",
         dict(n_mfcc=13, n_fft=512, hop_length=128, n_mels=40, trainable_kernel=True,
              trainable_filterbank=True),
         (2, 1), tags=("parity", "cross", "grad")),
    Case("mfcc-type3-lifter-cf", "MFCC",
         dict(n_mfcc=20, dct_type=3, dct_norm=None, lifter=22.0, n_fft=256, n_mels=40,
              power=1.0, ref=0.1, top_db=60.0, data_format="channels_first"),
         (0, 3)),
    Case("mfcc-type1-stereo", "MFCC", dict(n_mfcc=10, dct_type=1, n_fft=256, n_mels=30),
         (0, 3), channels=2, tags=("cross",)),
    Case("mfcc-stateful", "MFCC",
         dict(n_mfcc=13, n_fft=256, hop_length=100, n_mels=30, center=False, top_db=None,
              stateful=True),
         (0, 4), tags=("cross",)),
    # -- Delta
    Case("delta-interp", "Delta", dict(width=9, order=1, mode="interp"),
         tags=("parity", "cross")),
    Case("delta-order2-mirror-cf", "Delta",
         dict(width=5, order=2, mode="mirror", data_format="channels_first")),
    # -- PCEN
    Case("pcen-trainable", "PCEN", dict(hop_length=128, trainable=True),
         (4, 0), tags=("parity", "cross", "grad")),
    Case("pcen-fixed-cf", "PCEN",
         dict(hop_length=128, gain=0.8, bias=10.0, power=0.25, time_constant=0.06, eps=1e-4,
              data_format="channels_first"),
         (0, 4), tags=("cross",)),
    Case("pcen-stateful-trainable-cf", "PCEN",
         dict(hop_length=128, trainable=True, stateful=True, data_format="channels_first"),
         (4, 1), tags=("cross",)),
    # -- constant-Q
    Case("cqt-trainable", "CQT", dict(hop_length=64, fmin=200.0, n_bins=24, trainable=True),
         (1, 0), tags=("parity", "cross", "grad")),
    Case("cqt-bpo24-reflect-stereo-cf", "CQT",
         dict(hop_length=128, fmin=100.0, n_bins=48, bins_per_octave=24, filter_scale=0.8,
              norm=2, pad_mode="reflect", data_format="channels_first"),
         (0, 1), channels=2, tags=("cross",)),
    # -- simulating the real world
    Case("gain", "RandomGain", dict(min_db=-12.0, max_db=3.0, seed=3), (0, 1),
         tags=("parity", "cross")),
    Case("reverb-synthetic", "Reverb", dict(rt60=[0.1, 0.4], seed=4), (0, 1),
         tags=("parity", "cross")),
    Case("reverb-bank-stereo-cf", "Reverb",
         dict(impulse_responses=_ROOMS, probability=0.5, seed=5, data_format="channels_first"),
         (0, 2), channels=2, tags=("cross",)),
    Case("band-pass", "BandPassFilter", dict(low_hz=[50.0, 300.0], high_hz=[2000.0, 3500.0],
                                              seed=6), (0, 1), tags=("parity", "cross")),
    Case("background-noise", "BackgroundNoise", dict(noises=_NOISES, snr_db=[5.0, 15.0], seed=7),
         (0, 2), tags=("parity", "cross")),
    Case("background-noise-stereo", "BackgroundNoise",
         dict(noises=_NOISES, snr_db=10.0, seed=8), (0, 2), channels=2),
    # -- SincConv
    # (no "grad": at initialisation the last filter's high cut-off sits exactly on the
    # Nyquist clip, a kink; tests/layers/test_sinc_conv.py checks gradients off it)
    Case("sinc-conv", "SincConv", dict(n_filters=16, kernel_size=101), (2, 0),
         tags=("parity", "cross")),
    Case("sinc-conv-valid-stride-cf", "SincConv",
         dict(n_filters=8, kernel_size=63, min_low_hz=30.0, min_band_hz=80.0, stride=4,
              padding="valid", data_format="channels_first"),
         (2, 0), channels=1, tags=("cross",)),
    # -- LEAF (FSDD at 8 kHz: max_freq below Nyquist)
    Case("leaf-pcen", "LEAF",
         dict(n_filters=8, window_len=10.0, window_stride=5.0, max_freq=3800.0),
         (8, 0), tags=("parity", "cross", "grad")),
    Case("leaf-log-even-taps-stereo-cf", "LEAF",
         dict(n_filters=6, window_len=12.625, window_stride=4.0, min_freq=100.0,
              max_freq=None, compression="log", data_format="channels_first"),
         (4, 0), channels=2, tags=("cross", "grad")),
)  # fmt: skip


def tagged(tag):
    """The cases carrying ``tag``, in table order."""
    return [c for c in CASES if tag in c.tags]


def by_id(case_id):
    """The case named ``case_id``."""
    for case in CASES:
        if case.id == case_id:
            return case
    raise KeyError(case_id)


def example(case, source="fsdd", batch=2, seconds=0.5, sample_rate=None):
    """``(params, x)`` for a case: its parameters (with the input's sample rate where the
    layer takes one) and an input for it, from `signals.layer_example`."""
    if case.layer not in LAYERS:
        raise ValueError(f"Case {case.id!r} names an unknown layer {case.layer!r}")
    return signals.layer_example(
        case.layer, case.params, source, batch, seconds, sample_rate, case.channels, case.takes
    )
