"""The `Decibel` layer: power or magnitude to decibels, per example."""

import numbers

import keras
from keras import ops

from audiofront import ops as af_ops
from audiofront.layers._base import check_choice, check_float_input, math_dtype

SCALES = ("power", "magnitude")
_DEFAULT_AMIN = {"power": 1e-10, "magnitude": 1e-5}
_MULTIPLIER = {"power": 10.0, "magnitude": 20.0}


def check_decibel_args(ref, amin, top_db):
    """Validates the dB arguments shared by `Decibel` and the spectrogram layers."""
    if not (
        ref == "max"
        if isinstance(ref, str)
        else isinstance(ref, numbers.Real) and not isinstance(ref, bool) and ref > 0
    ):
        raise ValueError(f'`ref` must be a positive number or "max". Received: ref={ref!r}')
    if amin is not None and (
        isinstance(amin, bool) or not isinstance(amin, numbers.Real) or amin <= 0
    ):
        raise ValueError(f"`amin` must be a positive number or None. Received: amin={amin!r}")
    if top_db is not None and (
        isinstance(top_db, bool) or not isinstance(top_db, numbers.Real) or top_db < 0
    ):
        raise ValueError(
            f"`top_db` must be a non-negative number or None. Received: top_db={top_db!r}"
        )


def decibel(x, scale="power", ref=1.0, amin=None, top_db=80.0):
    """`audiofront.ops.to_decibel` with the scale's multiplier and default ``amin``."""
    return af_ops.to_decibel(
        x,
        multiplier=_MULTIPLIER[scale],
        ref=ref,
        amin=_DEFAULT_AMIN[scale] if amin is None else amin,
        top_db=top_db,
    )


@keras.saving.register_keras_serializable(package="audiofront")
class Decibel(keras.layers.Layer):
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
    >>> np.round(np.asarray(Decibel(top_db=None)(x)), 3)
    array([[   0.,  -10., -100.]], dtype=float32)
    """

    def __init__(self, scale="power", ref=1.0, amin=None, top_db=80.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.scale = check_choice("scale", scale, SCALES)
        check_decibel_args(ref, amin, top_db)
        self.ref = ref
        self.amin = amin
        self.top_db = top_db
        self.autocast = False

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                "`inputs` must have a batch axis and at least one more. "
                f"Received: inputs with shape {tuple(input_shape)}"
            )

    def call(self, inputs):
        check_float_input(inputs)
        x = ops.cast(inputs, math_dtype(self.compute_dtype))
        db = decibel(x, self.scale, self.ref, self.amin, self.top_db)
        return ops.cast(db, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"scale": self.scale, "ref": self.ref, "amin": self.amin, "top_db": self.top_db}
        )
        return config
