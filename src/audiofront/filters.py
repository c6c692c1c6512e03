"""Numpy-only builders for windows, DFT kernels and filterbanks.

Nothing here imports Keras or a backend: these functions make the arrays that the
layers wrap as weights, and they are useful on their own. They follow
``librosa.filters``: keyword arguments with librosa's names, float64 inside, illegal
input raises a ``ValueError`` naming the argument, degenerate but legal input warns.

Example:

>>> from audiofront import filters
>>> filters.mel_filterbank(sample_rate=16000, n_fft=512, n_mels=40).shape
(40, 257)
>>> filters.dft_kernels(n_fft=512).shape
(512, 514)
"""

import math
import warnings

import numpy as np

from audiofront.validation import check_number, check_positive_int, is_number

__all__ = [
    "C1_HZ",
    "cqt_frequencies",
    "window_bandwidth",
    "wavelet_lengths",
    "cqt_lengths",
    "check_cqt_norm",
    "cqt_filters",
    "cqt_kernels",
    "cqt_octave_downsampling",
    "WINDOWS",
    "FILTERBANK_KINDS",
    "get_window",
    "dft_kernels",
    "idft_kernels",
    "padded_window",
    "dct_matrix",
    "savgol_coefficients",
    "pcen_smoothing",
    "check_sinc_kernel_size",
    "sinc_cutoffs",
    "sinc_window",
    "sinc_time_axis",
    "leaf_lengths",
    "gabor_mel_init",
    "gabor_bandwidth_bounds",
    "gabor_time_axis",
    "gaussian_pooling_axis",
    "fft_frequencies",
    "hz_to_mel",
    "mel_to_hz",
    "mel_frequencies",
    "triangular_filterbank",
    "mel_filterbank",
    "linear_filterbank",
    "log_filterbank",
    "random_filterbank",
    "filterbank",
    "band_groups",
]

WINDOWS = ("hann", "hamming", "blackman", "rectangular")
FILTERBANK_KINDS = ("mel", "linear", "log", "random")

# Generalised cosine windows, a_0 - a_1 cos(2 pi n / N) + a_2 cos(4 pi n / N).
_COSINE_COEFFICIENTS = {
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackman": (0.42, 0.5, 0.08),
    "rectangular": (1.0,),
}


