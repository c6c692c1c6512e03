"""The `BackgroundNoise` layer: recordings of noise mixed in at a random SNR."""

import keras
from keras import ops

from audiofront.layers._base import WaveformAugmentation, check_bank
from audiofront.validation import check_range


@keras.saving.register_keras_serializable(package="audiofront")
class BackgroundNoise(WaveformAugmentation):
    """Adds a background recording to each example during training; the identity otherwise.

    Per example: one recording of ``noises`` (an ``(n, length)`` array: cafés, streets,
    machines, babble), a random crop of it (or, when shorter than the example, the recording
    tiled from a random offset), scaled so that the example's own power over the noise's is
    an SNR drawn uniformly from ``snr_db`` (exact: both powers are measured on what is
    mixed). The channels of an example get the same noise.

    The bank is a non-trainable weight, ``noises``, saved with the model; the layer's config
    holds only its shape.

    Args:
        noises: an ``(n, length)`` array of noise recordings at the audio's sample rate.
        snr_db: ``(low, high)`` SNR in dB, or a number.
        probability: the chance, per example, that noise is added.
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
    >>> rng = np.random.default_rng(0)
    >>> layer = BackgroundNoise(rng.standard_normal((3, 500)), snr_db=(10.0, 10.0), seed=0)
    >>> x = np.sin(np.arange(4000) / 5.0)[None].repeat(2, 0).astype("float32")
    >>> noise = keras.ops.convert_to_numpy(layer(x, training=True)) - x
    >>> np.round(10 * np.log10((x**2).mean(1) / (noise**2).mean(1)), 3)
    array([10., 10.], dtype=float32)
    """

    def __init__(
        self,
        noises,
        snr_db=(3.0, 30.0),
        probability=1.0,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(probability=probability, seed=seed, data_format=data_format, **kwargs)
        self._bank = check_bank("noises", noises)
        self.snr_db = check_range("snr_db", snr_db)

    def build(self, input_shape):
        super().build(input_shape)
        bank = self._bank
        self.noises = self.add_weight(
            name="noises",
            shape=bank.shape,
            initializer=lambda shape, dtype=None: ops.convert_to_tensor(bank, dtype=dtype),
            trainable=False,
        )

    def _segments(self, batch, samples, draws):
        """(batch, 1, samples): a crop, or a tiling, of a drawn recording per example."""
        count, length = self._bank.shape
        row = ops.minimum(ops.floor(draws.uniform((batch, 1), 0) * count), count - 1)
        # Crops start anywhere that fits; a shorter recording tiles from anywhere in it.
        span = ops.cast(ops.maximum(length - samples + 1, 1), draws.dtype)
        span = ops.where(span > 1, span, float(length))
        offset = ops.floor(draws.uniform((batch, 1), 1) * span)
        # Integer positions: a bank of more than 2**24 samples stays exact.
        position = ops.arange(samples, dtype="int32")[None, :] + ops.cast(offset, "int32")
        index = ops.cast(row, "int32") * length + ops.mod(position, length)
        flat = ops.reshape(ops.cast(self.noises, draws.dtype), (-1,))
        return ops.expand_dims(ops.take(flat, index, axis=0), 1)

    def _augment_waves(self, waves, draws):
        shape = ops.shape(waves)
        noise = self._segments(shape[0], shape[2], draws)
        if isinstance(self.snr_db, tuple):
            snr = draws.uniform((shape[0], 1, 1), 2, *self.snr_db)
        else:
            snr = self.snr_db
        signal = ops.mean(ops.square(waves), axis=(1, 2), keepdims=True)
        noise_power = ops.mean(ops.square(noise), axis=(1, 2), keepdims=True)
        silent = noise_power <= 0
        scale = ops.sqrt(
            signal / ops.where(silent, 1.0, noise_power) * ops.power(10.0, -snr / 10.0)
        )
        return waves + noise * ops.where(silent, 0.0, scale)

    def get_config(self):
        config = super().get_config()
        config.update({"noises": {"shape": list(self._bank.shape)}, "snr_db": self.snr_db})
        return config
