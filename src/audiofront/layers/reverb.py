"""The `Reverb` layer: each example convolved with a room's impulse response."""

import math

import keras
import numpy as np
from keras import ops

from audiofront import functional as F
from audiofront.layers._base import WaveformAugmentation, check_bank
from audiofront.validation import check_number, check_range

# 60 dB of amplitude decay, as an exponent: exp(-DECAY * t / rt60) is 1e-3 at t = rt60.
_DECAY = 3.0 * math.log(10.0)


@keras.saving.register_keras_serializable(package="audiofront")
class Reverb(WaveformAugmentation):
    """Convolves each example with an impulse response during training; the identity
    otherwise.

    The response is drawn per example: one of ``impulse_responses`` (an ``(n, length)``
    array, measured rooms say), or, when that is None, a synthetic one: white noise decaying
    exponentially so that its energy falls 60 dB in an RT60 drawn uniformly from ``rt60``
    seconds (``ceil(rt60[1] * sample_rate)`` taps). The output is the first ``samples`` of
    the full causal convolution (an FFT convolution), rescaled to the input example's RMS;
    the channels of an example share the response (a stereo recording stays one room).

    A bank of responses is kept as a non-trainable weight, ``impulse_responses``, saved with
    the model; the layer's config holds only its shape.

    Args:
        impulse_responses: None, or an ``(n, length)`` array of impulse responses.
        rt60: ``(low, high)`` reverberation time in seconds for the synthetic responses
            (``(a, a)`` is a fixed one).
        sample_rate: sampling rate of the audio, for ``rt60``.
        probability: the chance, per example, that it is reverberated.
        seed: integer seed of the draws (None: a random one).
        data_format: ``"channels_last"`` or ``"channels_first"`` (3-D input).
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        ``(batch, samples)``, ``(batch, samples, channels)`` (channels_last) or
        ``(batch, channels, samples)`` (channels_first).

    Output shape:
        The same.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((2, 8000)).astype("float32")
    >>> y = keras.ops.convert_to_numpy(Reverb(rt60=(0.3, 0.3), sample_rate=8000, seed=0)(x, training=True))
    >>> y.shape, bool(np.allclose(np.sqrt((y**2).mean(1)), np.sqrt((x**2).mean(1)), rtol=1e-4))
    ((2, 8000), True)
    """

    def __init__(
        self,
        impulse_responses=None,
        rt60=(0.2, 1.0),
        sample_rate=16000,
        probability=1.0,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(probability=probability, seed=seed, data_format=data_format, **kwargs)
        self._bank = None
        if impulse_responses is not None:
            self._bank = check_bank("impulse_responses", impulse_responses)
        self.rt60 = check_range("rt60", rt60, allow_number=False)
        if self.rt60[0] <= 0:
            raise ValueError(f"`rt60` must be positive (seconds). Received: rt60={rt60!r}")
        self.sample_rate = check_number("sample_rate", sample_rate, minimum=0, strict=True)

    def build(self, input_shape):
        super().build(input_shape)
        if self._bank is not None:
            bank = self._bank
            self.impulse_responses = self.add_weight(
                name="impulse_responses",
                shape=bank.shape,
                initializer=lambda shape, dtype=None: ops.convert_to_tensor(bank, dtype=dtype),
                trainable=False,
            )

    def _responses(self, batch, draws):
        """(batch, 1, taps): one impulse response per example."""
        if self._bank is not None:
            count = self._bank.shape[0]
            choice = ops.floor(draws.uniform((batch,), 0) * count)
            index = ops.cast(ops.minimum(choice, count - 1), "int32")
            bank = ops.cast(self.impulse_responses, draws.dtype)
            return ops.expand_dims(ops.take(bank, index, axis=0), 1)
        taps = int(np.ceil(self.rt60[1] * self.sample_rate))
        rt60 = draws.uniform((batch, 1, 1), 1, *self.rt60)
        time = ops.cast(ops.arange(taps), draws.dtype) / self.sample_rate
        envelope = ops.exp(-_DECAY * ops.reshape(time, (1, 1, taps)) / rt60)
        return draws.normal((batch, 1, taps), 2) * envelope

    def _augment_waves(self, waves, draws):
        responses = self._responses(ops.shape(waves)[0], draws)
        return F.rms_match(F.fft_convolve(waves, responses), waves, axes=(1, 2))

    def get_config(self):
        config = super().get_config()
        bank = None if self._bank is None else {"shape": list(self._bank.shape)}
        config.update(
            {"impulse_responses": bank, "rt60": self.rt60, "sample_rate": self.sample_rate}
        )
        return config
