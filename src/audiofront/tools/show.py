"""``audiofront show``: a picture of what the front-end computes from a WAV file.

A figure with the waveform, the linear-frequency spectrogram and the mel spectrogram in dB
(each relative to its maximum, ``top_db`` below it shown), with time in seconds and
frequency in Hz; given a trained ``.keras`` model, a fourth panel draws its learned mel
filterbank over the mel filters it started from.

The arrays come from audiofront's own layers under the current backend (`show_data`,
`filterbank_data`), so what is drawn is what a model sees; `figure` only draws them.

Example:

>>> from audiofront.tools import show
>>> show.show("speech.wav", {"n_fft": 512}, out="speech.png")   # doctest: +SKIP
>>> show.show("digit.wav", model="digits.keras", out="digit.png")  # doctest: +SKIP
"""

from pathlib import Path

import numpy as np

from audiofront import filters

__all__ = ["default_params", "show_data", "filterbank_data", "figure", "show"]

# Front-end settings `show_data` accepts (-p KEY=VALUE on the command line).
PARAMS = ("n_fft", "hop_length", "win_length", "window", "n_mels", "fmin", "fmax", "htk", "top_db")


def default_params(sample_rate):
    """Frames of about 32 ms (a power of two), a hop of a quarter frame, 40 mel bands up to
    8 kHz sample rates and 64 above, the full band, 80 dB shown."""
    n_fft = int(2 ** np.ceil(np.log2(0.032 * sample_rate)))
    return {
        "n_fft": n_fft,
        "hop_length": n_fft // 4,
        "win_length": None,
        "window": "hann",
        "n_mels": 40 if sample_rate <= 8000 else 64,
        "fmin": 0.0,
        "fmax": None,
        "htk": False,
        "top_db": 80.0,
    }


def _check_params(params):
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise ValueError(
            f"`params` has unknown key(s) {unknown}; accepted: {', '.join(PARAMS)}. "
            f"Received: params={params!r}"
        )


def show_data(y, sample_rate, **params):
    """The arrays the figure draws, computed with audiofront's layers.

    Args:
        y: a mono waveform ``(samples,)``, float.
        sample_rate: its sample rate in Hz.
        **params: any of ``PARAMS`` (defaults from `default_params`).

    Returns:
        A dict: ``times`` ``(samples,)`` and ``waveform``; ``frame_times`` ``(frames,)``
        (frame centres, as ``librosa.frames_to_time``); ``frequencies`` ``(bins,)`` and
        ``linear_db`` ``(frames, bins)``: ``librosa.amplitude_to_db(|stft|, ref=max,
        top_db=top_db)``; ``mel_frequencies`` ``(n_mels,)`` (band centres) and ``mel_db``
        ``(frames, n_mels)``: ``librosa.power_to_db(melspectrogram, ref=max, top_db=top_db)``;
        and ``params``, the settings used.

    Example:

    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype("float32")
    >>> d = show_data(y, 8000)
    >>> d["linear_db"].shape, d["mel_db"].shape, float(d["frequencies"][d["linear_db"].mean(0).argmax()])
    ((126, 129), (126, 40), 437.5)
    """
    import keras

    from audiofront.layers import MelSpectrogram, Spectrogram

    _check_params(params)
    y = np.asarray(y, np.float32)
    if y.ndim != 1:
        raise ValueError(f"`y` must be a 1-D mono waveform. Received: y.shape={y.shape}")
    p = {**default_params(sample_rate), **params}
    stft_args = {k: p[k] for k in ("n_fft", "hop_length", "win_length", "window")}
    linear = Spectrogram(power=1.0, decibel=True, ref="max", top_db=p["top_db"], **stft_args)
    mel = MelSpectrogram(
        sample_rate=sample_rate,
        n_mels=p["n_mels"],
        fmin=p["fmin"],
        fmax=p["fmax"],
        htk=p["htk"],
        decibel=True,
        ref="max",
        top_db=p["top_db"],
        **stft_args,
    )
    batch = y[None, :]
    linear_db = keras.ops.convert_to_numpy(linear(batch))[0, :, :, 0]
    mel_db = keras.ops.convert_to_numpy(mel(batch))[0, :, :, 0]
    fmax = sample_rate / 2 if p["fmax"] is None else p["fmax"]
    hop = linear._hop_length
    return {
        "times": np.arange(len(y)) / sample_rate,
        "waveform": y,
        "frame_times": np.arange(linear_db.shape[0]) * hop / sample_rate,
        "frequencies": filters.fft_frequencies(sample_rate, p["n_fft"]),
        "linear_db": linear_db,
        "mel_frequencies": filters.mel_frequencies(p["n_mels"] + 2, p["fmin"], fmax, p["htk"])[
            1:-1
        ],
        "mel_db": mel_db,
        "sample_rate": sample_rate,
        "params": {**p, "hop_length": hop},
    }


