"""The `SpecAugment` layer: training-only frequency and time masks."""

import keras
from keras import ops

from audiofront import functional as F
from audiofront.layers._base import (
    AugmentationLayer,
    check_spectrogram_shape,
    standardize_data_format,
)
from audiofront.validation import check_non_negative_int, check_number


@keras.saving.register_keras_serializable(package="audiofront")
class SpecAugment(AugmentationLayer):
    """SpecAugment's frequency and time masking during training; the identity otherwise.

    Follows torchaudio's ``FrequencyMasking`` / ``TimeMasking`` with ``iid_masks=True``:
    each mask's width is drawn uniformly from ``[0, param)`` (then floored) and its start
    uniformly from the valid range, independently for every example and channel.
    ``n_freq_masks`` and ``n_time_masks`` masks are applied per axis (they may overlap);
    masked values are set to ``mask_value``. A ``param`` larger than its axis is capped
    at the axis length.

    Args:
        freq_mask_param: maximum (exclusive) width of a frequency mask, in bins.
        time_mask_param: maximum (exclusive) width of a time mask, in frames.
        n_freq_masks: number of frequency masks.
        n_time_masks: number of time masks.
        mask_value: value written into the masks (0 suits a standardised input; use
            the floor, e.g. -80, for a dB spectrogram).
        seed: integer seed of the layer's draws (`audiofront.random`; None: a random one),
            the same masks on every backend.
        data_format: ``"channels_last"`` ``(batch, frames, bins, channels)`` or
            ``"channels_first"`` ``(batch, channels, frames, bins)``.
        probability: the chance, per example, that it is masked.
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Call arguments:
        inputs: a 4-D spectrogram.
        training: masks only when True (Keras sets it in ``fit``).

    Example:

    >>> import numpy as np
    >>> x = np.ones((2, 100, 64, 1), "float32")
    >>> y = keras.ops.convert_to_numpy(SpecAugment(freq_mask_param=10, time_mask_param=20, seed=1)(x, training=True))
    >>> y.shape, bool(y.min() == 0.0)
    ((2, 100, 64, 1), True)
    """

    def __init__(
        self,
        freq_mask_param=27,
        time_mask_param=100,
        n_freq_masks=1,
        n_time_masks=1,
        mask_value=0.0,
        seed=None,
        data_format=None,
        probability=1.0,
        **kwargs,
    ):
        super().__init__(probability=probability, seed=seed, **kwargs)
        self.freq_mask_param = check_non_negative_int("freq_mask_param", freq_mask_param)
        self.time_mask_param = check_non_negative_int("time_mask_param", time_mask_param)
        self.n_freq_masks = check_non_negative_int("n_freq_masks", n_freq_masks)
        self.n_time_masks = check_non_negative_int("n_time_masks", n_time_masks)
        self.mask_value = check_number("mask_value", mask_value)
        self.data_format = standardize_data_format(data_format)

    def build(self, input_shape):
        check_spectrogram_shape(input_shape)
        if input_shape[3 if self.data_format == "channels_last" else 1] is None:
            raise ValueError(
                "The channel axis of `inputs` must be known. "
                f"Received: inputs with shape {tuple(input_shape)}"
            )
        super().build(input_shape)

    def _masks(self, draws, stream, count, size, param, batch, channels):
        """(batch, channels, size) booleans: the union of ``count`` masks, or None."""
        if count == 0:
            return None
        shape = (count, batch, channels, 1)
        widths, starts = draws.uniform(shape, stream), draws.uniform(shape, stream + 1)
        return F.axis_masks(widths, starts, size, param)

    def _augment(self, x, draws):
        last = self.data_format == "channels_last"
        shape = ops.shape(x)
        batch, channels = shape[0], x.shape[3 if last else 1]
        frames, bins = (shape[1], shape[2]) if last else (shape[2], shape[3])
        time = self._masks(
            draws, 0, self.n_time_masks, frames, self.time_mask_param, batch, channels
        )
        freq = self._masks(draws, 2, self.n_freq_masks, bins, self.freq_mask_param, batch, channels)
        if (
            last
        ):  # (batch, channels, n) -> (batch, frames, 1, channels) / (batch, 1, bins, channels)
            time = None if time is None else ops.expand_dims(ops.transpose(time, (0, 2, 1)), 2)
            freq = None if freq is None else ops.expand_dims(ops.transpose(freq, (0, 2, 1)), 1)
        else:  # -> (batch, channels, frames, 1) / (batch, channels, 1, bins)
            time = None if time is None else ops.expand_dims(time, 3)
            freq = None if freq is None else ops.expand_dims(freq, 2)
        masks = [m for m in (time, freq) if m is not None]
        if not masks:
            return x
        mask = masks[0] if len(masks) == 1 else ops.logical_or(*masks)
        return ops.where(mask, ops.cast(self.mask_value, x.dtype), x)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "freq_mask_param": self.freq_mask_param,
                "time_mask_param": self.time_mask_param,
                "n_freq_masks": self.n_freq_masks,
                "n_time_masks": self.n_time_masks,
                "mask_value": self.mask_value,
                "data_format": self.data_format,
            }
        )
        return config
