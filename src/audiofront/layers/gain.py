"""The `RandomGain` layer: a random level per example, uniform in dB."""

import keras
from keras import ops

from audiofront.layers._base import AugmentationLayer
from audiofront.validation import check_number


@keras.saving.register_keras_serializable(package="audiofront")
class RandomGain(AugmentationLayer):
    """Scales each example by ``10 ** (g / 20)``, ``g`` drawn uniformly in ``[min_db,
    max_db]``, during training; the identity otherwise.

    One gain per example, shared by all its channels and samples (works on waveforms and
    spectrograms of any shape ``(batch, ...)``; for a power spectrogram use twice the dB).
    Randomness as `AdditiveNoise`: the same ``seed`` draws the same gains on every backend.

    Args:
        min_db, max_db: the range in dB (``min_db == max_db`` is a fixed gain).
        probability: the chance, per example, that its level changes.
        seed: integer seed of the draws (None: a random one).
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Example:

    >>> import numpy as np
    >>> x = np.ones((4, 100), "float32")
    >>> y = keras.ops.convert_to_numpy(RandomGain(min_db=6.0, max_db=6.0)(x, training=True))
    >>> np.round(y[:, 0], 3)
    array([1.995, 1.995, 1.995, 1.995], dtype=float32)
    """

    def __init__(self, min_db=-6.0, max_db=6.0, probability=1.0, seed=None, **kwargs):
        super().__init__(probability=probability, seed=seed, **kwargs)
        self.min_db = check_number("min_db", min_db)
        self.max_db = check_number("max_db", max_db)
        if self.min_db > self.max_db:
            raise ValueError(
                f"`min_db` must be at most `max_db`. Received: min_db={min_db!r}, max_db={max_db!r}"
            )

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                "`inputs` must have a batch axis and at least one more. "
                f"Received: inputs with shape {tuple(input_shape)}"
            )
        super().build(input_shape)

    def _augment(self, x, draws):
        per_example = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
        gain_db = draws.uniform(per_example, 0, self.min_db, self.max_db)
        return x * ops.power(10.0, gain_db / 20.0)

    def get_config(self):
        config = super().get_config()
        config.update({"min_db": self.min_db, "max_db": self.max_db})
        return config