def _mel_layers(layers):
    from audiofront.layers import MelSpectrogram

    for layer in layers:
        if isinstance(layer, MelSpectrogram):
            yield layer
        yield from _mel_layers(getattr(layer, "layers", ()))


def filterbank_data(model):
    """The first `MelSpectrogram` of ``model`` (a model or a ``.keras`` path): its learned
    filterbank and the mel filters its configuration starts from.

    Returns:
        A dict: ``frequencies`` ``(bins,)`` in Hz, ``initial`` and ``learned``
        ``(bins, n_mels)``, ``config`` (the layer's), ``name``.

    Example:

    >>> import keras, audiofront as af
    >>> model = keras.Sequential([keras.Input((4000,)), af.MelSpectrogram(8000, n_fft=256, n_mels=20)])
    >>> d = filterbank_data(model)
    >>> d["learned"].shape, bool(abs(d["learned"] - d["initial"]).max() < 1e-6)
    ((129, 20), True)
    """
    import keras

    if isinstance(model, (str, Path)):
        model = keras.saving.load_model(model)
    layer = next(_mel_layers(getattr(model, "layers", [model])), None)
    if layer is None:
        raise ValueError(f"`model` holds no audiofront MelSpectrogram layer. Received: {model!r}")
    config = layer.get_config()
    initial = filters.mel_filterbank(
        sample_rate=config["sample_rate"],
        n_fft=config["n_fft"],
        n_mels=config["n_mels"],
        fmin=config["fmin"],
        fmax=config["fmax"],
        htk=config["htk"],
        norm=config["norm"],
    ).T
    return {
        "frequencies": filters.fft_frequencies(config["sample_rate"], config["n_fft"]),
        "initial": initial,
        "learned": keras.ops.convert_to_numpy(layer.filterbank),
        "config": config,
        "name": layer.name,
    }


def _mel_axis(ax, fmin, fmax, htk, which="y"):
    """A frequency axis spaced as the mel scale, labelled in Hz."""
    scale = (
        lambda f: filters.hz_to_mel(np.maximum(f, 0.0), htk=htk),
        lambda m: filters.mel_to_hz(m, htk=htk),
    )
    ticks = [t for t in (0, 250, 500, 1000, 2000, 4000, 8000, 16000) if fmin <= t <= fmax]
    if which == "y":
        ax.set_yscale("function", functions=scale)
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_ylim(fmin, fmax)
    else:
        ax.set_xscale("function", functions=scale)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlim(fmin, fmax)


