"""The `Delta` layer: Savitzky-Golay time derivatives of a spectrogram, as librosa's."""

import keras
from keras import ops

from audiofront import filters
from audiofront import functional as F
from audiofront.layers._base import (
    FrontEndLayer,
    check_spectrogram_shape,
    standardize_data_format,
)
from audiofront.validation import check_choice, check_positive_int

MODES = ("interp", "nearest", "mirror", "constant", "wrap")


@keras.saving.register_keras_serializable(package="audiofront")
class Delta(FrontEndLayer):
    """Delta features along time, equal to ``librosa.feature.delta``.

    The ``order``-th derivative of the least-squares polynomial of degree ``order`` through
    the ``width`` frames around each frame (``scipy.signal.savgol_filter``): a fixed
    ``width``-tap filter along the time axis. At the edges, ``mode`` is ``"interp"`` (the
    polynomial through the first or last ``width`` frames, whose ``order``-th derivative
    is its full-window value there; needs at least ``width`` frames), or the padding of
    ``"nearest"``, ``"mirror"``, ``"constant"`` (zeros) or ``"wrap"``. No weights.

    Args:
        width: frames in the filter, odd and at least 3.
        order: the derivative, 1 (delta), 2 (delta-delta), ...
        mode: the edge handling, as above.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        channels_last ``(batch, frames, bins, channels)``, channels_first
        ``(batch, channels, frames, bins)``.

    Output shape:
        The same.

    Example:

    >>> import numpy as np
    >>> ramp = np.tile(np.arange(20, dtype="float32")[None, :, None, None], (1, 1, 3, 1))
    >>> keras.ops.convert_to_numpy(Delta(width=5)(ramp))[0, :, 0, 0][:4]
    array([1., 1., 1., 1.], dtype=float32)
    """

    def __init__(self, width=9, order=1, mode="interp", data_format=None, **kwargs):
        super().__init__(**kwargs)
        width = check_positive_int("width", width)
        if width < 3 or width % 2 != 1:
            raise ValueError(f"`width` must be an odd integer >= 3. Received: width={width!r}")
        self.width = width
        self.order = check_positive_int("order", order)
        if self.order >= width:
            raise ValueError(
                f"`order` must be less than `width`. Received: order={order!r}, width={width}"
            )
        self.mode = check_choice("mode", mode, MODES)
        self.data_format = standardize_data_format(data_format)
        # Python floats: numpy arrays in `call` break torch.compile's graph.
        self._coefficients = tuple(float(c) for c in filters.savgol_coefficients(width, self.order))

    @property
    def _time_axis(self):
        return 1 if self.data_format == "channels_last" else 2

    def _check_frames(self, shape):
        check_spectrogram_shape(shape)
        frames = shape[self._time_axis]
        if self.mode == "interp" and frames is not None and frames < self.width:
            raise ValueError(
                f"`mode` 'interp' needs at least width={self.width} frames (time axis "
                f"{self._time_axis}). Received: inputs with {frames} frames (shape "
                f"{tuple(shape)}); use a smaller width or another mode"
            )

    def build(self, input_shape):
        self._check_frames(input_shape)

    def call(self, inputs):
        self._check_frames(inputs.shape)
        x = self.cast_input(inputs)
        y = F.savgol_derivative(x, self._coefficients, self._time_axis, self.mode)
        return ops.cast(y, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "width": self.width,
                "order": self.order,
                "mode": self.mode,
                "data_format": self.data_format,
            }
        )
        return config