def get_window(window, win_length):
    """A periodic analysis window, as ``scipy.signal.get_window(window, win_length)``.

    Args:
        window: ``"hann"``, ``"hamming"``, ``"blackman"``, ``"rectangular"``, or a
            1-D array-like of length ``win_length`` (returned as float64).
        win_length: window length in samples.

    Returns:
        float64 array of shape ``(win_length,)``. Named windows are periodic
        (``fftbins=True``), the right choice for spectral analysis.

    Example:

    >>> get_window("hann", 4)
    array([0. , 0.5, 1. , 0.5])
    """
    win_length = check_positive_int("win_length", win_length)
    if isinstance(window, str):
        if window not in _COSINE_COEFFICIENTS:
            raise ValueError(
                f"`window` must be one of {WINDOWS} or a 1-D array of length "
                f"win_length={win_length}. Received: window={window!r}"
            )
        if win_length == 1:
            return np.ones(1)  # as scipy: a one-sample window passes the sample
        phase = 2.0 * np.pi * np.arange(win_length) / win_length
        out = np.zeros(win_length)
        for order, coefficient in enumerate(_COSINE_COEFFICIENTS[window]):
            out += (-1) ** order * coefficient * np.cos(order * phase)
        return out
    array = np.asarray(window, dtype=np.float64)
    if array.ndim != 1 or array.shape[0] != win_length:
        raise ValueError(
            f"`window` given as an array must be 1-D of length win_length="
            f"{win_length}. Received: window with shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("`window` given as an array must hold finite values.")
    return array


def padded_window(n_fft, win_length=None, window="hann"):
    """The analysis window of a frame: ``get_window(window, win_length)`` centred in
    ``n_fft`` samples with zeros on both sides (librosa's ``pad_center``).

    Returns:
        float64 array of shape ``(n_fft,)``.
    """
    n_fft = check_positive_int("n_fft", n_fft)
    win_length = n_fft if win_length is None else win_length
    win_length = check_positive_int("win_length", win_length)
    if win_length > n_fft:
        raise ValueError(
            "`win_length` must be at most `n_fft`. "
            f"Received: win_length={win_length}, n_fft={n_fft}"
        )
    full = np.zeros(n_fft)
    offset = (n_fft - win_length) // 2
    full[offset : offset + win_length] = get_window(window, win_length)
    return full


def _dft_angles(n_fft):
    # k * n modulo n_fft in integers keeps the angle exact for large n_fft.
    phase = np.outer(np.arange(n_fft), np.arange(n_fft // 2 + 1)) % n_fft
    return 2.0 * np.pi * phase / n_fft


def dft_kernels(n_fft, win_length=None, window="hann"):
    """Windowed DFT kernels: the weight of a convolutional STFT.

    Column ``k`` of the first half is ``w[n] cos(2 pi k n / n_fft)``, column ``k`` of
    the second half is ``-w[n] sin(2 pi k n / n_fft)``, for ``k = 0 .. n_fft // 2``, so
    that ``frame @ kernels`` gives the real then the imaginary part of
    ``numpy.fft.rfft(frame * w)`` (librosa's sign convention). A window shorter than
    ``n_fft`` is centred in the frame with zeros on both sides, as librosa does.

    Args:
        n_fft: frame length and DFT size.
        win_length: window length, at most ``n_fft``; defaults to ``n_fft``.
        window: a window name or array, see `get_window`.

    Returns:
        float64 array of shape ``(n_fft, 2 * (n_fft // 2 + 1))``.

    Example:

    >>> frame = np.random.default_rng(0).standard_normal(512)
    >>> k = dft_kernels(512)
    >>> spectrum = np.fft.rfft(frame * get_window("hann", 512))
    >>> bool(np.allclose(frame @ k[:, :257], spectrum.real))
    True
    """
    full = padded_window(n_fft, win_length, window)
    angle = _dft_angles(n_fft)
    return np.concatenate([full[:, None] * np.cos(angle), -full[:, None] * np.sin(angle)], axis=1)


def idft_kernels(n_fft, win_length=None, window="hann"):
    """Windowed inverse-DFT kernels: the synthesis weight of an overlap-add inverse STFT.

    ``kernels @ concatenate([X.real, X.imag])`` is ``w * numpy.fft.irfft(X, n_fft)`` for a
    one-sided spectrum ``X`` of ``n_fft // 2 + 1`` bins, ``w`` the padded window (as
    `padded_window`): what ``librosa.istft`` adds into the output for each frame, before
    its window-sum normalisation. The imaginary parts of the DC and Nyquist bins are
    ignored, as ``irfft`` ignores them.

    Returns:
        float64 array of shape ``(n_fft, 2 * (n_fft // 2 + 1))``.

    Example:

    >>> X = np.fft.rfft(np.random.default_rng(0).standard_normal(16))
    >>> w = padded_window(16)
    >>> bool(np.allclose(idft_kernels(16) @ np.concatenate([X.real, X.imag]),
    ...                  w * np.fft.irfft(X, 16)))
    True
    """
    full = padded_window(n_fft, win_length, window)
    angle = _dft_angles(n_fft)
    weight = np.full(n_fft // 2 + 1, 2.0)
    weight[0] = 1.0
    if n_fft % 2 == 0:
        weight[-1] = 1.0
    cos = weight * np.cos(angle) / n_fft
    sin = -weight * np.sin(angle) / n_fft
    sin[:, 0] = 0.0
    if n_fft % 2 == 0:
        sin[:, -1] = 0.0
    return full[:, None] * np.concatenate([cos, sin], axis=1)


def fft_frequencies(sample_rate, n_fft):
    """Centre frequencies in Hz of the ``n_fft // 2 + 1`` rfft bins."""
    return np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)


def hz_to_mel(frequencies, htk=False):
    """Hz to mels: Slaney's auditory toolbox scale, or HTK's with ``htk=True``."""
    frequencies = np.asanyarray(frequencies, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + frequencies / 700.0)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    linear = frequencies / f_sp
    with np.errstate(divide="ignore"):
        log = min_log_mel + np.log(np.maximum(frequencies, 1e-300) / min_log_hz) / logstep
    return np.where(frequencies >= min_log_hz, log, linear)


def mel_to_hz(mels, htk=False):
    """Mels to Hz, the inverse of `hz_to_mel`."""
    mels = np.asanyarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(
        mels >= min_log_mel,
        min_log_hz * np.exp(logstep * (mels - min_log_mel)),
        f_sp * mels,
    )


def mel_frequencies(n_mels=128, fmin=0.0, fmax=11025.0, htk=False):
    """``n_mels`` frequencies in Hz evenly spaced on the mel scale."""
    mels = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


def _check_band_edges(sample_rate, n_fft, n_filters, fmin, fmax, name="n_filters"):
    check_number("sample_rate", sample_rate, minimum=0, strict=True)
    n_fft = check_positive_int("n_fft", n_fft)
    n_filters = check_positive_int(name, n_filters)
    nyquist = sample_rate / 2.0
    fmax = nyquist if fmax is None else fmax
    check_number("fmin", fmin, minimum=0)
    if not is_number(fmax) or fmax > nyquist:
        raise ValueError(
            f"`fmax` must be at most the Nyquist frequency sample_rate / 2 = {nyquist}. "
            f"Received: fmax={fmax!r}"
        )
    if fmin >= fmax:
        raise ValueError(f"`fmin` must be below `fmax`. Received: fmin={fmin!r}, fmax={fmax!r}")
    return n_fft, n_filters, float(fmin), float(fmax)


def triangular_filterbank(edges, sample_rate, n_fft, norm="slaney"):
    """Triangular filters on the rfft bins from band edge frequencies.

    Filter ``i`` rises from ``edges[i]`` to a peak at ``edges[i + 1]`` and falls to
    zero at ``edges[i + 2]``: ``len(edges) - 2`` filters in all. This is the
    construction of ``librosa.filters.mel``, for any spacing of the edges.

    Args:
        edges: increasing frequencies in Hz, at least three.
        sample_rate: sampling rate in Hz.
        n_fft: DFT size.
        norm: ``"slaney"`` (each filter divided by its width in Hz over two, so its
            area is constant), ``None``, or a number ``p``: each filter divided by
            its ``p``-norm (as ``librosa.util.normalize``).

    Returns:
        float64 array of shape ``(len(edges) - 2, n_fft // 2 + 1)``.
    """
    edges = np.asarray(edges, dtype=np.float64)
    fdiff = np.diff(edges)
    ramps = np.subtract.outer(edges, fft_frequencies(sample_rate, n_fft))
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if norm == "slaney":
        weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    elif norm is not None:
        if not is_number(norm) or norm <= 0:
            raise ValueError(
                f'`norm` must be "slaney", None or a positive number. Received: norm={norm!r}'
            )
        if np.isinf(norm):
            length = np.max(np.abs(weights), axis=1, keepdims=True)
        else:
            length = np.sum(np.abs(weights) ** norm, axis=1, keepdims=True) ** (1.0 / norm)
        weights = weights / np.where(length > 0, length, 1.0)
    if not np.all((edges[:-2] == 0) | (weights.max(axis=1) > 0)):
        warnings.warn(
            "Empty filters detected in filterbank. Some channels will produce empty "
            "responses. Try increasing your sampling rate (and fmax), increasing "
            "n_fft, or reducing the number of filters.",
            UserWarning,
            stacklevel=3,
        )
    return weights


def mel_filterbank(sample_rate, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney"):
    """Mel filterbank, equal to ``librosa.filters.mel`` with the same arguments.

    Args:
        sample_rate: sampling rate in Hz (librosa's ``sr``).
        n_fft: DFT size.
        n_mels: number of mel bands.
        fmin: lowest frequency in Hz.
        fmax: highest frequency in Hz, at most ``sample_rate / 2`` (the default).
        htk: HTK's mel formula instead of Slaney's.
        norm: ``"slaney"``, ``None`` or a number ``p`` (see `triangular_filterbank`).

    Returns:
        float64 array of shape ``(n_mels, n_fft // 2 + 1)``.

    Example:

    >>> weights = mel_filterbank(sample_rate=22050, n_fft=2048, n_mels=128)
    >>> weights.shape
    (128, 1025)
    """
    n_fft, n_mels, fmin, fmax = _check_band_edges(sample_rate, n_fft, n_mels, fmin, fmax, "n_mels")
    edges = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)
    weights = triangular_filterbank(edges, sample_rate, n_fft, norm=norm)
    return weights


def linear_filterbank(sample_rate, n_fft, n_filters=128, fmin=0.0, fmax=None, norm="slaney"):
    """Triangular filters with centres evenly spaced in Hz.

    Same arguments and shape conventions as `mel_filterbank`; returns
    ``(n_filters, n_fft // 2 + 1)``.

    Example:

    >>> linear_filterbank(sample_rate=8000, n_fft=256, n_filters=16).shape
    (16, 129)
    """
    n_fft, n_filters, fmin, fmax = _check_band_edges(sample_rate, n_fft, n_filters, fmin, fmax)
    edges = np.linspace(fmin, fmax, n_filters + 2)
    return triangular_filterbank(edges, sample_rate, n_fft, norm=norm)


def log_filterbank(sample_rate, n_fft, n_filters=128, fmin=0.0, fmax=None, norm="slaney"):
    """Triangular filters with centres evenly spaced in log-frequency.

    A logarithmic scale has no zero: ``fmin=0`` (the default) starts the bank at the
    first non-zero DFT bin, ``sample_rate / n_fft``. Otherwise as `mel_filterbank`;
    returns ``(n_filters, n_fft // 2 + 1)``.

    Example:

    >>> log_filterbank(sample_rate=16000, n_fft=1024, n_filters=24, fmin=50.0).shape
    (24, 513)
    """
    n_fft, n_filters, fmin, fmax = _check_band_edges(sample_rate, n_fft, n_filters, fmin, fmax)
    if fmin == 0:
        fmin = sample_rate / n_fft
        if fmin >= fmax:
            raise ValueError(
                "`fmax` must lie above the first DFT bin sample_rate / n_fft = "
                f"{fmin} for a log filterbank. Received: fmax={fmax!r}"
            )
    edges = np.geomspace(fmin, fmax, n_filters + 2)
    return triangular_filterbank(edges, sample_rate, n_fft, norm=norm)


def random_filterbank(n_fft, n_filters=128, seed=None):
    """Non-negative random filters, uniform in ``[0, 2 / n_bins)``, from a numpy seed.

    The scale keeps each band's expected output at the input's mean bin value. The
    same seed gives the same filters on every backend.

    Returns:
        float64 array of shape ``(n_filters, n_fft // 2 + 1)``.

    Example:

    >>> bool(random_filterbank(n_fft=64, n_filters=8, seed=0).min() >= 0)
    True
    """
    n_fft = check_positive_int("n_fft", n_fft)
    n_filters = check_positive_int("n_filters", n_filters)
    bins = n_fft // 2 + 1
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 2.0 / bins, size=(n_filters, bins))


def filterbank(
    kind="mel",
    *,
    sample_rate=22050,
    n_fft=2048,
    n_filters=128,
    fmin=0.0,
    fmax=None,
    htk=False,
    norm="slaney",
    seed=None,
):
    """Any of the filterbanks above by ``kind``: ``"mel"``, ``"linear"``, ``"log"``, ``"random"``.

    ``htk`` applies to ``"mel"`` only; ``"random"`` uses only ``n_fft``, ``n_filters``
    and ``seed``. Returns ``(n_filters, n_fft // 2 + 1)``.
    """
    if not isinstance(kind, str) or kind not in FILTERBANK_KINDS:
        raise ValueError(f"`kind` must be one of {FILTERBANK_KINDS}. Received: kind={kind!r}")
    check_positive_int("n_filters", n_filters)
    if kind == "mel":
        return mel_filterbank(sample_rate, n_fft, n_filters, fmin, fmax, htk, norm)
    if kind == "linear":
        return linear_filterbank(sample_rate, n_fft, n_filters, fmin, fmax, norm)
    if kind == "log":
        return log_filterbank(sample_rate, n_fft, n_filters, fmin, fmax, norm)
    return random_filterbank(n_fft, n_filters, seed)


DCT_TYPES = (1, 2, 3)


def band_groups(weights, cost_per_group=1024):
    """Splits a filterbank into runs of consecutive filters, each with the one range of
    bins that holds all their non-zero weights, so that ``spectrum @ weights.T`` can skip
    the zeros: one small product per run instead of one dense product.

    The runs minimise ``sum(bins x filters) + cost_per_group x runs`` (dynamic
    programming over the filters in order). A dense filterbank gives one run over every
    bin; a mel filterbank of 64 bands on 257 bins, four runs and 3,764 products per frame
    instead of 16,448.

    Args:
        weights: ``(n_filters, n_bins)``, as `mel_filterbank` returns.
        cost_per_group: what one more run costs, in multiply-adds per frame (the default:
            measured on the kapre workload's 128 bands, where 256, 1024 and 4096 were
            within 10% of each other on every backend and a dense product 10-17% slower).

    Returns:
        A tuple of ``(first_filter, stop_filter, first_bin, stop_bin)`` runs that cover
        the filters in order: the product of ``spectrum[..., first_bin:stop_bin]`` with
        ``weights[first_filter:stop_filter, first_bin:stop_bin].T`` is exact for them
        (an all-zero filter gets one bin, whose weight is zero).

    Example:

    >>> runs = band_groups(mel_filterbank(sample_rate=16000, n_fft=512, n_mels=64))
    >>> len(runs), sum((b1 - b0) * (f1 - f0) for f0, f1, b0, b1 in runs)
    (4, 3764)
    """
    weights = np.asarray(weights)
    if weights.ndim != 2 or 0 in weights.shape:
        raise ValueError(
            "`weights` must be a non-empty (n_filters, n_bins) matrix. "
            f"Received: weights of shape {weights.shape}"
        )
    cost_per_group = check_number("cost_per_group", cost_per_group, minimum=0)
    count, bins = weights.shape
    nonzero = weights != 0
    filled = nonzero.any(axis=1)
    # An all-zero filter does not widen its run (first > stop); a run of them gets bin 0.
    first = np.where(filled, nonzero.argmax(axis=1), bins).tolist()
    stop = np.where(filled, bins - nonzero[:, ::-1].argmax(axis=1), 0).tolist()
    best, cut, span = [0.0] + [math.inf] * count, [0] * (count + 1), [None] * (count + 1)
    for j in range(1, count + 1):
        low, high = bins, 0
        for i in range(j - 1, -1, -1):
            low, high = min(low, first[i]), max(high, stop[i])
            edges = (low, high) if low < high else (0, 1)
            total = best[i] + (edges[1] - edges[0]) * (j - i) + cost_per_group
            if total < best[j]:
                best[j], cut[j], span[j] = total, i, edges
    runs, j = [], count
    while j:
        runs.append((cut[j], j, *span[j]))
        j = cut[j]
    return tuple(runs[::-1])


def dct_matrix(n_input, n_output=None, dct_type=2, norm="ortho", lifter=0.0):
    """The DCT as a matrix: ``x @ D`` is ``scipy.fftpack.dct(x, type=dct_type, norm=norm)``
    along the last axis, its first ``n_output`` coefficients, liftered as librosa's MFCC.

    Args:
        n_input: length of the transformed axis (the mel bands).
        n_output: coefficients kept (``n_mfcc``), at most ``n_input``; all by default.
        dct_type: 1, 2 or 3 (type 1 needs ``n_input >= 2``).
        norm: ``"ortho"`` (an orthonormal basis) or None (scipy's unnormalised sums).
        lifter: 0 for none; ``L > 0`` multiplies coefficient ``k`` (from 0) by
            ``1 + (L / 2) * sin(pi * (k + 1) / L)`` (``librosa.feature.mfcc``).

    Returns:
        float64 array of shape ``(n_input, n_output)``.

    Example:

    >>> x = np.random.default_rng(0).standard_normal(8)
    >>> D = dct_matrix(8)
    >>> bool(np.allclose(D @ D.T, np.eye(8)))  # orthonormal
    True
    """
    n = check_positive_int("n_input", n_input)
    n_output = n if n_output is None else check_positive_int("n_mfcc", n_output)
    if n_output > n:
        raise ValueError(
            f"`n_mfcc` must be at most the number of mel bands n_mels={n}. "
            f"Received: n_mfcc={n_output}"
        )
    if dct_type not in DCT_TYPES or isinstance(dct_type, bool):
        raise ValueError(f"`dct_type` must be one of {DCT_TYPES}. Received: dct_type={dct_type!r}")
    if norm not in ("ortho", None):
        raise ValueError(f'`dct_norm` must be "ortho" or None. Received: dct_norm={norm!r}')
    lifter = check_number("lifter", lifter, minimum=0)
    i = np.arange(n)[:, None].astype(np.float64)  # input index
    k = np.arange(n)[None, :].astype(np.float64)  # output index
    if dct_type == 1:
        if n < 2:
            raise ValueError(f"`dct_type` 1 needs at least 2 mel bands. Received: n_mels={n}")
        D = 2.0 * np.cos(np.pi * i * k / (n - 1))
        D[0, :] = 1.0
        D[-1, :] = (-1.0) ** np.arange(n)
        if norm == "ortho":
            ends = np.ones(n)
            ends[[0, -1]] = np.sqrt(0.5)
            D = np.sqrt(2.0 / (n - 1)) * np.cos(np.pi * i * k / (n - 1)) * ends[:, None] * ends
    elif dct_type == 2:
        D = 2.0 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))
        if norm == "ortho":
            D *= np.where(k == 0, np.sqrt(1.0 / (4 * n)), np.sqrt(1.0 / (2 * n)))
    else:
        D = 2.0 * np.cos(np.pi * i * (2 * k + 1) / (2 * n))
        D[0, :] = 1.0
        if norm == "ortho":
            D = np.where(i == 0, 1.0 / np.sqrt(n), np.sqrt(2.0 / n) * D / 2.0)
    D = D[:, :n_output]
    if lifter > 0:
        D = D * (1.0 + (lifter / 2.0) * np.sin(np.pi * np.arange(1, n_output + 1) / lifter))
    return D


