"""The `LEAF` layer: the learnable audio front-end of Zeghidour et al. (ICLR 2021)."""

import math

import keras
import numpy as np
from keras import ops

from audiofront import filters
from audiofront import functional as F
from audiofront.constraints import Clip
from audiofront.layers._base import WaveformLayer, add_array_weight, constant, exporting
from audiofront.layers.pcen import _MIN_BIAS, _MIN_SMOOTHING
from audiofront.validation import check_choice, check_number, check_positive_int

COMPRESSIONS = ("pcen", "log", None)
# The floor under the pooled energies (speechbrain's and leaf-audio's 1e-5), PCEN's floor
# under its smoother, and the DFT size the Gabor filters are fitted to at initialisation.
_ENERGY_FLOOR = 1e-5
_PCEN_FLOOR = 1e-12
_INIT_N_FFT = 512
# LEAF's initial values: Gaussian pooling width (in half filter lengths) and sPCEN.
_POOLING_WIDTH = 0.4
_PCEN_INIT = {"gain": 0.96, "bias": 2.0, "root": 2.0, "smoothing": 0.04}


# The Gabor filters run a few at a time, their outputs within this many bytes (float32):
# all at once (270 MB for 64 filters on 32 x 1 s at 16 kHz) cost more in fresh pages than
# in arithmetic (glibc maps blocks over 32 MB anew on every call): torch's forward+backward
# took 1418 ms eager and 813 compiled with 64 MB groups, 480 and 331 with 16 MB, 506 and
# 310 with 4 MB (jax compiled 858, 670, 742; TensorFlow, whose allocator keeps its pages,
# 371, 368, 305 compiled but 896, 1061, 1759 eager: per-op overhead). With the real and
# imaginary parts by two transforms (2026-12-07), 4/16/64 MB: jax 690, 451, 480 compiled.
_GROUP_BYTES = 1 << 24


