"""Serializable weight constraints that keep learnable front-end parameters in range.

Example:

>>> import numpy as np
>>> keras.ops.convert_to_numpy(Clip(0.0, 1.0)(np.array([-0.5, 0.3, 2.0], "float32")))
array([0. , 0.3, 1. ], dtype=float32)
"""

import keras
from keras import ops

__all__ = ["Clip"]


@keras.saving.register_keras_serializable(package="audiofront")
class Clip(keras.constraints.Constraint):
    """Clips a weight into ``[min_value, max_value]`` after each update (None: unbounded)."""

    def __init__(self, min_value=None, max_value=None):
        self.min_value = min_value
        self.max_value = max_value

    def __call__(self, w):
        if self.min_value is not None:
            w = ops.maximum(w, ops.cast(self.min_value, w.dtype))
        if self.max_value is not None:
            w = ops.minimum(w, ops.cast(self.max_value, w.dtype))
        return w

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value}