def savgol_coefficients(width, order):
    """The Savitzky-Golay derivative filter of ``librosa.feature.delta``: ``h`` such that
    ``sum_j h[j] * x[t + j - width // 2]`` is the ``order``-th derivative, at ``t``, of the
    least-squares polynomial of degree ``order`` through the ``width`` samples around ``t``.

    Example:

    >>> np.round(savgol_coefficients(5, 1) * 10, 12) + 0.0  # + 0.0: no negative zeros
    array([-2., -1.,  0.,  1.,  2.])
    """
    width = check_positive_int("width", width)
    order = check_positive_int("order", order)
    half = width // 2
    positions = np.arange(-half, half + 1, dtype=np.float64)
    vandermonde = positions[:, None] ** np.arange(order + 1)
    return math.factorial(order) * np.linalg.pinv(vandermonde)[order]


C1_HZ = 32.70319566257483  # librosa.note_to_hz("C1"): the CQT's default lowest frequency


def cqt_frequencies(n_bins, fmin=C1_HZ, bins_per_octave=12):
    """Centre frequencies of a constant-Q transform: ``fmin * 2 ** (k / bins_per_octave)``,
    as ``librosa.cqt_frequencies``.

    Example:

    >>> cqt_frequencies(3, fmin=110.0, bins_per_octave=1)
    array([110., 220., 440.])
    """
    n_bins = check_positive_int("n_bins", n_bins)
    bins_per_octave = check_positive_int("bins_per_octave", bins_per_octave)
    check_number("fmin", fmin, minimum=0.0, strict=True)
    return float(fmin) * 2.0 ** (np.arange(n_bins) / bins_per_octave)


