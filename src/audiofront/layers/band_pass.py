"""The `BandPassFilter` layer: a microphone-like band-pass with random cut-offs."""

import keras
from keras import ops

from audiofront import functional as F
from audiofront.layers._base import WaveformAugmentation
from audiofront.validation import check_number, check_range

# Butterworth magnitude order: 10 log10(1 + 2 ** (2 * ORDER)) = 36 dB one octave beyond a
# cut-off, 0.001 dB of loss one octave inside.
ORDER = 6


@keras.saving.register_keras_serializable(package="audiofront")
class BandPassFilter(WaveformAugmentation):
    """Band-limits each example during training, as a cheap microphone would; the identity
    otherwise.

    Cut-offs are drawn per example, ``low`` uniformly from ``low_hz`` and ``high`` from
    ``high_hz``; the filter is zero-phase with a Butterworth magnitude of order 6 at each
    edge, ``1 / sqrt((1 + (low / f) ** 12) (1 + (f / high) ** 12))``, applied in the
    frequency domain (an FFT over twice the length, so it barely wraps around): 36 dB down
    one octave beyond each cut-off, within 0.003 dB of unity from ``2 * low`` to
    ``high / 2``. The channels of an example share the draw.

    Args:
        sample_rate: sampling rate of the audio in Hz.
        low_hz: ``(low, high)`` range of the lower cut-off in Hz (``(a, a)``: fixed).
        high_hz: ``(low, high)`` range of the upper cut-off, above ``low_hz`` and below
            the Nyquist frequency.
        probability: the chance, per example, that it is filtered.
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
    >>> t = np.arange(16000) / 16000
    >>> x = np.stack([np.sin(2 * np.pi * 100 * t), np.sin(2 * np.pi * 1000 * t)]).astype("float32")
    >>> y = keras.ops.convert_to_numpy(BandPassFilter(low_hz=(400, 400), high_hz=(4000, 4000))(x, training=True))
    >>> np.round(np.abs(y[:, 4000:12000]).max(axis=1), 2)
    array([0., 1.], dtype=float32)
    """

    def __init__(
        self,
        sample_rate=16000,
        low_hz=(50.0, 500.0),
        high_hz=(2000.0, 7000.0),
        probability=1.0,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        super().__init__(probability=probability, seed=seed, data_format=data_format, **kwargs)
        self.sample_rate = check_number("sample_rate", sample_rate, minimum=0, strict=True)
        self.low_hz = check_range("low_hz", low_hz, allow_number=False)
        self.high_hz = check_range("high_hz", high_hz, allow_number=False)
        if self.low_hz[0] <= 0:
            raise ValueError(f"`low_hz` must be above 0 Hz. Received: low_hz={low_hz!r}")
        if self.low_hz[1] >= self.high_hz[0]:
            raise ValueError(
                "`low_hz` must lie below `high_hz` (low_hz[1] < high_hz[0]). "
                f"Received: low_hz={low_hz!r}, high_hz={high_hz!r}"
            )
        nyquist = self.sample_rate / 2
        if self.high_hz[1] >= nyquist:
            raise ValueError(
                f"`high_hz` must lie below the Nyquist frequency sample_rate / 2 = {nyquist}. "
                f"Received: high_hz={high_hz!r}"
            )

    def _augment_waves(self, waves, draws):
        batch = ops.shape(waves)[0]
        low = draws.uniform((batch, 1, 1), 0, *self.low_hz) / self.sample_rate
        high = draws.uniform((batch, 1, 1), 1, *self.high_hz) / self.sample_rate

        def response(frequency):
            safe = ops.where(frequency > 0, frequency, 1.0)
            high_pass = 1.0 / (1.0 + ops.power(low / safe, 2 * ORDER))
            low_pass = 1.0 / (1.0 + ops.power(frequency / high, 2 * ORDER))
            return ops.where(frequency > 0, ops.sqrt(high_pass * low_pass), 0.0)

        return F.fft_filter(waves, response)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"sample_rate": self.sample_rate, "low_hz": self.low_hz, "high_hz": self.high_hz}
        )
        return config
