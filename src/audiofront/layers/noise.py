"""The `AdditiveNoise` layer: training-only white, pink or brown noise."""

import numbers

import keras
from keras import ops

from audiofront import ops as af_ops
from audiofront.layers._base import check_bool, check_choice, check_float_input, math_dtype

NOISES = ("white", "pink", "brown")
_EXPONENT = {"white": 0, "pink": 1, "brown": 2}


def check_snr_db(snr_db):
    if snr_db is None:
        return None
    if isinstance(snr_db, numbers.Real) and not isinstance(snr_db, bool):
        return float(snr_db)
    if (
        isinstance(snr_db, (tuple, list))
        and len(snr_db) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in snr_db)
        and snr_db[0] <= snr_db[1]
    ):
        return (float(snr_db[0]), float(snr_db[1]))
    raise ValueError(
        "`snr_db` must be None, a number, or a (low, high) pair with low <= high. "
        f"Received: snr_db={snr_db!r}"
    )


@keras.saving.register_keras_serializable(package="audiofront")
class AdditiveNoise(keras.layers.Layer):
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
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if isinstance(power, bool) or not isinstance(power, numbers.Real) or power < 0:
            raise ValueError(f"`power` must be a non-negative number. Received: power={power!r}")
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis == 0:
            raise ValueError(
                f"`axis` must be a non-zero integer (0 is the batch). Received: axis={axis!r}"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
        self.power = float(power)
        self.noise = check_choice("noise", noise, NOISES)
        self.random_gain = check_bool("random_gain", random_gain)
        self.snr_db = check_snr_db(snr_db)
        self.seed = seed
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
        x = ops.cast(inputs, math_dtype(self.compute_dtype))
        rank = len(x.shape)
        noise = af_ops.coloured_noise(
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
            signal_power = ops.mean(ops.square(x), axis=af_ops.example_axes(x), keepdims=True)
            level = signal_power * ops.power(10.0, -snr / 10.0)
        if self.random_gain:
            level = level * keras.random.uniform(per_example, seed=self.seed_generator)
        return ops.cast(x + noise * ops.sqrt(ops.cast(level, x.dtype)), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

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
