"""librosa's answer for a layer, computed in float64: what ``audiofront parity --reference
librosa`` compares each backend with.

Example:

>>> import numpy as np
>>> from audiofront.tools import reference
>>> x = np.random.default_rng(0).standard_normal((2, 4000)).astype("float32")
>>> [r.shape for r in reference.librosa_reference("STFT", {"n_fft": 256}, x)]
[(2, 63, 129, 1)]
"""

import numpy as np

__all__ = ["librosa_reference", "HAS_REFERENCE"]

# The layers librosa has an equivalent of (Filterbank only for kind="mel").
HAS_REFERENCE = (
    "STFT",
    "Spectrogram",
    "MelSpectrogram",
    "Decibel",
    "Filterbank",
    "InverseSTFT",
    "MFCC",
    "Delta",
    "PCEN",
)
_WAVEFORM = ("STFT", "Spectrogram", "MelSpectrogram", "MFCC")


def _stft_args(p):
    n_fft = p.get("n_fft", 2048)
    window = p.get("window", "hann")
    if isinstance(window, list):
        window = np.asarray(window)
    elif window == "rectangular":
        window = "boxcar"
    return dict(
        n_fft=n_fft,
        hop_length=p.get("hop_length") or (p.get("win_length") or n_fft) // 4,
        win_length=p.get("win_length"),
        window=window,
        center=p.get("center", True),
        pad_mode=p.get("pad_mode", "constant"),
    )


def _decibel(librosa, values, scale, p):
    convert = librosa.power_to_db if scale == "power" else librosa.amplitude_to_db
    ref = p.get("ref", 1.0)
    kwargs = {"ref": np.max if ref == "max" else ref, "top_db": p.get("top_db", 80.0)}
    if p.get("amin") is not None:
        kwargs["amin"] = p["amin"]
    return np.stack([convert(v, **kwargs) for v in values])


def _waveform_reference(librosa, layer, p, waves):
    """STFT, Spectrogram, MelSpectrogram on ``(batch, samples, channels)``: channels_last."""
    stft_args = _stft_args(p)
    channels = []
    for c in range(waves.shape[-1]):
        y = waves[..., c].astype(np.float64)
        if layer in ("MelSpectrogram", "MFCC"):
            mel = {k: p[k] for k in ("n_mels", "fmin", "fmax", "htk", "norm") if k in p}
            s = librosa.feature.melspectrogram(
                y=y, sr=p.get("sample_rate", 22050), power=p.get("power", 2.0), **stft_args, **mel
            )
        else:
            s = librosa.stft(y, **stft_args)
            if layer == "Spectrogram":
                s = np.abs(s) ** p.get("power", 2.0)
        channels.append(np.swapaxes(s, -1, -2))  # (batch, frames, bins)
    out = np.stack(channels, axis=-1)
    if layer == "MFCC":
        return [_mfcc(librosa, out, p)]
    if layer == "STFT":
        mode = p.get("mode", "magnitude")
        if mode == "complex":
            return [out.real, out.imag]
        return [np.abs(out) ** (2 if mode == "power" else 1)]
    if p.get("decibel"):
        out = _decibel(librosa, out, "power" if p.get("power", 2.0) == 2.0 else "magnitude", p)
    return [out]


def _mfcc(librosa, mel, p):
    """librosa.feature.mfcc from channels_last mel power, through power_to_db with MFCC's
    ``ref``, ``amin`` and ``top_db`` (per example)."""
    kwargs = {k: p.get(k, v) for k, v in (("ref", 1.0), ("amin", 1e-10), ("top_db", 80.0))}
    db = np.stack([librosa.power_to_db(example, **kwargs) for example in mel])
    coefficients = librosa.feature.mfcc(
        S=np.transpose(db, (0, 3, 2, 1)),  # (batch, channels, mels, frames)
        n_mfcc=p.get("n_mfcc", 20),
        dct_type=p.get("dct_type", 2),
        norm=p.get("dct_norm", "ortho"),
        lifter=p.get("lifter", 0.0),
    )
    return np.transpose(coefficients, (0, 3, 2, 1))


def _inverse_stft(librosa, p, pair):
    """librosa.istft of a channels_last (real, imag) pair, as (batch, samples, channels)."""
    real, imag = pair
    spectrum = np.transpose(real + 1j * imag.astype(np.float64), (0, 3, 2, 1))  # b, c, bins, t
    y = librosa.istft(
        spectrum,
        n_fft=p.get("n_fft", 2048),
        hop_length=p.get("hop_length"),
        win_length=p.get("win_length"),
        window=_stft_args(p)["window"],
        center=p.get("center", True),
        length=p.get("length"),
    )
    return np.swapaxes(y, 1, 2)


def _spectral_reference(librosa, layer, p, spec):
    """Decibel, the mel Filterbank, Delta and PCEN on a channels_last spectrogram."""
    if layer == "Delta":
        kwargs = {k: p[k] for k in ("width", "order", "mode") if k in p}
        return [librosa.feature.delta(spec.astype(np.float64), axis=1, **kwargs)]
    if layer == "PCEN":
        names = ("hop_length", "gain", "bias", "power", "time_constant", "eps")
        kwargs = {k: p[k] for k in names if k in p}
        return [librosa.pcen(spec.astype(np.float64), sr=p.get("sample_rate", 22050), axis=1,
                             **kwargs)]  # fmt: skip
    if layer == "Decibel":
        return [_decibel(librosa, spec.astype(np.float64), p.get("scale", "power"), p)]
    mel = librosa.filters.mel(
        sr=p.get("sample_rate", 22050),
        n_fft=p.get("n_fft", 2048),
        n_mels=p.get("n_filters", 128),
        fmin=p.get("fmin", 0.0),
        fmax=p.get("fmax"),
        htk=p.get("htk", False),
        norm=p.get("norm", "slaney"),
    )
    return [np.einsum("btfc,mf->btmc", spec.astype(np.float64), mel)]


def librosa_reference(layer, params, x):
    """librosa's outputs for ``layer`` with ``params`` on its input ``x``, in the layer's
    layout (a list: one array, or real and imaginary parts), or None where librosa has no
    equivalent (or is not installed)."""
    try:
        import librosa
    except ImportError:
        return None
    p = dict(params)
    fmt = p.pop("data_format", "channels_last") or "channels_last"
    if layer not in HAS_REFERENCE or (layer == "Filterbank" and p.get("kind", "mel") != "mel"):
        return None
    if layer == "InverseSTFT":
        pair = x if fmt == "channels_last" else [np.transpose(v, (0, 2, 3, 1)) for v in x]
        y = _inverse_stft(librosa, p, pair)
        return [y if fmt == "channels_last" else np.swapaxes(y, 1, 2)]
    if layer in _WAVEFORM:
        waves = x if x.ndim == 3 else x[..., None]
        if x.ndim == 3 and fmt == "channels_first":
            waves = np.transpose(x, (0, 2, 1))
        outs = _waveform_reference(librosa, layer, p, waves)
    else:
        spec = x if fmt == "channels_last" else np.transpose(x, (0, 2, 3, 1))
        outs = _spectral_reference(librosa, layer, p, spec)
    if fmt == "channels_first":
        outs = [np.transpose(o, (0, 3, 1, 2)) for o in outs]
    return outs
