"""Inputs for the tools and tests: waveform batches, and the input each layer takes.

Numpy (and scipy for resampling) only. `make_input` gives real speech (FSDD), a chirp,
white noise or a WAV file's segments; `layer_input` turns waveforms into what a layer takes
(`audiofront.catalog` says which: waveforms, or a power, mel or dB spectrogram computed
here in numpy); `fit_input` shapes waveforms to a saved model's input.

Example:

>>> from audiofront.tools import signals
>>> x, sr = signals.make_input("chirp", batch=2, seconds=0.5)
>>> x.shape, sr
((2, 8000), 16000)
>>> signals.layer_input("Decibel", {}, x, sr).shape
(2, 63, 64, 1)
"""

import json
import zipfile
from pathlib import Path

import numpy as np

from audiofront import filters
from audiofront.catalog import LAYERS
from audiofront.tools import datasets

__all__ = [
    "make_input",
    "spectrogram_input",
    "complex_input",
    "layer_input",
    "layer_example",
    "model_input_shape",
    "fit_input",
]


def _resample(y, sr_in, sr_out):
    if sr_in == sr_out:
        return y
    from scipy.signal import resample_poly

    g = np.gcd(int(sr_in), int(sr_out))
    return resample_poly(y, int(sr_out) // g, int(sr_in) // g, axis=0).astype(np.float32)


def _load_any_wav(path):
    try:
        return datasets.load_wav(path)
    except Exception:  # float WAV and other formats, when soundfile is installed
        import soundfile

        y, sr = soundfile.read(str(path), dtype="float32", always_2d=False)
        return y, sr


def _synthetic(source, batch, seconds, sample_rate, seed):
    sr = int(sample_rate or 16000)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    if source == "chirp":
        f0, f1 = 50.0, 0.45 * sr
        phase = 2 * np.pi * (f0 * t + 0.5 * (f1 - f0) * t**2 / max(t[-1], 1e-9))
        x = np.stack([np.sin(phase + k) * (0.5 + 0.5 * k / max(batch, 1)) for k in range(batch)])
    else:
        x = 0.3 * np.random.default_rng(seed).standard_normal((batch, n))
    return x.astype(np.float32), sr


def _fsdd(batch, seconds, sample_rate):
    files = datasets.fsdd_files()
    picks = [files[i] for i in np.linspace(0, len(files) - 1, batch).astype(int)]
    sr = int(sample_rate or 8000)
    n = int(round(seconds * sr))
    x = np.zeros((batch, n), np.float32)
    for i, (path, *_rest) in enumerate(picks):
        y, sr_file = datasets.load_wav(path)
        y = _resample(y, sr_file, sr)[:n]
        x[i, : len(y)] = y
    return x, sr


def make_input(source="fsdd", batch=2, seconds=1.0, sample_rate=None, seed=0):
    """A float32 waveform batch and its sample rate.

    Args:
        source: ``"fsdd"`` (real 8 kHz speech, the default when the dataset is found),
            ``"chirp"`` (a sweep from 50 Hz to near Nyquist), ``"noise"`` (white noise), or
            a path to a WAV file of any sample rate and channel count (cut into ``batch``
            consecutive segments).
        batch: number of examples.
        seconds: length of each example.
        sample_rate: sample rate in Hz; FSDD and WAV files are resampled to it when
            given (needs scipy), chirp and noise default to 16 kHz.

    Returns:
        ``(x, sample_rate)`` with ``x`` of shape ``(batch, samples)`` for mono or
        ``(batch, samples, channels)``.
    """
    if source in ("chirp", "noise"):
        return _synthetic(source, batch, seconds, sample_rate, seed)
    if source == "fsdd":
        return _fsdd(batch, seconds, sample_rate)
    path = Path(source)
    if not path.is_file():
        raise ValueError(
            f"`input` must be fsdd, chirp, noise or a WAV file. Received: input={source!r}"
        )
    y, sr_file = _load_any_wav(path)
    sr = int(sample_rate or sr_file)
    y = _resample(np.asarray(y, np.float32), sr_file, sr)
    n = int(round(seconds * sr))
    segments = np.zeros((batch, n) + y.shape[1:], np.float32)
    for i in range(batch):
        piece = y[i * n : (i + 1) * n]
        segments[i, : len(piece)] = piece
    return segments, sr


def _stft(x, n_fft, hop_length, win_length=None, window="hann", center=True):
    """(batch, samples) -> the complex STFT (batch, frames, bins), zero-padded when centred
    (numpy only)."""
    pad = n_fft // 2 if center else 0
    padded = np.pad(x.astype(np.float64), ((0, 0), (pad, pad)))
    frames = 1 + (padded.shape[1] - n_fft) // hop_length
    index = np.arange(n_fft)[None, :] + hop_length * np.arange(frames)[:, None]
    spectra = padded[:, index] @ filters.dft_kernels(n_fft, win_length, window)
    bins = n_fft // 2 + 1
    return spectra[..., :bins] + 1j * spectra[..., bins:]


def _layout(spec, data_format):
    spec = spec[..., None].astype(np.float32)  # (batch, frames, bins, 1)
    if data_format == "channels_first":
        spec = np.ascontiguousarray(np.transpose(spec, (0, 3, 1, 2)))
    return spec


def spectrogram_input(kind, waveforms, sample_rate, n_fft=512, n_mels=64, data_format=None):
    """A realistic 4-D spectrogram from waveforms, in numpy: ``"power"`` (linear frequency,
    ``n_fft // 2 + 1`` bins), ``"mel"`` (mel power) or ``"db"`` (mel dB, clipped 80 dB
    below each example's maximum); hop ``n_fft // 4``, one channel, laid out per
    ``data_format`` (channels_last by default)."""
    mono = waveforms if waveforms.ndim == 2 else waveforms[..., 0]
    power = np.abs(_stft(mono, n_fft, n_fft // 4)) ** 2
    if kind != "power":
        power = power @ filters.mel_filterbank(sample_rate, n_fft, n_mels=n_mels).T
    if kind == "db":
        db = 10 * np.log10(np.maximum(power, 1e-10))
        power = np.maximum(db, db.max(axis=(1, 2), keepdims=True) - 80.0)
    return _layout(power, data_format)


def complex_input(waveforms, params):
    """``[real, imag]``: the STFT that `audiofront.STFT` (``mode="complex"``) computes with
    the framing of ``params`` (``n_fft``, ``hop_length``, ``win_length``, ``window``,
    ``center``), in numpy, as `InverseSTFT` takes it."""
    mono = waveforms if waveforms.ndim == 2 else waveforms[..., 0]
    n_fft = int(params.get("n_fft", 2048))
    win_length = params.get("win_length")
    hop = params.get("hop_length") or (win_length or n_fft) // 4
    window = params.get("window", "hann")
    spectrum = _stft(mono, n_fft, hop, win_length, window, params.get("center", True))
    fmt = params.get("data_format")
    return [_layout(spectrum.real, fmt), _layout(spectrum.imag, fmt)]


def layer_input(layer, params, waveforms, sample_rate, takes=None):
    """The input the layer named ``layer`` takes (`audiofront.catalog`, unless ``takes``
    says otherwise), from waveforms: themselves (transposed for a channels_first
    multichannel layer), or a spectrogram from `spectrogram_input` (a ``"power"`` one with
    the layer's own ``n_fft``)."""
    takes = takes or LAYERS[layer].takes
    data_format = params.get("data_format")
    if takes == "complex":
        return complex_input(waveforms, params)
    if takes == "waveform":
        if waveforms.ndim == 3 and data_format == "channels_first":
            return np.ascontiguousarray(np.transpose(waveforms, (0, 2, 1)))
        return waveforms
    n_fft = int(params.get("n_fft", 512)) if takes == "power" else 512
    return spectrogram_input(takes, waveforms, sample_rate, n_fft, data_format=data_format)


def layer_example(layer, params=None, source="fsdd", batch=2, seconds=1.0, sample_rate=None,
                  channels=0, takes=None):  # fmt: skip
    """``(params, x)``: the layer's parameters, with the input's ``sample_rate`` where the
    layer takes one and ``params`` does not set it, and an input for it (`layer_input`) made
    from `make_input`: mono ``(batch, samples)`` waveforms, or with ``channels > 0`` that
    many consecutive examples per multichannel waveform; ``takes`` as `layer_input`."""
    params = dict(params or {})
    count = batch * max(channels, 1)
    waves, sr = make_input(source, batch=count, seconds=seconds, sample_rate=sample_rate)
    if channels:
        waves = np.ascontiguousarray(np.transpose(waves.reshape(batch, channels, -1), (0, 2, 1)))
    if LAYERS[layer].sample_rate:
        params.setdefault("sample_rate", sr)
    return params, layer_input(layer, params, waves, sr, takes)


def model_input_shape(path):
    """The input shape (without batch) of a saved ``.keras`` model, read from its config."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "InputLayer":
                shape = item["config"].get("batch_shape") or item["config"].get("batch_input_shape")
                return tuple(shape[1:])
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return None


def _fit_length(x, n):
    if n is None:
        return x
    out = np.zeros((x.shape[0], n), np.float32)
    out[:, : min(n, x.shape[1])] = x[:, :n]
    return out


def fit_input(waves, shape, seed=0):
    """Shapes waveforms ``(batch, samples)`` to a model's input ``shape`` (without batch):
    cropped or zero-padded to a fixed length, repeated over channels; a 3-D input gets
    non-negative random values (a stand-in spectrogram)."""
    if shape is None:
        return waves
    batch = waves.shape[0]
    mono = waves if waves.ndim == 2 else waves[..., 0]
    if len(shape) == 3:
        rng = np.random.default_rng(seed)
        size = (batch,) + tuple(d or 16 for d in shape)
        return np.abs(rng.standard_normal(size)).astype(np.float32)
    if len(shape) == 1:
        return _fit_length(mono, shape[0])
    first, second = shape
    if first is not None and (second is None or first < second):  # (channels, samples)
        return np.repeat(_fit_length(mono, second)[:, None, :], first, axis=1)
    return np.repeat(_fit_length(mono, first)[:, :, None], second, axis=2)