def window_bandwidth(window):
    """The equivalent noise bandwidth of a named window in bins, ``n * sum(w**2) / sum(w)**2``
    over 1000 samples (``librosa.filters.window_bandwidth``'s definition).

    Example:

    >>> round(float(window_bandwidth("hann")), 3)
    1.5
    """
    w = get_window(window, 1000)
    return float(len(w) * np.sum(w**2) / np.sum(w) ** 2)


def wavelet_lengths(freqs, sample_rate, window="hann", filter_scale=1.0, bins_per_octave=12):
    """Filter lengths (samples, fractional) and the highest frequency the filters reach, of a
    constant-Q basis: ``librosa.filters.wavelet_lengths`` with ``gamma=0`` and the relative
    bandwidth from the spacing of ``freqs`` (``bins_per_octave`` when there is one).

    Example:

    >>> lengths, cutoff = wavelet_lengths(cqt_frequencies(2, 1000.0), 16000)
    >>> np.round(lengths, 1), round(cutoff, 1)
    (array([277.3, 261.7]), 1105.3)
    """
    freqs = np.asarray(freqs, np.float64)
    if len(freqs) > 1:
        logf = np.log2(freqs)
        bpo = np.empty_like(freqs)
        bpo[0], bpo[-1] = 1 / (logf[1] - logf[0]), 1 / (logf[-1] - logf[-2])
        bpo[1:-1] = 2 / (logf[2:] - logf[:-2])
    else:
        bpo = np.full_like(freqs, float(bins_per_octave))
    alpha = (2.0 ** (2 / bpo) - 1) / (2.0 ** (2 / bpo) + 1)
    q = float(filter_scale) / alpha
    cutoff = np.max(freqs * (1 + 0.5 * window_bandwidth(window) / q))
    return q * sample_rate / freqs, float(cutoff)