def figure(data, filterbank=None, title=None):
    """A matplotlib ``Figure`` from `show_data` (and `filterbank_data`) output."""
    from matplotlib.figure import Figure

    p = data["params"]
    rows = 4 if filterbank is not None else 3
    fig = Figure(figsize=(10, 2.6 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, 1, height_ratios=[0.6, 1, 1] + ([1] if rows == 4 else []))
    duration = data["times"][-1] if len(data["times"]) else 0.0
    sr = data["sample_rate"]
    fmax = sr / 2 if p["fmax"] is None else p["fmax"]
    if title:
        fig.suptitle(title)

    ax = axes[0]
    ax.plot(data["times"], data["waveform"], lw=0.6, color="tab:blue")
    ax.set(xlabel="time (s)", ylabel="amplitude", xlim=(0, duration))
    ax.set_title(f"waveform, {sr} Hz, {duration:.2f} s", loc="left", fontsize=10)

    settings = f"n_fft {p['n_fft']}, hop {p['hop_length']} ({1000 * p['hop_length'] / sr:.1f} ms)"
    for ax, key, freqs, name in (
        (axes[1], "linear_db", data["frequencies"], "linear-frequency spectrogram"),
        (axes[2], "mel_db", data["mel_frequencies"], f"mel spectrogram, {p['n_mels']} bands"),
    ):
        mesh = ax.pcolormesh(
            data["frame_times"],
            freqs,
            data[key].T,
            shading="nearest",
            cmap="magma",
            vmin=float(data[key].max()) - p["top_db"],
            vmax=float(data[key].max()),
        )
        ax.set(xlabel="time (s)", ylabel="frequency (Hz)", xlim=(0, duration))
        if key == "mel_db":
            _mel_axis(ax, p["fmin"], fmax, p["htk"])
        else:
            ax.set_ylim(0, sr / 2)
        ax.set_title(f"{name} in dB, {settings}", loc="left", fontsize=10)
        fig.colorbar(mesh, ax=ax, label="dB re max", pad=0.01)
    for ax in [axes[0]] + ([axes[3]] if rows == 4 else []):
        # An invisible colour bar keeps every panel's plotting area equally wide.
        fig.colorbar(mesh, ax=ax, pad=0.01).ax.set_visible(False)

    if filterbank is not None:
        ax = axes[3]
        freqs = filterbank["frequencies"]
        ax.plot(freqs, filterbank["initial"], color="0.55", lw=0.8, ls="--")
        colours = [
            "tab:blue",
            "tab:orange",
            "tab:green",
            "tab:red",
            "tab:purple",
            "tab:brown",
            "tab:pink",
            "tab:olive",
            "tab:cyan",
        ]
        for i in range(filterbank["learned"].shape[1]):
            ax.plot(freqs, filterbank["learned"][:, i], color=colours[i % len(colours)], lw=1.0)
        c = filterbank["config"]
        ax.set(xlabel="frequency (Hz, mel-spaced axis)", ylabel="weight", ylim=(0, None))
        _mel_axis(ax, 0.0, c["sample_rate"] / 2, c["htk"], which="x")
        change = np.abs(filterbank["learned"] - filterbank["initial"]).max()
        ax.set_title(
            f"learned filterbank of '{filterbank['name']}' (colours) over its initial mel "
            f"filters (grey, dashed); {c['n_mels']} bands, max change {change:.3g}",
            loc="left",
            fontsize=10,
        )
    return fig


def show(path, params=None, model=None, out=None):
    """Writes the figure for a WAV file to a PNG and returns the PNG's path.

    Args:
        path: a PCM WAV file (several channels are averaged to mono).
        params: front-end settings, any of ``PARAMS`` (with a ``model`` and no
            ``params``, the model's mel settings).
        model: a ``.keras`` path (or model) whose learned mel filterbank to draw.
        out: the PNG path; default ``path`` with ``.png``.
    """
    from audiofront.tools import datasets

    params = dict(params or {})
    _check_params(params)
    y, sample_rate = datasets.load_wav(path)
    channels = 1 if y.ndim == 1 else y.shape[1]
    if y.ndim == 2:
        y = y.mean(axis=1)
    bank = filterbank_data(model) if model is not None else None
    if bank is not None and not params and bank["config"]["sample_rate"] == sample_rate:
        c = bank["config"]
        params = {k: c[k] for k in PARAMS if k in c and k != "top_db"}
    data = show_data(y, sample_rate, **params)
    title = Path(path).name + (f" (mean of {channels} channels)" if channels > 1 else "")
    out = Path(out) if out is not None else Path(path).with_suffix(".png")
    figure(data, bank, title=title).savefig(out, dpi=110)
    return out
