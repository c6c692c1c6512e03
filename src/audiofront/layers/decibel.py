"""The `Decibel` layer: power or magnitude to decibels, per example."""

import keras
from keras import ops

from audiofront.layers._base import SCALES, FrontEndLayer, check_decibel_args, decibel
from audiofront.validation import check_choice


@keras.saving.register_keras_serializable(package="audiofront")
class Decibel(FrontEndLayer):
    """Converts power or magnitude to decibels, as librosa's ``power_to_db``.

    ``scale="power"`` computes ``10 * log10(max(amin, S) / max(amin, ref))`` with
    ``amin`` defaulting to 1e-10 (``librosa.power_to_db``); ``scale="magnitude"``
    computes ``20 * log10(...)`` with ``amin`` defaulting to 1e-5
    (``librosa.amplitude_to_db``). Statistics (``ref="max"``, ``top_db``) are taken
    per example over all non-batch axes, never across the batch.

    Args:
        scale: ``"power"`` or ``"magnitude"``.
        ref: a positive reference value, or ``"max"`` for each example's maximum.
        amin: floor applied before the logarithm; ``None`` picks the scale's default.
            Silence therefore gives a finite value.
        top_db: clip each example at its maximum minus ``top_db`` dB; ``None``
            disables clipping.

    Input shape:
        Any shape ``(batch, ...)`` with non-negative values.

    Output shape:
        Same as the input.

    Example:

    >>> import numpy as np
    >>> x = np.array([[1.0, 0.1, 0.0]], dtype="float32")
    >>> np.round(keras.ops.convert_to_numpy(Decibel(top_db=None)(x)), 3)
    array([[   0.,  -10., -100.]], dtype=float32)
    """

    def __init__(self, scale="power", ref=1.0, amin=None, top_db=80.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = check_choice("scale", scale, SCALES)
        check_decibel_args(ref, amin, top_db)
        self.ref = ref
        self.amin = amin
        self.top_db = top_db

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                "`inputs` must have a batch axis and at least one more. "
                f"Received: inputs with shape {tuple(input_shape)}"
            )

    def call(self, inputs):
        db = decibel(self.cast_input(inputs), self.scale, self.ref, self.amin, self.top_db)
        return ops.cast(db, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"scale": self.scale, "ref": self.ref, "amin": self.amin, "top_db": self.top_db}
        )
        return config
