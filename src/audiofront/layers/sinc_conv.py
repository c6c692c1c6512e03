"""The `SincConv` layer: SincNet's learnable band-pass sinc filters over raw waveforms."""

import keras
from keras import ops

from audiofront import filters
from audiofront import functional as F
from audiofront.layers._base import WaveformLayer, add_array_weight, constant
from audiofront.validation import check_choice, check_positive_int

PADDINGS = ("same", "valid")


@keras.saving.register_keras_serializable(package="audiofront")
class SincConv(WaveformLayer):
    """SincNet's first layer (Ravanelli and Bengio, 2018): a 1-D convolution of the waveform
    with ``n_filters`` Hamming-windowed band-pass sinc filters whose cut-offs are learned.

    As speechbrain's ``SincConv``: two trainable weights, ``low_hz`` and ``band_hz`` (one
    value per filter, in Hz, initialised by `audiofront.filters.sinc_cutoffs` on the mel
    scale), give the cut-offs ``low = min_low_hz + |low_hz|`` and ``high = clip(low +
    min_band_hz + |band_hz|, min_low_hz, sample_rate / 2)``, so that they stay in range
    however training moves the weights. Each filter, rebuilt from them on every call, is
    ``(sin(2 pi high t / sr) - sin(2 pi low t / sr)) / (pi t)`` times the window
    (`audiofront.filters.sinc_window`) for ``t = -(kernel_size - 1) / 2, ..., -1``, mirrored,
    with the centre tap ``2 (high - low)``, all divided by ``2 (high - low)`` (unit gain in
    the pass band). With ``padding="valid"`` the output equals speechbrain's
    ``SincConv(padding="valid")``; ``"same"`` pads ``kernel_size // 2`` zeros on both sides
    (speechbrain pads by reflection).

    Args:
        n_filters: number of band-pass filters (output features).
        kernel_size: filter length in samples, odd and at least 3.
        sample_rate: sampling rate of the audio, in Hz.
        min_low_hz: the lowest low cut-off, in Hz, >= 0.
        min_band_hz: the narrowest band, in Hz, > 0; ``2 * min_low_hz + min_band_hz`` must
            be below ``sample_rate / 2``.
        stride: samples between outputs.
        padding: ``"same"`` (zeros, ``1 + (samples - 1) // stride`` outputs) or ``"valid"``
            (``1 + (samples - kernel_size) // stride`` outputs).
        data_format: ``"channels_last"`` or ``"channels_first"``: the layout of a 3-D input
            and of the output, as ``keras.layers.Conv1D``.
        **kwargs: base layer arguments (``name``, ``trainable``, ``dtype``: float32 by
            default).

    Input shape:
        Mono waveforms: ``(batch, samples)``, or with one channel ``(batch, samples, 1)``
        (channels_last) / ``(batch, 1, samples)`` (channels_first).

    Output shape:
        channels_last ``(batch, samples_out, n_filters)``, channels_first ``(batch,
        n_filters, samples_out)``.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((2, 1600)).astype("float32")
    >>> layer = SincConv(n_filters=16, kernel_size=101, sample_rate=8000, stride=2)
    >>> keras.ops.convert_to_numpy(layer(x)).shape
    (2, 800, 16)
    >>> [w.name for w in layer.trainable_weights]
    ['low_hz', 'band_hz']
    """

    def __init__(
        self,
        n_filters=80,
        kernel_size=251,
        sample_rate=16000,
        min_low_hz=50.0,
        min_band_hz=50.0,
        stride=1,
        padding="same",
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.n_filters = check_positive_int("n_filters", n_filters)
        self.kernel_size = filters.check_sinc_kernel_size(kernel_size)
        # Checks sample_rate, min_low_hz and min_band_hz (and their room below Nyquist).
        filters.sinc_cutoffs(n_filters, sample_rate, min_low_hz, min_band_hz)
        self.sample_rate = float(sample_rate)
        self.min_low_hz = float(min_low_hz)
        self.min_band_hz = float(min_band_hz)
        self.stride = check_positive_int("stride", stride)
        self.padding = check_choice("padding", padding, PADDINGS)

    # -- shapes: mono waveforms in, (batch, steps, n_filters) out (not 4-D) ----

    def _check_input_shape(self, shape):
        rank = len(shape)
        if rank not in (2, 3):
            raise ValueError(
                "`inputs` must be mono waveforms: 2-D (batch, samples) or 3-D with one "
                "channel, (batch, samples, 1) / (batch, 1, samples) per `data_format`. "
                f"Received: inputs with shape {tuple(shape)}"
            )
        if rank == 3:
            if self._channels(shape) != 1:
                raise ValueError(
                    "`inputs` must have one channel: SincConv filters mono waveforms "
                    f"(data_format={self.data_format!r}). Received: inputs with shape "
                    f"{tuple(shape)}"
                )
        samples = shape[self._samples_axis(rank)]
        if self.padding == "valid" and samples is not None and samples < self.kernel_size:
            raise ValueError(
                f"With padding='valid' the input needs at least kernel_size={self.kernel_size} "
                f"samples. Received: inputs with {samples} samples (shape {tuple(shape)})"
            )

    def _num_outputs(self, samples):
        if samples is None:
            return None
        if self.padding == "same":
            samples = samples + 2 * (self.kernel_size // 2)
        return 1 + (samples - self.kernel_size) // self.stride

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_input_shape(input_shape)
        steps = self._num_outputs(input_shape[self._samples_axis(len(input_shape))])
        if self.data_format == "channels_last":
            return (input_shape[0], steps, self.n_filters)
        return (input_shape[0], self.n_filters, steps)

    # -- weights --------------------------------------------------------------

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        low, band = filters.sinc_cutoffs(
            self.n_filters, self.sample_rate, self.min_low_hz, self.min_band_hz
        )
        self.low_hz = add_array_weight(self, "low_hz", low)
        self.band_hz = add_array_weight(self, "band_hz", band)
        self._time = constant(filters.sinc_time_axis(self.kernel_size, self.sample_rate))
        self._window = constant(filters.sinc_window(self.kernel_size))

    # -- computation ----------------------------------------------------------

    def cutoffs(self):
        """The filters' ``(low, high)`` cut-offs in Hz, each ``(n_filters,)``, as the layer
        computes them from its weights (tensors in `math_dtype`)."""
        low = self.min_low_hz + ops.abs(ops.cast(self.low_hz, self.math_dtype))
        high = low + self.min_band_hz + ops.abs(ops.cast(self.band_hz, self.math_dtype))
        # speechbrain's clamp; `where` passes the gradient at the bounds as torch.clamp
        # does, on every backend (ops.minimum splits or drops it at ties).
        high = ops.where(high < self.min_low_hz, self.min_low_hz, high)
        high = ops.where(high > self.sample_rate / 2, self.sample_rate / 2, high)
        return low, high

    def sinc_kernel(self):
        """The ``(kernel_size, 1, n_filters)`` convolution kernel the current weights make."""
        low, high = self.cutoffs()
        band = high - low
        time = ops.cast(self._time, low.dtype)
        # Broadcast products, not ops.matmul (Keras's torch matmul rounds float64).
        phase_low = ops.expand_dims(low, 1) * time
        phase_high = ops.expand_dims(high, 1) * time
        window = ops.cast(self._window, low.dtype)
        left = (ops.sin(phase_high) - ops.sin(phase_low)) / (time / 2) * window
        centre = 2 * ops.expand_dims(band, 1)
        taps = ops.concatenate([left, centre, ops.flip(left, axis=1)], axis=1)
        taps = taps / (2 * ops.expand_dims(band, 1))  # (n_filters, kernel_size)
        return ops.expand_dims(ops.transpose(taps), 1)

    def call(self, inputs):
        self._check_input_shape(inputs.shape)
        signals = F.fold_channels(self.cast_input(inputs), self.data_format)  # (batch, samples)
        if self.padding == "same":
            signals = F.center_pad(signals, self.kernel_size // 2, "constant")
        outputs = ops.conv(
            ops.expand_dims(signals, -1), self.sinc_kernel(), strides=self.stride, padding="valid"
        )
        if self.data_format == "channels_first":
            outputs = ops.transpose(outputs, (0, 2, 1))
        return ops.cast(outputs, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_filters": self.n_filters,
                "kernel_size": self.kernel_size,
                "sample_rate": self.sample_rate,
                "min_low_hz": self.min_low_hz,
                "min_band_hz": self.min_band_hz,
                "stride": self.stride,
                "padding": self.padding,
            }
        )
        return config
