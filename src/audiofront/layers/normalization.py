"""The `Normalization2D` layer: per-axis standardisation of time-frequency input."""

import keras
from keras import ops

from audiofront import functional as F
from audiofront.layers._base import (
    FrontEndLayer,
    check_spectrogram_shape,
    standardize_data_format,
)
from audiofront.validation import check_choice, check_number

AXES = ("freq", "time", "channel", "sample", "batch")


@keras.saving.register_keras_serializable(package="audiofront")
class Normalization2D(FrontEndLayer):
    """Standardises a spectrogram per frequency bin, frame, channel, example or batch.

    Computes ``(x - mean) / (std + eps)`` with the population standard deviation. The
    named ``axis`` keeps one statistic per index; each statistic is taken over the other
    non-batch axes of one example: ``"freq"`` one mean and std per bin (over frames and
    channels), ``"time"`` per frame, ``"channel"`` per channel, ``"sample"`` one per
    example; ``"batch"`` one over the whole batch (Kapre's batch mode). There are no
    running statistics: the output is the same in training and inference.

    A constant slice (a dB spectrogram clipped at its ``top_db`` floor, say) maps to 0
    and its gradient stays finite: the square root of a zero variance is taken with a
    zero gradient rather than an infinite one.

    Args:
        axis: ``"freq"``, ``"time"``, ``"channel"``, ``"sample"`` or ``"batch"``.
        eps: added to the std; guards the division.
        data_format: ``"channels_last"`` ``(batch, frames, bins, channels)`` or
            ``"channels_first"`` ``(batch, channels, frames, bins)``; defaults to
            ``keras.config.image_data_format()``.
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        4-D, as ``data_format`` says.

    Output shape:
        Same as the input.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(5.0, 3.0, (2, 100, 40, 1)).astype("float32")
    >>> y = keras.ops.convert_to_numpy(Normalization2D(axis="freq")(x))
    >>> bool(np.allclose(y.mean(axis=(1, 3)), 0, atol=1e-5))
    True
    """

    def __init__(self, axis="freq", eps=1e-10, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_choice("axis", axis, AXES)
        check_number("eps", eps, minimum=0)
        self.eps = eps
        self.data_format = standardize_data_format(data_format)

    def _reduction_axes(self):
        if self.axis == "batch":
            return (0, 1, 2, 3)
        if self.axis == "sample":
            return (1, 2, 3)
        if self.data_format == "channels_last":
            kept = {"time": 1, "freq": 2, "channel": 3}[self.axis]
        else:
            kept = {"channel": 1, "time": 2, "freq": 3}[self.axis]
        return tuple(a for a in (1, 2, 3) if a != kept)

    def build(self, input_shape):
        check_spectrogram_shape(input_shape)

    def call(self, inputs):
        x = self.cast_input(inputs)
        return ops.cast(F.standardize(x, self._reduction_axes(), self.eps), self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "eps": self.eps, "data_format": self.data_format})
        return config
