"""The `AdditiveNoise` layer: training-only white, pink or brown noise."""

import numbers

import keras
from keras import ops

from audiofront import functional as F
from audiofront.layers._base import FrontEndLayer, check_float_input
from audiofront.validation import (
    check_bool,
    check_choice,
    check_number,
    check_range,
    check_seed,
)

NOISES = ("white", "pink", "brown")
_EXPONENT = {"white": 0, "pink": 1, "brown": 2}


@keras.saving.register_keras_serializable(package="audiofront")
class AdditiveNoise(FrontEndLayer):
    """Adds white, pink or brown noise during training; the identity otherwise.

    The noise of each example is zero-mean with variance exactly ``power`` (it is drawn,
    coloured, then standardised over the example). Pink noise has a ``1/f`` power
    spectrum (-3 dB per octave), brown ``1/f**2`` (-6 dB per octave), along ``axis``.
    With ``snr_db`` the variance is instead each example's own signal power (mean
    square) divided by ``10 ** (snr_db / 10)``: a fixed SNR, or one drawn uniformly per
    example from a ``(low, high)`` range. With ``random_gain`` each example's noise
    level (variance) is further scaled by a gain drawn uniformly from [0, 1), so levels
    spread over [0, power).

    Randomness comes from a ``keras.random.SeedGenerator(seed)``: the same seed gives the
    same noise sequence on the same backend, successive calls and the examples of a
    batch get different noise, and the layer works inside jit-compiled training steps.
    Works on waveforms and spectrograms of any shape ``(batch, ...)``.

    Args:
        power: noise variance, >= 0.
        noise: ``"white"``, ``"pink"`` or ``"brown"``.
        random_gain: scale each example's noise level by a uniform [0, 1) gain.
        snr_db: None, a float, or a ``(low, high)`` range in dB; replaces ``power``.
        seed: integer seed of the layer's ``SeedGenerator``.
        axis: the time axis along which pink and brown noise are coloured (default 1:
            ``(batch, samples[, channels])`` waveforms, channels_last spectrograms).
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Call arguments:
        inputs: a float tensor ``(batch, ...)``.
        training: adds noise only when True (Keras sets it in ``fit``).

    Example:

    >>> import numpy as np
    >>> layer = AdditiveNoise(power=0.01, noise="pink", seed=0)
    >>> x = np.zeros((4, 16000), "float32")
    >>> bool(np.all(np.asarray(layer(x)) == 0))          # inference: unchanged
    True
    >>> noisy = np.asarray(layer(x, training=True))
    >>> bool(np.allclose(noisy.var(axis=1), 0.01, rtol=1e-3))
    True
    """

    def __init__(
        self, power=0.1, noise="white", random_gain=False, snr_db=None, seed=None, axis=1, **kwargs
    ):
        super().__init__(**kwargs)
        self.power = check_number("power", power, minimum=0)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis == 0:
            raise ValueError(
                f"`axis` must be a non-zero integer (0 is the batch). Received: axis={axis!r}"
            )
        self.noise = check_choice("noise", noise, NOISES)
        self.random_gain = check_bool("random_gain", random_gain)
        self.snr_db = None if snr_db is None else check_range("snr_db", snr_db)
        self.seed = check_seed("seed", seed)
        self.axis = int(axis)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if (
            len(input_shape) < 2
            or not -len(input_shape) <= self.axis < len(input_shape)
            or self.axis % len(input_shape) == 0
        ):
            raise ValueError(
                f"`inputs` must have a batch axis and the noise axis={self.axis}. "
                f"Received: inputs with shape {tuple(input_shape)}"
            )

    def call(self, inputs, training=False):
        check_float_input(inputs)
        if not training:
            return inputs
        x = ops.cast(inputs, self.math_dtype)
        rank = len(x.shape)
        noise = F.coloured_noise(
            ops.shape(x), _EXPONENT[self.noise], self.axis, self.seed_generator
        )
        per_example = (ops.shape(x)[0],) + (1,) * (rank - 1)
        if self.snr_db is None:
            level = self.power
        else:
            if isinstance(self.snr_db, tuple):
                low, high = self.snr_db
                snr = keras.random.uniform(per_example, low, high, seed=self.seed_generator)
            else:
                snr = self.snr_db
            signal_power = ops.mean(ops.square(x), axis=F.example_axes(x), keepdims=True)
            level = signal_power * ops.power(10.0, -snr / 10.0)
        if self.random_gain:
            level = level * keras.random.uniform(per_example, seed=self.seed_generator)
        return ops.cast(x + noise * ops.sqrt(ops.cast(level, x.dtype)), self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "power": self.power,
                "noise": self.noise,
                "random_gain": self.random_gain,
                "snr_db": self.snr_db,
                "seed": self.seed,
                "axis": self.axis,
            }
        )
        return config
