"""The `InverseSTFT` layer: waveforms back from a complex STFT, by overlap-add."""

import keras
from keras import ops

from audiofront import filters
from audiofront import functional as F
from audiofront.initializers import IDFTKernel
from audiofront.layers._base import (
    FrontEndLayer,
    check_spectrogram_shape,
    constant,
    resolve_framing,
    standardize_data_format,
)
from audiofront.validation import check_bool, check_positive_int


@keras.saving.register_keras_serializable(package="audiofront")
class InverseSTFT(FrontEndLayer):
    """Inverse short-time Fourier transform, equal to ``librosa.istft``.

    Each frame's one-sided spectrum is synthesised by a windowed inverse-DFT kernel and the
    frames are overlap-added ``hop_length`` apart (one strided transposed convolution); the
    sum is divided by the overlap-added squared window (librosa's window-sum
    normalisation). ``InverseSTFT(STFT(x, mode="complex"))`` gives ``x`` back for any window
    and hop that meet the NOLA condition. One weight, ``kernel`` of shape
    ``(n_fft, 1, 2 * bins)`` (real then imaginary parts' synthesis), trained with
    ``trainable=True`` starting from the exact inverse DFT; the normalisation always uses
    ``window``.

    Args:
        n_fft, hop_length, win_length, window, center: as the `STFT` that made the input.
        length: the output length in samples (cropped or zero-padded as librosa), or None
            for all that the frames give.
        trainable: whether the synthesis kernel is trained (Keras's ``trainable``).
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to
            ``keras.config.image_data_format()``.
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        A pair ``(real, imag)`` as `STFT` (``mode="complex"``) returns: each
        ``(batch, frames, bins, channels)`` (channels_last) or
        ``(batch, channels, frames, bins)`` (channels_first), ``bins = n_fft // 2 + 1``.

    Output shape:
        channels_last ``(batch, samples, channels)``, channels_first
        ``(batch, channels, samples)``; ``samples = length``, or
        ``(frames - 1) * hop_length + n_fft`` less ``2 * (n_fft // 2)`` when centred.

    Example:

    >>> import numpy as np
    >>> from audiofront import STFT
    >>> x = np.random.default_rng(0).standard_normal((2, 4000)).astype("float32")
    >>> spectrum = STFT(n_fft=512, hop_length=128, mode="complex")(x)
    >>> y = keras.ops.convert_to_numpy(InverseSTFT(n_fft=512, hop_length=128, length=4000)(spectrum))
    >>> y.shape, bool(np.abs(y[..., 0] - x).max() < 1e-5 * np.abs(x).max())
    ((2, 4000, 1), True)
    """

    def __init__(
        self,
        n_fft=2048,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
        length=None,
        trainable=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(trainable=trainable, **kwargs)
        resolve_framing(self, n_fft, hop_length, win_length, window)
        self.center = check_bool("center", center)
        self.length = None if length is None else check_positive_int("length", length)
        self.data_format = standardize_data_format(data_format)

    def _check_pair(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 2:
            raise ValueError(
                "`inputs` must be the pair (real, imag) that STFT(mode='complex') returns. "
                f"Received: inputs with shape {input_shape}"
            )
        bins = self.n_fft // 2 + 1
        bins_axis = 2 if self.data_format == "channels_last" else 3
        for shape in input_shape:
            check_spectrogram_shape(shape)
            if shape[bins_axis] is not None and shape[bins_axis] != bins:
                raise ValueError(
                    f"`inputs` must have n_fft // 2 + 1 = {bins} frequency bins (axis "
                    f"{bins_axis}) for n_fft={self.n_fft}. Received: inputs with shape "
                    f"{tuple(shape)}"
                )
        if tuple(input_shape[0]) != tuple(input_shape[1]):
            raise ValueError(
                "`inputs` real and imaginary parts must have the same shape. Received: "
                f"{tuple(input_shape[0])} and {tuple(input_shape[1])}"
            )

    def build(self, input_shape):
        self._check_pair(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.n_fft, 1, 2 * (self.n_fft // 2 + 1)),
            initializer=IDFTKernel(self.n_fft, self._win_length, self.window),
        )
        self._window = constant(filters.padded_window(self.n_fft, self._win_length, self.window))

    def _fold(self, x):
        """(batch, frames, bins, channels) or (batch, channels, frames, bins) to
        (batch * channels, frames, bins)."""
        if self.data_format == "channels_last":
            x = ops.transpose(x, (0, 3, 1, 2))
        shape = ops.shape(x)
        return ops.reshape(x, (-1, shape[2], shape[3]))

    def call(self, inputs):
        real, imag = (self.cast_input(x) for x in inputs)
        channels = real.shape[3 if self.data_format == "channels_last" else 1]
        y = F.inverse_stft(
            self._fold(real),
            self._fold(imag),
            ops.cast(self.kernel, self.math_dtype),
            ops.cast(self._window, self.math_dtype),
            self._hop_length,
            center=self.center,
            length=self.length,
        )
        y = ops.reshape(y, (-1, channels, ops.shape(y)[1]))
        if self.data_format == "channels_last":
            y = ops.transpose(y, (0, 2, 1))
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0])
        if self.data_format == "channels_last":
            batch, frames, _, channels = shape
        else:
            batch, channels, frames, _ = shape
        samples = self.length
        if samples is None and frames is not None:
            samples = (frames - 1) * self._hop_length + self.n_fft
            samples -= 2 * (self.n_fft // 2) if self.center else 0
        if self.data_format == "channels_last":
            return (batch, samples, channels)
        return (batch, channels, samples)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_fft": self.n_fft,
                "hop_length": self.hop_length,
                "win_length": self.win_length,
                "window": self.window,
                "center": self.center,
                "length": self.length,
                "data_format": self.data_format,
            }
        )
        return config