CQT_NORMS = (1, 2, None)


def check_cqt_norm(norm):
    """``norm`` if it is one of `CQT_NORMS`, else a ``ValueError`` naming it."""
    if norm not in CQT_NORMS or isinstance(norm, bool):
        raise ValueError(f"`norm` must be one of {CQT_NORMS}. Received: norm={norm!r}")
    return norm


def cqt_lengths(
    sample_rate, fmin=C1_HZ, n_bins=84, bins_per_octave=12, filter_scale=1.0, window="hann"
):  # fmt: skip
    """The wavelets' lengths ``L_k`` (`wavelet_lengths`) and the common even length they
    are centred in; a ``ValueError`` when the top filter reaches past Nyquist.

    Example:

    >>> lengths, size = cqt_lengths(8000, fmin=100.0, n_bins=12)
    >>> size
    1388
    """
    freqs = cqt_frequencies(n_bins, fmin, bins_per_octave)
    filter_scale = check_number("filter_scale", filter_scale, minimum=0.0, strict=True)
    lengths, cutoff = wavelet_lengths(freqs, sample_rate, window, filter_scale, bins_per_octave)
    if cutoff > sample_rate / 2:
        raise ValueError(
            f"The top CQT filter reaches {cutoff:.1f} Hz, past the Nyquist frequency "
            f"{sample_rate / 2:g} Hz: lower `n_bins` or `fmin`. Received: n_bins={n_bins}, "
            f"fmin={fmin}, bins_per_octave={bins_per_octave}, sample_rate={sample_rate}"
        )
    size = int(np.ceil(np.max(lengths)))
    return lengths, size + size % 2


