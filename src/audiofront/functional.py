"""Stateless front-end operations written against ``keras.ops`` only.

The layers are thin classes over these functions: they hold configuration and
weights, these do the arithmetic. Every function traces under ``jax.jit``,
``tf.function(jit_compile=True)`` and ``torch.compile``: no branching on tensor values
or on symbolic shapes, and no ``keras.ops.pad`` (it makes ``torch.compile`` recompile
on every call); padding is built from slices and concatenation. Reductions use
``ops.amax`` rather than ``ops.max``, which breaks the ``torch.compile`` graph.
"""

import math

import keras
import numpy as np
from keras import ops


def fold_channels(inputs, data_format):
    """Waveforms ``(batch, samples[, channels])`` to ``(batch * channels, samples)``.

    ``data_format`` applies to 3-D input only: ``"channels_last"`` is
    ``(batch, samples, channels)``, ``"channels_first"`` ``(batch, channels, samples)``.
    """
    if len(inputs.shape) == 2:
        return inputs
    if data_format == "channels_last":
        inputs = ops.transpose(inputs, (0, 2, 1))
    return ops.reshape(inputs, (-1, ops.shape(inputs)[-1]))


def unfold_channels(features, input_rank, channels, data_format):
    """``(batch * channels, frames, bins)`` to the 4-D layout of the contract."""
    if input_rank == 2:
        axis = -1 if data_format == "channels_last" else 1
        return ops.expand_dims(features, axis)
    shape = ops.shape(features)
    features = ops.reshape(features, (-1, channels, shape[1], shape[2]))
    if data_format == "channels_last":
        features = ops.transpose(features, (0, 2, 3, 1))
    return features


def center_pad(signals, pad, pad_mode):
    """Pads ``(batch, samples)`` by ``pad`` samples on both sides, as ``numpy.pad``.

    ``pad_mode`` is ``"constant"`` (zeros) or ``"reflect"`` (mirror without repeating
    the edge sample; needs more than ``pad`` samples).
    """
    if pad == 0:
        return signals
    if pad_mode == "reflect":
        left = ops.flip(signals[:, 1 : pad + 1], axis=1)
        right = ops.flip(signals[:, -pad - 1 : -1], axis=1)
    else:
        left = right = ops.zeros((ops.shape(signals)[0], pad), dtype=signals.dtype)
    return ops.concatenate([left, signals, right], axis=1)


def conv_stft(signals, kernel, hop_length):
    """Frames and transforms ``(batch, samples)`` with one strided convolution.

    Args:
        signals: ``(batch, samples)``, already padded.
        kernel: ``(n_fft, 1, 2 * bins)``, cosine kernels then sine kernels (see
            `audiofront.filters.dft_kernels`).
        hop_length: stride in samples.

    Returns:
        ``(real, imag)``, each ``(batch, frames, bins)`` with
        ``frames = 1 + (samples - n_fft) // hop_length``.
    """
    spectra = ops.conv(ops.expand_dims(signals, -1), kernel, strides=hop_length, padding="valid")
    bins = kernel.shape[-1] // 2
    return spectra[..., :bins], spectra[..., bins:]


def fft_stft(signals, window, hop_length):
    """Frames ``(batch, samples)``, windows the frames and takes their real FFT.

    The same transform as `conv_stft` with an exact DFT kernel, for frozen kernels:
    ``window`` is the ``(n_fft,)`` analysis window (zero-padded to ``n_fft``). Returns
    ``(real, imag)``, each ``(batch, frames, n_fft // 2 + 1)``.

    The framing is the backend's fastest measured one (see `audiofront.dispatch`):
    ``keras.ops.stft`` (``torch.stft``, ``tf.signal.stft``: strided views, no copy of
    the overlapping frames) on torch and TensorFlow; an index gather then ``ops.rfft``
    on JAX, where ``ops.stft`` goes through ``jax.scipy.signal.stft`` and is slower.
    """
    n_fft = window.shape[0]
    if keras.backend.backend() != "jax":
        return ops.stft(signals, n_fft, hop_length, n_fft, window=window, center=False)
    length = signals.shape[1]
    frames = 1 + (length - n_fft) // hop_length
    index = ops.arange(n_fft)[None, :] + hop_length * ops.arange(frames)[:, None]
    return ops.rfft(ops.take(signals, index, axis=1) * window)


