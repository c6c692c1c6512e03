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


def magnitude_to_power(real, imag, power=2.0):
    """``|X| ** power`` from real and imaginary parts, with a finite gradient at 0."""
    squared = ops.square(real) + ops.square(imag)
    return squared if power == 2.0 else safe_power(squared, power / 2.0)


def apply_filterbank(spectra, filterbank):
    """Maps the last axis of ``spectra`` (bins) to bands: ``spectra @ filterbank``."""
    return ops.matmul(spectra, filterbank)


def to_decibel(x, multiplier=10.0, ref=1.0, amin=1e-10, top_db=80.0):
    """``multiplier * log10(max(amin, x) / max(amin, ref))``, clipped at ``top_db``.

    ``multiplier`` is 10 for power and 20 for magnitude (librosa's ``power_to_db``
    and ``amplitude_to_db``). ``ref="max"`` takes each example's maximum; ``top_db``
    clips each example at its own maximum minus ``top_db``. Statistics run over all
    axes but the first (batch), never across the batch.
    """
    axes = tuple(range(1, len(x.shape)))
    db = multiplier * ops.log10(ops.where(x < amin, amin, x))
    if ref == "max":
        db = db - ops.amax(db, axis=axes, keepdims=True)
        return db if top_db is None else ops.where(db < -top_db, -top_db, db)
    offset = multiplier * math.log10(max(amin, ref))
    if offset != 0.0:
        db = db - offset
    if top_db is None:
        return db
    # ops.maximum of two tensors: a NaN anywhere in the example makes its floor, and so
    # the whole example, NaN rather than leaving it unclipped.
    return ops.maximum(db, ops.amax(db, axis=axes, keepdims=True) - top_db)


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


def coloured_noise(shape, exponent, axis, seed):
    """Gaussian noise with a ``1 / f ** exponent`` power spectrum along ``axis``.

    0 is white, 1 pink (-3 dB per octave), 2 brown (-6 dB per octave). The spectrum is
    shaped by an FFT along ``axis``, with the DC bin removed; each example (index of
    the first axis) is then made exactly zero-mean with unit variance over all its axes.
    """
    rank = len(shape)
    axis = axis % rank
    noise = keras.random.normal(shape, seed=seed)
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


def axis_masks(batch, channels, size, mask_param, n_masks, seed):
    """Union of ``n_masks`` random intervals per (example, channel), as torchaudio.

    Each interval's width is ``floor(u * mask_param)`` and its start
    ``floor(v * (size - u * mask_param))`` for ``u, v`` uniform in [0, 1), drawn
    independently per example and channel (torchaudio's ``mask_along_axis_iid``);
    ``mask_param`` is capped at ``size``. Returns a boolean ``(batch, channels, size)``.
    """
    positions = ops.cast(ops.arange(size), "float32")[None, None, :]
    if isinstance(size, int):  # static: plain Python, no op on the (maybe symbolic) size
        param, length = float(min(mask_param, size)), float(size)
    else:  # a tensor (TensorFlow, unknown length)
        length = ops.cast(size, "float32")
        param = ops.minimum(float(mask_param), length)
    mask = ops.zeros((batch, channels, size), dtype="bool")
    for _ in range(n_masks):
        width = keras.random.uniform((batch, channels, 1), seed=seed) * param
        start = ops.floor(keras.random.uniform((batch, channels, 1), seed=seed) * (length - width))
        mask = ops.logical_or(
            mask, ops.logical_and(positions >= start, positions < start + ops.floor(width))
        )
    return mask