def cqt_filters(
    sample_rate, fmin=C1_HZ, n_bins=84, bins_per_octave=12, filter_scale=1.0, norm=1,
    window="hann",
):  # fmt: skip
    """The complex wavelets of a constant-Q transform, librosa's design
    (``librosa.filters.wavelet``): filter ``k`` is ``window(L_k) * exp(2j pi f_k n / sr)``
    for ``n`` in ``[-L_k // 2, L_k // 2)``, normalised (``norm`` 1 or 2, or None), centred
    in a common even length.

    Returns:
        ``(filters, lengths)``: complex128 ``(n_bins, length)`` and the float lengths
        ``L_k``. Raises a ``ValueError`` when the top filter reaches past Nyquist.

    Example:

    >>> basis, lengths = cqt_filters(8000, fmin=100.0, n_bins=12)
    >>> basis.shape, round(float(np.abs(basis[0]).sum()), 6)
    ((12, 1388), 1.0)
    """
    check_cqt_norm(norm)
    freqs = cqt_frequencies(n_bins, fmin, bins_per_octave)
    lengths, size = cqt_lengths(sample_rate, fmin, n_bins, bins_per_octave, filter_scale, window)
    basis = np.zeros((len(freqs), size), np.complex128)
    for k, (length, freq) in enumerate(zip(lengths, freqs)):
        n = np.arange(-length // 2, length // 2)
        filt = np.exp(2j * np.pi * freq / sample_rate * n)
        filt *= get_window(window, len(n))
        if norm is not None:
            filt /= np.sum(np.abs(filt) ** norm) ** (1.0 / norm)
        start = (size - len(filt)) // 2
        basis[k, start : start + len(filt)] = filt
    return basis, lengths


def _two_factors(n):
    count = 0
    while n > 0 and n % 2 == 0:
        n //= 2
        count += 1
    return count


def cqt_octave_downsampling(sample_rate, hop_length, n_bins, bins_per_octave, cutoff):
    """How many times librosa's ``cqt`` halves the sample rate before filtering each bin:
    its early downsampling (while the filters stay far below Nyquist and the hop allows),
    then once per octave below the top one while the hop stays even. ``(n_bins,)`` ints.

    Example:

    >>> cqt_octave_downsampling(22050, 512, 36, 12, 500.0)[::12]  # top octave last
    array([5, 4, 3])
    """
    n_octaves = int(np.ceil(n_bins / bins_per_octave))
    early = min(
        max(0, int(np.ceil(np.log2(sample_rate / 2 / cutoff)) - 1) - 1),
        max(0, _two_factors(hop_length) - n_octaves + 1),
    )
    halvings = _two_factors(hop_length // 2**early)
    octave = (n_bins - 1 - np.arange(n_bins)) // min(bins_per_octave, n_bins)
    return early + np.minimum(octave, halvings)


def cqt_kernels(
    sample_rate, fmin=C1_HZ, n_bins=84, bins_per_octave=12, filter_scale=1.0, norm=1,
    window="hann", scale=True, hop_length=512,
):  # fmt: skip
    """The real kernels of a constant-Q transform as one strided convolution, shape
    ``(length, 2 * n_bins)``: the real parts of the conjugated wavelets (`cqt_filters`), then
    their imaginary parts, each times ``sqrt(L_k)`` (``scale=True``, librosa's default) or
    ``L_k``, so that correlating frames with them gives ``librosa.cqt``'s values.

    librosa filters lower octaves at lower sample rates, and its gains compensate for that
    exactly only with ``norm=1``: with ``norm=2`` a bin filtered ``k`` halvings down comes out
    ``2 ** (-k / 2)`` times the full-rate value, with ``norm=None`` ``2 ** -k``
    (`cqt_octave_downsampling`, which depends on ``hop_length``). The kernels carry the
    same gains, so that every ``norm`` gives librosa's numbers.

    Example:

    >>> cqt_kernels(8000, fmin=100.0, n_bins=12).shape
    (1388, 24)
    """
    basis, lengths = cqt_filters(
        sample_rate, fmin, n_bins, bins_per_octave, filter_scale, norm, window
    )
    gain = np.sqrt(lengths) if scale else lengths
    if norm != 1:
        cutoff = wavelet_lengths(
            cqt_frequencies(n_bins, fmin, bins_per_octave), sample_rate, window, filter_scale,
            bins_per_octave,
        )[1]  # fmt: skip
        halvings = cqt_octave_downsampling(
            sample_rate, check_positive_int("hop_length", hop_length), n_bins,
            bins_per_octave, cutoff,
        )  # fmt: skip
        gain = gain * 2.0 ** (-halvings * (1.0 if norm is None else 1.0 - 1.0 / norm))
    basis = np.conj(basis) * gain[:, None]
    return np.concatenate([basis.real, basis.imag], axis=0).T


def pcen_smoothing(time_constant, sample_rate, hop_length):
    """The smoothing coefficient ``b`` of PCEN's first-order IIR smoother, from its time
    constant in seconds, as ``librosa.pcen``: ``t = time_constant * sample_rate /
    hop_length`` frames, ``b = (sqrt(1 + 4 t**2) - 1) / (2 t**2)``.

    Example:

    >>> round(float(pcen_smoothing(0.4, 22050, 512)), 5)
    0.05639
    """
    frames = time_constant * sample_rate / float(hop_length)
    return (np.sqrt(1 + 4 * frames**2) - 1) / (2 * frames**2)


def check_sinc_kernel_size(kernel_size):
    """SincNet's filter length: an odd integer >= 3 (the filters are symmetric about a
    centre tap; speechbrain's ``SincConv`` rejects even sizes too).

    Example:

    >>> check_sinc_kernel_size(251)
    251
    """
    kernel_size = check_positive_int("kernel_size", kernel_size)
    if kernel_size < 3 or kernel_size % 2 == 0:
        raise ValueError(
            "`kernel_size` must be an odd integer >= 3 (sinc filters are symmetric about a "
            f"centre tap). Received: kernel_size={kernel_size!r}"
        )
    return kernel_size


def sinc_cutoffs(n_filters, sample_rate=16000, min_low_hz=50.0, min_band_hz=50.0):
    """The initial parameters of SincNet's band-pass filters, ``(low_hz_, band_hz_)``, each
    ``(n_filters,)``, as speechbrain's ``SincConv``: ``n_filters + 1`` edges evenly spaced on
    the HTK mel scale from ``min_low_hz`` to ``sample_rate / 2 - (min_low_hz +
    min_band_hz)``; ``low_hz_`` the lower edges, ``band_hz_`` the spacings.

    A filter's cut-offs are then ``low = min_low_hz + |low_hz_|`` and ``high = clip(low +
    min_band_hz + |band_hz_|, min_low_hz, sample_rate / 2)`` (the last filter's ``high`` is
    Nyquist). Illegal: ``2 * min_low_hz + min_band_hz >= sample_rate / 2`` (no room for
    increasing edges).

    Example:

    >>> low, band = sinc_cutoffs(4, sample_rate=16000)
    >>> np.round(low + 50.0), np.round(50.0 + low + 50.0 + band)
    (array([ 100.,  730., 1890., 4023.]), array([ 780., 1940., 4073., 8000.]))
    """
    n_filters = check_positive_int("n_filters", n_filters)
    sample_rate = check_number("sample_rate", sample_rate, minimum=0, strict=True)
    min_low_hz = check_number("min_low_hz", min_low_hz, minimum=0)
    min_band_hz = check_number("min_band_hz", min_band_hz, minimum=0, strict=True)
    high_hz = sample_rate / 2 - (min_low_hz + min_band_hz)
    if high_hz <= min_low_hz:
        raise ValueError(
            "`min_low_hz` and `min_band_hz` leave no room below Nyquist: the initial edges "
            "span min_low_hz .. sample_rate / 2 - (min_low_hz + min_band_hz), so "
            "2 * min_low_hz + min_band_hz must be below sample_rate / 2. Received: "
            f"min_low_hz={min_low_hz!r}, min_band_hz={min_band_hz!r}, sample_rate={sample_rate!r}"
        )
    mels = np.linspace(hz_to_mel(min_low_hz, htk=True), hz_to_mel(high_hz, htk=True), n_filters + 1)
    edges = mel_to_hz(mels, htk=True)
    return edges[:-1], np.diff(edges)


def sinc_window(kernel_size):
    """The left half (``kernel_size // 2`` taps, outermost first) of SincNet's Hamming
    window, as speechbrain's ``SincConv``: ``0.54 - 0.46 cos(2 pi m / kernel_size)`` at
    ``kernel_size // 2`` points ``m`` evenly spaced from 0 to ``kernel_size / 2 - 1``.

    Example:

    >>> np.round(sinc_window(7), 4)
    array([0.08  , 0.3404, 0.8268])
    """
    kernel_size = check_sinc_kernel_size(kernel_size)
    m = np.linspace(0.0, kernel_size / 2 - 1, kernel_size // 2)
    return 0.54 - 0.46 * np.cos(2 * np.pi * m / kernel_size)


def sinc_time_axis(kernel_size, sample_rate=16000):
    """The left half of SincNet's time axis in radians per Hz, ``2 pi t / sample_rate`` at
    ``t = -(kernel_size - 1) / 2, ..., -1`` (``kernel_size // 2`` taps): a cut-off ``f`` in Hz
    times it gives the phase ``2 pi f t / sample_rate`` of the filter's sinc terms.

    Example:

    >>> sinc_time_axis(5, sample_rate=2 * np.pi)
    array([-2., -1.])
    """
    kernel_size = check_sinc_kernel_size(kernel_size)
    sample_rate = check_number("sample_rate", sample_rate, minimum=0, strict=True)
    half = (kernel_size - 1) // 2
    return 2 * np.pi * np.arange(-half, 0, dtype=np.float64) / sample_rate


# -- LEAF (Zeghidour et al., 2021), as speechbrain's Leaf ---------------------------------


def leaf_lengths(sample_rate, window_len=25.0, window_stride=10.0):
    """LEAF's filter length and pooling stride in samples, from milliseconds, as
    speechbrain's ``Leaf``: ``int(sample_rate * window_len // 1000 + 1)`` and
    ``int(sample_rate * window_stride // 1000)``.

    Example:

    >>> leaf_lengths(16000, 25.0, 10.0)
    (401, 160)
    """
    sample_rate = check_number("sample_rate", sample_rate, minimum=0, strict=True)
    window_len = check_number("window_len", window_len, minimum=0, strict=True)
    window_stride = check_number("window_stride", window_stride, minimum=0, strict=True)
    kernel_size = int(sample_rate * window_len // 1000 + 1)
    stride = int(sample_rate * window_stride // 1000)
    if kernel_size < 3:
        raise ValueError(
            "`window_len` must span at least 2 samples (a filter of 3 taps). "
            f"Received: window_len={window_len} at sample_rate={sample_rate}"
        )
    if stride < 1:
        raise ValueError(
            "`window_stride` must span at least one sample. "
            f"Received: window_stride={window_stride} at sample_rate={sample_rate}"
        )
    return kernel_size, stride


def gabor_mel_init(n_filters, sample_rate, min_freq=60.0, max_freq=None, n_fft=512):
    """LEAF's Gabor parameters fitted to an HTK mel filterbank (no norm), as speechbrain's
    ``GaborConv1d``: each filter's centre is the peak bin of the square root of its mel
    triangle, and its width the number of bins at or above half that peak (the FWHM).
    Computed in float32 as speechbrain does, so that ties fall the same way.

    Args:
        n_filters: number of filters.
        sample_rate: sampling rate in Hz.
        min_freq: lowest mel edge in Hz.
        max_freq: highest mel edge in Hz (default ``sample_rate / 2``).
        n_fft: DFT size of the mel filterbank the filters are fitted to.

    Returns:
        ``(centers, bandwidths)``, float64 arrays of shape ``(n_filters,)``: centre
        frequencies in radians per sample, in ``[0, pi]``, and the Gaussian envelopes'
        standard deviations in samples, ``sqrt(2 ln 2) * n_fft / (pi * fwhm_bins)``.

    Example:

    >>> centers, bandwidths = gabor_mel_init(40, 16000, 60.0, 7800.0)
    >>> centers.shape, bool(np.all(np.diff(centers) >= 0)), bool(centers.max() <= np.pi)
    ((40,), True, True)
    """
    n_filters = check_positive_int("n_filters", n_filters)
    bank = mel_filterbank(
        sample_rate, n_fft, n_mels=n_filters, fmin=min_freq, fmax=max_freq, htk=True, norm=None
    )
    root = np.sqrt(bank.astype(np.float32))
    peaks = root.max(axis=1, keepdims=True)
    fwhms = np.sum(root >= peaks / np.float32(2.0), axis=1).astype(np.float32)
    centers = np.argmax(root, axis=1).astype(np.float32) * np.float32(2 * np.pi / n_fft)
    coeff = np.float32(np.sqrt(2.0 * np.log(2.0)) * n_fft)
    bandwidths = coeff / (np.float32(np.pi) * fwhms)
    return centers.astype(np.float64), bandwidths.astype(np.float64)


def gabor_bandwidth_bounds(kernel_size):
    """The range LEAF clamps a Gabor filter's standard deviation (in samples) to:
    ``[4, kernel_size] * sqrt(2 ln 2) / pi`` (a FWHM of 4 samples up to the filter length).

    Example:

    >>> [round(float(b), 4) for b in gabor_bandwidth_bounds(401)]
    [1.4991, 150.2873]
    """
    kernel_size = check_positive_int("kernel_size", kernel_size)
    unit = np.sqrt(2.0 * np.log(2.0)) / np.pi
    return 4.0 * unit, kernel_size * unit


def gabor_time_axis(kernel_size):
    """The taps of a LEAF Gabor filter, in samples relative to its centre:
    ``-(kernel_size // 2), ..., (kernel_size + 1) // 2 - 1``.

    Example:

    >>> gabor_time_axis(5)
    array([-2., -1.,  0.,  1.,  2.])
    """
    kernel_size = check_positive_int("kernel_size", kernel_size)
    return np.arange(-(kernel_size // 2), (kernel_size + 1) // 2, dtype=np.float64)


def gaussian_pooling_axis(kernel_size):
    """The taps of LEAF's Gaussian low-pass pooling filter, relative to its centre in
    half-lengths, ``(t - (kernel_size - 1) / 2) / ((kernel_size - 1) / 2)`` for ``t = 0 ..
    kernel_size - 1`` (from -1 to 1): the filter of width ``w`` is ``exp(-0.5 (u / w)**2)``.

    Example:

    >>> gaussian_pooling_axis(5)
    array([-1. , -0.5,  0. ,  0.5,  1. ])
    """
    kernel_size = check_positive_int("kernel_size", kernel_size)
    if kernel_size < 2:
        raise ValueError(f"`kernel_size` must be at least 2. Received: kernel_size={kernel_size}")
    half = 0.5 * (kernel_size - 1)
    return (np.arange(kernel_size, dtype=np.float64) - half) / half