def blocked_stft(signals, window, hop_length, features, pad=0, pad_mode="constant", block=64):
    """`fft_stft` then ``features`` one block of frames at a time, so that no full-size
    framed signal, spectrum or power spectrum is ever made: each block is framed (an index
    gather from the unpadded signal: the centre padding is done by the indices), windowed,
    transformed (``ops.rfft``) and reduced to its features by ``features(real, imag)``
    (``(batch, block, bins)`` each, to ``(batch, block, out)`` or a tuple of such) before
    the next block starts (``keras.ops.map`` over the blocks).

    Args:
        signals: ``(batch, samples)``, not padded.
        window: the ``(n_fft,)`` analysis window (zero-padded to ``n_fft``).
        hop_length: samples between frames.
        features: what each block's spectrum becomes.
        pad: samples of centre padding on each side (``n_fft // 2`` or 0).
        pad_mode: ``"constant"`` or ``"reflect"``, as `center_pad`.
        block: frames per block (each block holds them for the whole batch).

    Returns:
        ``features`` of all the frames, ``(batch, frames, out)`` (or a tuple), with
        ``frames = 1 + (samples + 2 * pad - n_fft) // hop_length``.
    """
    n_fft = window.shape[0]
    length = signals.shape[1]
    frames = 1 + (length + 2 * pad - n_fft) // hop_length
    blocks = -(-frames // block)
    # Sample positions of one block's frames in the unpadded signal, block 0.
    # (Built with ops, not numpy: torch.compile breaks its graph on a numpy constant here.)
    offsets = ops.arange(block, dtype="int32")[:, None] * hop_length
    offsets = offsets + ops.arange(n_fft, dtype="int32")[None, :] - pad
    last = length - 1

    def one_block(start):
        position = offsets + start
        taper = window
        if pad_mode == "reflect" and pad:
            position = ops.abs(position)
            position = ops.where(position > last, 2 * last - position, position)
        elif pad:  # zeros outside the signal: a window that is zero there
            inside = ops.logical_and(position >= 0, position <= last)
            taper = ops.where(inside, window, ops.zeros_like(window))
        # The last block's frames past the end are cropped below.
        position = ops.clip(position, 0, last)
        real, imag = ops.rfft(ops.take(signals, position, axis=1) * taper)
        return features(real, imag)

    starts = ops.arange(blocks, dtype="int32") * (block * hop_length)
    stacked = ops.map(one_block, starts)  # (blocks, batch, block, out)

    def unblock(x):
        x = ops.transpose(x, (1, 0, 2, 3))
        x = ops.reshape(x, (ops.shape(x)[0], blocks * block, x.shape[-1]))
        return x[:, :frames]

    return keras.tree.map_structure(unblock, stacked)


def overlap_add(real, imag, kernel, hop_length):
    """Synthesises frames from ``(real, imag)`` (``(N, frames, bins)`` each) with ``kernel``
    (``(n_fft, 1, 2 * bins)``, see `audiofront.filters.idft_kernels`) and adds them up
    ``hop_length`` apart: one strided transposed convolution. Returns
    ``(N, (frames - 1) * hop_length + n_fft)``."""
    coefficients = ops.concatenate([real, imag], axis=-1)
    return ops.conv_transpose(coefficients, kernel, strides=hop_length, padding="valid")[..., 0]


def inverse_stft(real, imag, kernel, window, hop_length, center=True, length=None):
    """``librosa.istft``: overlap-add of the synthesised frames, divided by the overlap-add
    of the squared window where that is above the dtype's smallest normal number.

    Args:
        real, imag: ``(N, frames, bins)`` each.
        kernel: the synthesis kernel ``(n_fft, 1, 2 * bins)``.
        window: the padded analysis window ``(n_fft,)`` (for the normalisation).
        hop_length: samples between frames.
        center: drop the ``n_fft // 2`` samples the analysis padded on each side.
        length: the output length (cropped or zero-padded), else all the frames give.

    Returns:
        ``(N, samples)``.
    """
    n_fft = kernel.shape[0]
    start = n_fft // 2 if center else 0
    if length is not None:
        # librosa uses only the frames that reach into the requested length.
        keep = -(-(length + 2 * start) // hop_length)
        real, imag = real[:, :keep], imag[:, :keep]
    y = overlap_add(real, imag, kernel, hop_length)
    ones = ops.ones_like(real[:1, :, :1])
    squared = ops.reshape(ops.square(window), (n_fft, 1, 1))
    window_sum = ops.conv_transpose(ones, squared, strides=hop_length, padding="valid")[..., 0]
    tiny = float(np.finfo(keras.backend.standardize_dtype(y.dtype)).tiny)
    big = window_sum > tiny
    y = ops.where(big, y / ops.where(big, window_sum, 1.0), y)
    if length is None:
        return y[:, start:-start] if start else y
    zeros = ops.zeros((ops.shape(y)[0], length), dtype=y.dtype)
    return ops.concatenate([y, zeros], axis=1)[:, start : start + length]


def magnitude_to_power(real, imag, power=2.0):
    """``|X| ** power`` from real and imaginary parts, with a finite gradient at 0."""
    squared = ops.square(real) + ops.square(imag)
    return squared if power == 2.0 else safe_power(squared, power / 2.0)


def apply_filterbank(spectra, filterbank, axis=-1, runs=None):
    """Maps ``axis`` of ``spectra`` (bins) to bands: ``spectra @ filterbank`` along it.

    ``runs`` (last axis only; `audiofront.filters.band_groups` of ``filterbank.T``) skips
    the filterbank's zeros: one product per run of bands over its own bins, concatenated.
    """
    if axis in (-1, len(spectra.shape) - 1):
        if runs is None or len(runs) == 1 and runs[0][2:] == (0, filterbank.shape[0]):
            return ops.matmul(spectra, filterbank)
        parts = [
            ops.matmul(spectra[..., b0:b1], filterbank[b0:b1, f0:f1]) for f0, f1, b0, b1 in runs
        ]
        return ops.concatenate(parts, axis=-1)
    return ops.swapaxes(ops.matmul(ops.swapaxes(spectra, axis, -1), filterbank), axis, -1)


def to_decibel(x, multiplier=10.0, ref=1.0, amin=1e-10, top_db=80.0):
    """``multiplier * log10(max(amin, x) / max(amin, ref))``, clipped at ``top_db``.

    ``multiplier`` is 10 for power and 20 for magnitude (librosa's ``power_to_db``
    and ``amplitude_to_db``). ``ref="max"`` takes each example's maximum; ``top_db``
    clips each example at its own maximum minus ``top_db``. Statistics run over all
    axes but the first (batch), never across the batch.
    """
    axes = tuple(range(1, len(x.shape)))
    x = ops.where(x < amin, amin, x)
    db = multiplier * ops.log10(x)
    if ref == "max" or top_db is not None:
        # The log of the maximum, not the maximum of the logs (equal: log10 is increasing):
        # XLA on a CPU took 5x longer to reduce the logs (jax, 16 x 3751 x 128: 102 ms
        # against 15). A NaN propagates either way.
        peak = multiplier * ops.log10(ops.amax(x, axis=axes, keepdims=True))
    if ref == "max":
        db = db - peak
        return db if top_db is None else ops.where(db < -top_db, -top_db, db)
    offset = multiplier * math.log10(max(amin, ref))
    if offset != 0.0:
        db = db - offset
    if top_db is None:
        return db
    # ops.maximum of two tensors: a NaN anywhere in the example makes its floor, and so
    # the whole example, NaN rather than leaving it unclipped.
    return ops.maximum(db, peak - offset - top_db)


def safe_power(x, exponent):
    """``x ** exponent`` (``exponent > 0``) that is exactly 0, with a zero gradient, where
    ``x <= 0`` (the root's gradient at 0 is infinite); NaN compares False and stays NaN.

    Built from ``ops.where`` rather than ``ops.maximum(x, tiny)``: no 1e-15 left on silence,
    and Keras's torch backend computes ``ops.maximum`` with a Python float in float32.
    """
    zero = x <= 0
    safe = ops.where(zero, 1.0, x)
    root = ops.sqrt(safe) if exponent == 0.5 else ops.power(safe, exponent)
    return ops.where(zero, 0.0, root)


def standardize(x, axes, eps):
    """``(x - mean) / (std + eps)`` over ``axes``, population std.

    The data are shifted by their maximum first (an exact, gradient-free shift: the result
    does not depend on it), so a constant slice gives exactly 0, not rounding noise
    blown up by a tiny std.
    """
    shifted = x - ops.stop_gradient(ops.amax(x, axis=axes, keepdims=True))
    centred = shifted - ops.mean(shifted, axis=axes, keepdims=True)
    std = safe_power(ops.mean(ops.square(centred), axis=axes, keepdims=True), 0.5)
    return centred / (std + eps)


def example_axes(x):
    """All axes but the first (batch)."""
    return tuple(range(1, len(x.shape)))


def coloured_noise(noise, exponent, axis):
    """White Gaussian ``noise`` coloured to a ``1 / f ** exponent`` power spectrum along
    ``axis``.

    0 is white, 1 pink (-3 dB per octave), 2 brown (-6 dB per octave). The spectrum is
    shaped by an FFT along ``axis``, with the DC bin removed; each example (index of
    the first axis) is then made exactly zero-mean with unit variance over all its axes.
    """
    rank = len(noise.shape)
    axis = axis % rank
    if exponent:
        noise = ops.moveaxis(noise, axis, -1)
        length = ops.shape(noise)[-1]
        real, imag = ops.rfft(noise)
        bins = ops.cast(ops.arange(ops.shape(real)[-1]), real.dtype)
        gain = ops.where(bins > 0, ops.power(ops.maximum(bins, 1.0), -exponent / 2.0), 0.0)
        noise = ops.moveaxis(ops.irfft((real * gain, imag * gain), fft_length=length), -1, axis)
    axes = tuple(range(1, rank))
    noise = noise - ops.mean(noise, axis=axes, keepdims=True)
    return noise / safe_power(ops.mean(ops.square(noise), axis=axes, keepdims=True) + 1e-30, 0.5)


def axis_masks(widths, starts, size, mask_param):
    """Union of random intervals along an axis of ``size``, as torchaudio's
    ``mask_along_axis_iid``.

    ``widths`` and ``starts`` are uniform draws in [0, 1) of shape ``(n_masks, ...)``
    (``(n_masks, batch, channels, 1)``, say): interval ``i`` has width
    ``floor(widths[i] * mask_param)`` and start ``floor(starts[i] * (size - widths[i] *
    mask_param))``; ``mask_param`` is capped at ``size``. Returns booleans shaped as one
    draw with its last axis ``size`` long.
    """
    positions = ops.cast(ops.arange(size), "float32")
    if isinstance(size, int):  # static: plain Python, no op on the (maybe symbolic) size
        param, length = float(min(mask_param, size)), float(size)
    else:  # a tensor (TensorFlow, unknown length)
        length = ops.cast(size, "float32")
        param = ops.minimum(float(mask_param), length)
    mask = None
    for i in range(widths.shape[0]):
        width = widths[i] * param
        start = ops.floor(starts[i] * (length - width))
        inside = ops.logical_and(positions >= start, positions < start + ops.floor(width))
        mask = inside if mask is None else ops.logical_or(mask, inside)
    return mask


def _zero_pad_last(x, length):
    """``x`` zero-padded at the end of its last axis to ``length`` (static or a tensor)."""
    shape = list(ops.shape(x))
    shape[-1] = length - shape[-1]
    return ops.concatenate([x, ops.zeros(shape, dtype=x.dtype)], axis=-1)


def fft_length(samples, reach):
    """An FFT size of at least ``samples + reach - 1`` (a full linear convolution): the next
    power of two when ``samples`` is static, else exactly that."""
    if isinstance(samples, int):
        return 1 << max(samples + reach - 2, 1).bit_length()
    return samples + reach - 1


def fft_convolve(x, h):
    """The causal convolution of ``x`` (``(..., samples)``) with ``h`` (``(..., taps)``,
    broadcasting against ``x``) along the last axis: the first ``samples`` of the full
    convolution, by FFT (zero-padded, so no wrap-around)."""
    samples = ops.shape(x)[-1]
    return _full_convolution(x, h, fft_length(samples, h.shape[-1]))[..., :samples]


def _full_convolution(x, h, n):
    """The linear convolution of ``x`` and ``h`` along the last axis (broadcasting), by FFTs
    of ``n`` points (at least the sum of their lengths minus one)."""
    x_real, x_imag = ops.rfft(_zero_pad_last(x, n))
    h_real, h_imag = ops.rfft(_zero_pad_last(h, n))
    return ops.irfft(spectral_product(x_real, x_imag, h_real, h_imag), fft_length=n)


def spectral_product(x_real, x_imag, h_real, h_imag):
    """The complex product of two spectra given as real and imaginary parts, broadcasting,
    as ``(real, imag)``: three real products of the broadcast size and no negation of one
    (each is a pass over it, and another in the gradient; torch's eager LEAF took 1.8 s ->
    1.4 s forward+backward against four products and a difference), the sums and the
    negation on the operands."""
    common = (x_real + x_imag) * h_real
    return common + x_imag * (-(h_real + h_imag)), common + x_real * (h_imag - h_real)


def fast_length(n):
    """The least ``2**a`` or ``3 * 2**a`` at least ``n``: FFT sizes that every backend
    transforms at the same cost per point (2**a 5**b, or 3**3 5**4, took up to twice as
    long per point under torch)."""
    power = 1 << max(n - 1, 1).bit_length()
    return 3 * power // 4 if 3 * power // 4 >= n else power


def correlate(x, kernels, before):
    """What ``ops.conv`` computes, one output row per kernel: ``out[n, k, t] = sum_j
    x[n, t + j - before] * kernels[k, j]`` with zeros outside ``x`` (``x``: ``(N,
    samples)``; ``kernels``: ``(K, taps)``; out: ``(N, K, samples)``)."""
    taps = kernels.shape[-1]
    padded = pad_along(x, (before, taps - 1 - before), 1, "constant")
    out = ops.conv(ops.expand_dims(padded, -1), ops.expand_dims(ops.transpose(kernels), 1))
    return ops.transpose(out, (0, 2, 1))


def fft_filter(x, response):
    """``x`` (``(..., samples)``) through a zero-phase filter: its spectrum times
    ``response(frequencies)``, a real gain for each rfft bin frequency (in cycles per
    sample, ``(1, ..., bins)``), over a zero-padded length of at least twice ``samples``
    (so the filter's two-sided response barely wraps around)."""
    samples = ops.shape(x)[-1]
    n = fft_length(samples, samples)
    real, imag = ops.rfft(_zero_pad_last(x, n))
    bins = ops.shape(real)[-1]
    frequencies = ops.cast(ops.arange(bins), x.dtype) / ops.cast(n, x.dtype)
    gain = response(ops.reshape(frequencies, (1,) * (len(x.shape) - 1) + (-1,)))
    return ops.irfft((real * gain, imag * gain), fft_length=n)[..., :samples]


def rms_match(y, x, axes):
    """``y`` rescaled to ``x``'s root-mean-square over ``axes`` (0 where ``y`` is silent)."""
    target = ops.mean(ops.square(x), axis=axes, keepdims=True)
    current = ops.mean(ops.square(y), axis=axes, keepdims=True)
    silent = current <= 0
    return y * ops.where(silent, 0.0, ops.sqrt(target / ops.where(silent, 1.0, current)))


def take_along(x, axis, start, stop):
    """``x[..., start:stop, ...]`` on ``axis`` (static bounds; ``stop`` may be None or < 0)."""
    index = [slice(None)] * len(x.shape)
    index[axis] = slice(start, stop)
    return x[tuple(index)]


_NUMPY_PAD = {"mirror": "reflect", "nearest": "edge", "wrap": "wrap"}


def pad_along(x, pad, axis, mode):
    """Pads ``axis`` by ``pad`` on both sides as ``scipy.ndimage`` modes do: ``"constant"``
    (zeros), ``"mirror"`` (d c b | a b c d | c b a), ``"nearest"`` (a a | a b c d | d d),
    ``"wrap"`` (c d | a b c d | a b). Slices when the axis is longer than ``pad`` or of
    unknown length; a gather of numpy's indices when it is shorter (several reflections).
    With ``"constant"``, ``pad`` may also be ``(before, after)``."""
    size = x.shape[axis]
    if mode == "constant":
        parts = [x]
        for index, count in zip((0, 2), (pad, pad) if isinstance(pad, int) else pad):
            if count:
                shape = list(ops.shape(x))
                shape[axis] = count
                parts.insert(index, ops.zeros(shape, dtype=x.dtype))
        return ops.concatenate(parts, axis=axis) if len(parts) > 1 else x
    if size is not None and size <= pad:
        index = np.pad(np.arange(size), pad, mode=_NUMPY_PAD[mode])
        return ops.take(x, index, axis=axis)
    if mode == "mirror":
        left = ops.flip(take_along(x, axis, 1, pad + 1), axis=axis)
        right = ops.flip(take_along(x, axis, -pad - 1, -1), axis=axis)
    elif mode == "nearest":
        left = ops.repeat(take_along(x, axis, 0, 1), pad, axis=axis)
        right = ops.repeat(take_along(x, axis, -1, None), pad, axis=axis)
    else:  # wrap
        left, right = take_along(x, axis, -pad, None), take_along(x, axis, 0, pad)
    return ops.concatenate([left, x, right], axis=axis)


def correlate_along(x, coefficients, axis):
    """``sum_j coefficients[j] * (x[t + j] - x[t + half])`` on ``axis`` (``coefficients``:
    Python numbers summing to 0, as a derivative filter's do; ``half = len // 2``): the
    "valid" correlation, shorter by ``len(coefficients) - 1``. Differences from the centre
    sample first: equal to the plain correlation, but exactly 0 on a constant signal and
    free of the rounding of large offsets (dB values around -40, say)."""
    width = len(coefficients)
    half = width // 2
    centre = take_along(x, axis, half, half - (width - 1) or None)
    terms = [
        c * (take_along(x, axis, j, j - (width - 1) or None) - centre)
        for j, c in enumerate(coefficients)
        if j != half
    ]
    return sum(terms[1:], terms[0])


def savgol_derivative(x, coefficients, axis, mode):
    """``scipy.signal.savgol_filter(x, width, order, deriv=order, axis, mode)`` (what
    ``librosa.feature.delta`` computes) from `audiofront.filters.savgol_coefficients`.

    With ``mode="interp"`` the edges take the derivative of the polynomial fitted to the
    first (last) ``width`` samples; when the polynomial's degree equals the derivative's
    order that derivative is a constant, the first (last) full-window value, so the edges
    repeat it. Other modes pad (`pad_along`) and correlate.
    """
    half = len(coefficients) // 2
    if mode != "interp":
        return correlate_along(pad_along(x, half, axis, mode), coefficients, axis)
    valid = correlate_along(x, coefficients, axis)
    first = ops.repeat(take_along(valid, axis, 0, 1), half, axis=axis)
    last = ops.repeat(take_along(valid, axis, -1, None), half, axis=axis)
    return ops.concatenate([first, valid, last], axis=axis)


def linear_recurrence(x, decay, initial, axis):
    """``y[t] = decay * y[t-1] + x[t]`` along ``axis``, with ``y[-1] = initial``: exactly, no
    truncated kernel.

    A log-depth scan (Hillis-Steele): after the step of distance ``d`` each element holds
    the sum over its last ``2 d`` inputs weighted by powers of ``decay``, so the step is
    ``y[t] += decay**d * y[t - d]``; then ``decay**(t + 1) * initial`` is added. ``decay``
    (a number or a tensor that broadcasts against ``x``, per band say) is constant in time.
    ``ceil(log2(T))`` steps of slices when the length ``T`` is static; a ``while_loop`` of
    the same steps where it is not (TensorFlow graphs with an unknown length).
    """
    size = x.shape[axis]
    if size is None:
        y = _recurrence_unknown_length(x, decay, axis)
    else:
        y, distance, factor = x, 1, decay
        while distance < size:
            shifted = take_along(y, axis, 0, -distance)
            head = take_along(y, axis, 0, distance)
            tail = take_along(y, axis, distance, None) + factor * shifted
            y = ops.concatenate([head, tail], axis=axis)
            distance, factor = 2 * distance, factor * factor
    # arange(1, n + 1), not arange(n) + 1: jax2onnx's arange needs its stop.
    steps = ops.cast(ops.arange(1, ops.shape(x)[axis] + 1), x.dtype)
    shape = [1] * len(x.shape)
    shape[axis] = -1
    return y + ops.power(decay, ops.reshape(steps, shape)) * initial


def _recurrence_unknown_length(x, decay, axis):
    moved = ops.moveaxis(x, axis, 0)
    factor = ops.cast(ops.convert_to_tensor(decay), x.dtype)
    if len(factor.shape):  # broadcast as against x: aligned from the last axis
        factor = ops.reshape(factor, (1,) * (len(x.shape) - len(factor.shape)) + factor.shape)
        factor = ops.moveaxis(factor, axis, 0)
    factor = factor * ops.ones_like(moved[:1])

    def body(distance, y, factor):
        tail = y[distance:] + factor * y[:-distance]
        return distance * 2, ops.concatenate([y[:distance], tail], axis=0), factor * factor

    size = ops.shape(moved)[0]
    loop = (ops.convert_to_tensor(1), moved, factor)
    _, y, _ = ops.while_loop(lambda distance, y, factor: distance < size, body, loop)
    return ops.moveaxis(y, 0, axis)


def pcen_smoother(x, smoothing, initial, axis):
    """``M[t] = (1 - s) M[t-1] + s x[t]`` from ``M[-1] = initial`` (`linear_recurrence`),
    with the gradient with respect to a tensor ``s`` taken from its own recurrence,
    ``dM[t] = (1 - s) dM[t-1] + x[t] - M[t-1]``, not by differentiating the scan: that
    derivative is a difference of two sums ~1/s times larger than it, which float32 left
    1e-4 apart between backends (PCEN's smoothing weight, LEAF's sPCEN)."""
    if isinstance(smoothing, (int, float)):
        return linear_recurrence(smoothing * x, 1.0 - smoothing, initial, axis)
    constant = ops.stop_gradient(smoothing)
    smoothed = linear_recurrence(constant * x, 1.0 - constant, initial, axis)
    first = ops.zeros_like(take_along(x, axis, 0, 1)) + initial
    previous = ops.concatenate([first, take_along(smoothed, axis, 0, -1)], axis=axis)
    derivative = linear_recurrence(ops.stop_gradient(x - previous), 1.0 - constant, 0.0, axis)
    return smoothed + (smoothing - constant) * ops.stop_gradient(derivative)


def pcen(
    x,
    gain,
    bias,
    power,
    smoothing,
    eps,
    axis,
    initial=1.0,
    smoothed=None,
    exact=True,
    less_one=None,
):
    """``librosa.pcen`` along ``axis`` (time) with its default initial state.

    The smoother ``M[t] = (1 - s) M[t-1] + s x[t]`` starts from ``M[-1] = initial``: 1 by
    default (librosa's ``zi = lfilter_zi``: the steady state of a unit input; LEAF passes
    the first frame) and runs as `linear_recurrence`;
    then ``(bias + x / (eps + M) ** gain) ** power - bias ** power`` in librosa's log-space
    form. ``gain``, ``bias``, ``power`` and ``smoothing`` are numbers, or tensors that
    broadcast against ``x`` (one per band); ``power == 0`` and ``bias == 0`` take
    librosa's special forms when they are numbers. ``smoothed``, when given, is ``M`` from
    `pcen_smoother` (a stream keeps its last frame), and ``smoothing`` and ``initial`` are
    then unused (``less_one`` must then be None). ``exact=False`` writes ``log1p`` and
    ``expm1`` with ``log`` and ``exp`` (`log1p_form`, `expm1_form`: for export formats that
    lack them, ONNX among them).
    ``less_one``, ``(x - 1, initial - 1)`` computed without rounding ``x`` (LEAF: pooled
    energies plus a bias near 1), gives ``log M`` for ``M > 1/2`` as ``log1p`` of ``M - 1``
    from its own smoother: ``M`` near 1 rounded to float32 keeps ~1e-7 of ``M - 1``, and
    the gradient with respect to the gain, a sum of ``log M`` terms, came out 4e-4 off.
    """
    log1p, expm1 = (ops.log1p, ops.expm1) if exact else (log1p_form, expm1_form)
    if smoothed is None:
        smoothed = pcen_smoother(x, smoothing, initial, axis)
    log_m = log_plus(smoothed, eps, log1p)
    if less_one is not None:
        near_one = pcen_smoother(less_one[0], smoothing, less_one[1], axis)
        log_m = ops.where(smoothed > 0.5, log1p(near_one + eps), log_m)
    norm = ops.exp(-gain * log_m)
    if isinstance(power, (int, float)) and power == 0:
        return log1p(x * norm)
    if isinstance(bias, (int, float)) and bias == 0:
        return ops.exp(power * (ops.log(x) + ops.log(norm)))
    scale = bias**power if isinstance(bias * power, float) else ops.power(bias, power)
    return scale * expm1(power * log1p(x * norm / bias))


def log_plus(x, eps, log1p=ops.log1p):
    """``log(eps + x)`` for ``x >= 0`` to a few ulps: ``log(eps) + log1p(x / eps)``
    (librosa's form) below ``eps``, ``log(x) + log1p(eps / x)`` above it. librosa's form
    alone leaves ``log x`` as the difference of two numbers near ``-log(eps)`` (27.6 for
    LEAF's 1e-12): float32 then lost ~1e-6 of it, and the gradient with respect to PCEN's
    gain, a sum of ``log(eps + M)`` terms near 0, came out 1e-3 off."""
    above = x > eps
    large = ops.where(above, x, eps)
    small = ops.where(above, 0.0, x)
    return ops.where(above, ops.log(large) + log1p(eps / large), math.log(eps) + log1p(small / eps))


def log1p_form(x):
    """``log1p(x)`` from ``log`` alone, to a few ulps (Goldberg's ``log(u) * x / (u - 1)``
    with ``u = 1 + x``, ``x`` itself where ``u`` rounds to 1). Forward only: the gradient
    of the unused branch may be NaN where ``u == 1``."""
    u = 1.0 + x
    one = u == 1.0
    return ops.where(one, x, ops.log(u) * x / ops.where(one, 1.0, u - 1.0))


def expm1_form(x):
    """``expm1(x)`` from ``exp`` and ``log``, to a few ulps (Kahan's ``(u - 1) * x /
    log(u)`` with ``u = exp(x)``, ``x`` itself where ``u`` rounds to 1). Forward only."""
    u = ops.exp(x)
    one = u == 1.0
    return ops.where(one, x, (u - 1.0) * x / ops.where(one, 1.0, ops.log(u)))
