"""The `AdditiveNoise` layer: training-only white, pink or brown noise."""

import numbers

import keras
from keras import ops

from audiofront import functional as F
from audiofront.layers._base import AugmentationLayer
from audiofront.validation import check_bool, check_choice, check_number, check_range

NOISES = ("white", "pink", "brown")
_EXPONENT = {"white": 0, "pink": 1, "brown": 2}


@keras.saving.register_keras_serializable(package="audiofront")
class AdditiveNoise(AugmentationLayer):
    """Adds white, pink or brown noise during training; the identity otherwise.

    The noise of each example is zero-mean with variance exactly ``power`` (it is drawn,
    coloured, then standardised over the example). Pink noise has a ``1/f`` power
    spectrum (-3 dB per octave), brown ``1/f**2`` (-6 dB per octave), along ``axis``.
    With ``snr_db`` the variance is instead each example's own signal power (mean
    square) divided by ``10 ** (snr_db / 10)``: a fixed SNR, or one drawn uniformly per
    example from a ``(low, high)`` range. With ``random_gain`` each example's noise
    level (variance) is further scaled by a gain drawn uniformly from [0, 1), so levels
    spread over [0, power).

    Randomness is audiofront's own (`audiofront.random`): the same seed gives the same
    noise on JAX, PyTorch and TensorFlow, successive calls and the examples of a batch get
    different noise, and the layer compiles inside training steps on every backend
    (``fit(jit_compile=True)``). Works on waveforms and spectrograms of any shape
    ``(batch, ...)``. With ``probability < 1`` each example gets noise with that
    probability.

    Args:
        power: noise variance, >= 0.
        noise: ``"white"``, ``"pink"`` or ``"brown"``.
        random_gain: scale each example's noise level by a uniform [0, 1) gain.
        snr_db: None, a float, or a ``(low, high)`` range in dB; replaces ``power``.
        probability: the chance, per example, that it gets noise.
        seed: integer seed of the layer's draws (None: a random one).
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
    >>> bool(np.all(keras.ops.convert_to_numpy(layer(x)) == 0))          # inference: unchanged
    True
    >>> noisy = keras.ops.convert_to_numpy(layer(x, training=True))
    >>> bool(np.allclose(noisy.var(axis=1), 0.01, rtol=1e-3))
    True
    """

    def __init__(
        self,
        power=0.1,
        noise="white",
        random_gain=False,
        snr_db=None,
        seed=None,
        axis=1,
        probability=1.0,
        **kwargs,
    ):
        super().__init__(probability=probability, seed=seed, **kwargs)
        self.power = check_number("power", power, minimum=0)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis == 0:
            raise ValueError(
                f"`axis` must be a non-zero integer (0 is the batch). Received: axis={axis!r}"
            )
        self.noise = check_choice("noise", noise, NOISES)
        self.random_gain = check_bool("random_gain", random_gain)
        self.snr_db = None if snr_db is None else check_range("snr_db", snr_db)
        self.axis = int(axis)

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
        super().build(input_shape)

    def _augment(self, x, draws):
        rank = len(x.shape)
        white = draws.normal(ops.shape(x), stream=0)
        noise = F.coloured_noise(white, _EXPONENT[self.noise], self.axis)
        per_example = (ops.shape(x)[0],) + (1,) * (rank - 1)
        if self.snr_db is None:
            level = self.power
        else:
            if isinstance(self.snr_db, tuple):
                snr = draws.uniform(per_example, 1, *self.snr_db)
            else:
                snr = self.snr_db
            signal_power = ops.mean(ops.square(x), axis=F.example_axes(x), keepdims=True)
            level = signal_power * ops.power(10.0, -snr / 10.0)
        if self.random_gain:
            level = level * draws.uniform(per_example, 2)
        return x + noise * ops.sqrt(ops.cast(level, x.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "power": self.power,
                "noise": self.noise,
                "random_gain": self.random_gain,
                "snr_db": self.snr_db,
                "axis": self.axis,
            }
        )
        return config