def _filters_per_group(batch, size, n_filters):
    """Filters per FFT group: outputs of ``2 * group * batch * size`` floats within
    `_GROUP_BYTES` (32 examples where the batch is unknown; all where the size is)."""
    if size is None:
        return n_filters
    batch = batch if isinstance(batch, int) else 32
    return max(1, min(n_filters, _GROUP_BYTES // (8 * batch * size)))


def _same_padding(kernel_size):
    """LEAF's (and Keras's) "same" padding for stride 1: ``(k - 1) // 2`` before, the rest
    after."""
    return (kernel_size - 1) // 2, kernel_size // 2


@keras.saving.register_keras_serializable(package="audiofront")
class LEAF(WaveformLayer):
    """LEAF, the learnable audio front-end (Zeghidour et al., ICLR 2021), as speechbrain's
    ``Leaf`` (a port of google-research/leaf-audio's ``frontend.Leaf``).

    1. Complex Gabor filters, ``exp(-t**2 / (2 sigma**2)) / (sqrt(2 pi) sigma) * exp(i mu
       t)`` over ``window_len`` ms (``int(sample_rate * window_len // 1000 + 1)`` taps),
       ``mu`` and ``sigma`` fitted to an HTK mel filterbank from ``min_freq`` to
       ``max_freq`` at initialisation, applied as two real convolutions ("same" padding);
    2. the squared modulus of each filter's output;
    3. Gaussian low-pass pooling per band, ``exp(-0.5 (u / w)**2)`` over the same length
       (``u`` from -1 to 1), stride ``window_stride`` ms, plus a per-band bias (speechbrain's
       pooling has one, initialised to 1), floored at 1e-5;
    4. ``compression``: ``"pcen"``, sPCEN per band, ``(x / (1e-12 + M)**gain + bias) **
       (1 / root) - bias ** (1 / root)`` with the smoother ``M[t] = s x[t] + (1 - s) M[t-1]``
       from ``M[-1] = x[0]`` (run as an exact log-depth scan, no quantity grows with the
       length); ``"log"``, the natural log; or None.

    Weights, one value per filter, all trainable: ``center_frequencies`` (radians per
    sample, kept in ``[0, pi]``), ``bandwidths`` (``sigma`` in samples, kept in
    ``[4, taps] * sqrt(2 ln 2) / pi``), ``pooling_widths`` (kept in ``[2 / taps, 0.5]``),
    ``pooling_bias``; with PCEN also ``pcen_gain`` (in ``[0, 1]``), ``pcen_bias`` (>= 1e-6),
    ``pcen_root`` (>= 1) and ``pcen_smoothing`` (in ``[1e-6, 1]``). The bounds are speechbrain's
    clamps, kept by weight constraints after every update.

    Args:
        n_filters: number of filters (bands).
        sample_rate: sampling rate of the input, in Hz.
        window_len: filter and pooling length in milliseconds.
        window_stride: pooling stride in milliseconds.
        min_freq: lowest mel edge of the initialisation, in Hz.
        max_freq: highest mel edge of the initialisation, in Hz, at most ``sample_rate / 2``
            (None: ``sample_rate / 2``).
        compression: ``"pcen"``, ``"log"`` or None.
        data_format: ``"channels_last"`` or ``"channels_first"`` (3-D input and the output).
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default,
            ``trainable``).

    Input shape:
        ``(batch, samples)``, or ``(batch, samples, channels)`` (channels_last) /
        ``(batch, channels, samples)`` (channels_first).

    Output shape:
        channels_last ``(batch, frames, n_filters, channels)``, channels_first
        ``(batch, channels, frames, n_filters)``; ``frames = ceil(samples / stride)``
        with ``stride = int(sample_rate * window_stride // 1000)``; ``channels`` is 1 for
        2-D input.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).uniform(-1, 1, (2, 8000)).astype("float32")
    >>> out = keras.ops.convert_to_numpy(LEAF(n_filters=40, sample_rate=16000)(x))
    >>> out.shape, bool(np.isfinite(out).all())
    ((2, 50, 40, 1), True)
    """

    def __init__(
        self,
        n_filters=40,
        sample_rate=16000,
        window_len=25.0,
        window_stride=10.0,
        min_freq=60.0,
        max_freq=7800.0,
        compression="pcen",
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.n_filters = check_positive_int("n_filters", n_filters)
        self.sample_rate = check_number("sample_rate", sample_rate, minimum=0, strict=True)
        self._kernel_size, self._stride = filters.leaf_lengths(
            self.sample_rate, window_len, window_stride
        )
        self.window_len = float(window_len)
        self.window_stride = float(window_stride)
        self.min_freq = check_number("min_freq", min_freq, minimum=0)
        nyquist = self.sample_rate / 2
        self.max_freq = check_number("max_freq", max_freq, minimum=0, strict=True, allow_none=True)
        self._max_freq = nyquist if self.max_freq is None else self.max_freq
        if self._max_freq > nyquist:
            raise ValueError(
                f"`max_freq` must be at most sample_rate / 2 = {nyquist}. "
                f"Received: max_freq={max_freq!r}"
            )
        if self.min_freq >= self._max_freq:
            raise ValueError(
                "`min_freq` must be below `max_freq`. "
                f"Received: min_freq={min_freq!r}, max_freq={self._max_freq!r}"
            )
        if compression is not None:
            check_choice("compression", compression, COMPRESSIONS[:2])
        self.compression = compression

    # -- shapes ---------------------------------------------------------------

    @property
    def _output_bins(self):
        return self.n_filters

    def _num_frames(self, samples):
        return (samples - 1) // self._stride + 1

    # -- weights --------------------------------------------------------------

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        n, taps = self.n_filters, self._kernel_size
        centers, bandwidths = filters.gabor_mel_init(
            n, self.sample_rate, self.min_freq, self._max_freq, n_fft=_INIT_N_FFT
        )
        self.center_frequencies = add_array_weight(
            self, "center_frequencies", centers, Clip(0.0, math.pi)
        )
        self.bandwidths = add_array_weight(
            self, "bandwidths", bandwidths, Clip(*filters.gabor_bandwidth_bounds(taps))
        )
        self.pooling_widths = add_array_weight(
            self, "pooling_widths", np.full(n, _POOLING_WIDTH), Clip(2.0 / taps, 0.5)
        )
        self.pooling_bias = add_array_weight(self, "pooling_bias", np.ones(n))
        if self.compression == "pcen":
            constraints = {
                "gain": Clip(0.0, 1.0),
                "bias": Clip(_MIN_BIAS),
                "root": Clip(1.0),
                "smoothing": Clip(_MIN_SMOOTHING, 1.0),
            }
            for name, constraint in constraints.items():
                value = np.full(n, _PCEN_INIT[name])
                setattr(
                    self, f"pcen_{name}", add_array_weight(self, f"pcen_{name}", value, constraint)
                )
        self._gabor_t = constant(filters.gabor_time_axis(taps)[:, None])
        self._pooling_u = constant(filters.gaussian_pooling_axis(taps)[:, None])

    # -- computation ----------------------------------------------------------

    def _per_band(self, weight, dtype):
        return ops.reshape(ops.cast(weight, dtype), (1, -1))

    def _gabor_kernels(self, dtype):
        """The real and imaginary parts of the Gabor filters, ``(2 n_filters, taps)``."""
        t = ops.cast(self._gabor_t, dtype)
        mu = self._per_band(self.center_frequencies, dtype)
        sigma = self._per_band(self.bandwidths, dtype)
        envelope = ops.exp(-ops.square(t) / (2.0 * ops.square(sigma))) / (
            math.sqrt(2.0 * math.pi) * sigma
        )
        phase = t * mu
        kernel = ops.concatenate([envelope * ops.cos(phase), envelope * ops.sin(phase)], axis=1)
        return ops.transpose(kernel)

    def _pooling_weights(self, dtype, blocks):
        """The Gaussian pooling kernels cut into ``blocks`` blocks of ``stride`` taps,
        ``(n_filters, stride, blocks)`` (zeros past the last tap)."""
        u = ops.reshape(ops.cast(self._pooling_u, dtype), (1, -1))
        widths = ops.reshape(ops.cast(self.pooling_widths, dtype), (-1, 1))
        kernel = ops.exp(-0.5 * ops.square(u / widths))  # (n, taps)
        kernel = F.pad_along(kernel, (0, blocks * self._stride - self._kernel_size), 1, "constant")
        return ops.transpose(ops.reshape(kernel, (self.n_filters, blocks, self._stride)), (0, 2, 1))

    def _pooled_energies(self, waves):
        """Steps 1 to 3 without the bias: ``(N, samples)`` to ``(N, frames, n_filters)``.

        1-2. The Gabor filters' outputs by FFT (~10x fewer operations than the direct
        convolution for 25 ms filters): a circular convolution long enough that the input's
        samples do not wrap around, read onto a grid of blocks of ``stride`` samples from
        the first frame's first tap (its samples outside the input set to zero), a few
        filters at a time (`_GROUP_BYTES`); in an exported artifact (ONNX and LiteRT lack a
        general real FFT) a direct convolution, zero-padded onto the grid.
        3. The pooling's strided depthwise convolution as one batched product: each block
        times the kernels' blocks, frame ``f`` the sum of blocks ``f + b`` times kernel
        block ``b`` (a convolution's CPU gradient under XLA took a minute on a batch of 32
        x 1 s; elementwise block sums read the energies once per block)."""
        taps, stride, n = self._kernel_size, self._stride, self.n_filters
        blocks = -(-taps // stride)
        before = _same_padding(taps)[0]
        batch, samples = ops.shape(waves)
        frames = (samples - 1) // stride + 1
        rows = frames + blocks - 1
        length = rows * stride
        kernels = self._gabor_kernels(waves.dtype)  # (2 n, taps)
        weights = self._pooling_weights(waves.dtype, blocks)  # (n, stride, blocks)
        if exporting():
            out = F.correlate(waves, kernels, before)  # (N, 2 n, samples)
            out = F.pad_along(out, (before, length - before - samples), 2, "constant")
            energies = ops.square(out[:, :n]) + ops.square(out[:, n:])
            return self._pool(ops.transpose(energies, (1, 0, 2)), weights, frames)
        # The full convolution's sample `c` is the filtered sample `c - (taps - 1 - before)`.
        shift = taps - 1 - 2 * before
        if isinstance(samples, int):
            size = F.fast_length(max(samples + before, shift + length))
        else:
            size = ops.maximum(samples + before, shift + length)
        x_real, x_imag = ops.rfft(F.pad_along(waves, (0, size - samples), 1, "constant"))
        x_real, x_imag = x_real[None], x_imag[None]
        h_real, h_imag = ops.rfft(
            F.pad_along(ops.flip(kernels, axis=-1), (0, size - taps), 1, "constant")
        )
        grid = ops.arange(length)
        inside = (grid >= before) & (grid < before + samples)
        group = _filters_per_group(batch, size if isinstance(size, int) else None, n)
        pooled = []
        for first in range(0, n, group):
            last = min(first + group, n)
            # The real and imaginary parts by two transforms, not one of both stacked: the
            # sum of their squares over a stacked axis took XLA (jax) 2.5x the transform's
            # time, and slicing the stack costs torch's autograd zero-filled copies.
            real, imag = (
                ops.irfft(F.spectral_product(x_real, x_imag, h_r[:, None], h_i[:, None]), size)
                for h_r, h_i in ((h_real[first:last], h_imag[first:last]),
                                 (h_real[n + first : n + last], h_imag[n + first : n + last]))
            )  # fmt: skip
            energies = ops.square(real) + ops.square(imag)  # (group, N, size)
            energies = ops.where(inside, energies[..., shift : shift + length], 0.0)
            pooled.append(self._pool(energies, weights[first:last], frames))
        return pooled[0] if len(pooled) == 1 else ops.concatenate(pooled, axis=-1)

    def _pool(self, energies, weights, frames):
        """``(n, N, rows * stride)`` energies on the grid to ``(N, frames, n)``."""
        n, stride, blocks = weights.shape
        # einsum, not matmul: Keras's torch matmul computes float64 in float32.
        products = ops.einsum("nas,nsb->nab", ops.reshape(energies, (n, -1, stride)), weights)
        products = ops.reshape(products, (n, -1, frames + blocks - 1, blocks))
        pooled = products[:, :, :frames, 0]
        for b in range(1, blocks):
            pooled = pooled + products[:, :, b : b + frames, b]
        return ops.transpose(pooled, (1, 2, 0))

    def _pcen(self, x, less_one):
        """sPCEN along axis 1 of ``(N, frames, n)``, the smoother starting from the first
        frame (`functional.pcen`, in log space: nothing grows with the length or level;
        ``less_one`` is ``x - 1`` unrounded)."""
        dtype = x.dtype
        gain, bias, root, s = (
            self._per_band(getattr(self, f"pcen_{name}"), dtype)
            for name in ("gain", "bias", "root", "smoothing")
        )
        return F.pcen(
            x, gain, bias, 1.0 / root, s, _PCEN_FLOOR, 1, x[:, :1],
            exact=not exporting(), less_one=(less_one, less_one[:, :1]),
        )  # fmt: skip

    def _transform(self, waves):
        energies = self._pooled_energies(waves)
        bias = self._per_band(self.pooling_bias, waves.dtype)
        pooled = energies + bias
        # ops.where, not ops.maximum with a Python float (float64 would round under torch).
        above = pooled > _ENERGY_FLOOR
        features = ops.where(above, pooled, _ENERGY_FLOOR)
        if self.compression == "pcen":
            # The bias starts at 1: features - 1 from the energies keeps their digits.
            return self._pcen(
                features, ops.where(above, energies + (bias - 1.0), _ENERGY_FLOOR - 1.0)
            )
        if self.compression == "log":
            return ops.log(features)
        return features

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_filters": self.n_filters,
                "sample_rate": self.sample_rate,
                "window_len": self.window_len,
                "window_stride": self.window_stride,
                "min_freq": self.min_freq,
                "max_freq": self.max_freq,
                "compression": self.compression,
            }
        )
        return config
