"""The `Spectrogram` layer: STFT magnitude or power, optionally in decibels."""

import keras

from audiofront import functional as F
from audiofront.layers._base import SpectralBase


@keras.saving.register_keras_serializable(package="audiofront")
class Spectrogram(SpectralBase):
    """Magnitude or power spectrogram, optionally in decibels, equal to librosa's.

    ``abs(librosa.stft(y, ...)) ** power``, transposed to ``(frames, bins)``; with
    ``decibel=True``, then ``librosa.power_to_db`` (``power=2``) or
    ``librosa.amplitude_to_db`` (``power=1``) with ``ref``, ``amin`` and ``top_db``,
    per example. The STFT is a strided convolution whose ``kernel`` weight is
    trained when ``trainable_kernel=True`` (see `STFT`).

    Args:
        n_fft, hop_length, win_length, window, center, pad_mode: as `STFT`.
        power: exponent of the magnitude; 1.0 magnitude, 2.0 power.
        decibel: convert to dB (``power`` must then be 1.0 or 2.0).
        ref, amin, top_db: as `Decibel`.
        trainable_kernel: train the DFT kernel.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        implementation: ``"conv"`` (the strided convolution with the ``kernel`` weight),
            ``"fft"`` (``keras.ops.stft`` or framing + ``ops.rfft``: the exact DFT, frozen kernels
            only), ``"blocked"`` (the same FFT one cache-sized block of frames at a time,
            carried to the features before the next: for long signals and large batches;
            frozen kernels only) or ``"auto"``: the conv when the kernel is trainable, else
            the path measured faster on this backend and device for the input's size
            (`audiofront.dispatch`). All meet the same numeric bounds.
        stateful: as `STFT`; with ``decibel=True`` it needs ``top_db=None`` and a number
            ``ref`` (the others are statistics of the whole signal).
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        ``(batch, samples)``, ``(batch, samples, channels)`` (channels_last) or
        ``(batch, channels, samples)`` (channels_first).

    Output shape:
        channels_last ``(batch, frames, n_fft // 2 + 1, channels)``,
        channels_first ``(batch, channels, frames, n_fft // 2 + 1)``.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((2, 8000)).astype("float32")
    >>> tuple(Spectrogram(n_fft=256, hop_length=64, decibel=True)(x).shape)
    (2, 126, 129, 1)
    """

    def __init__(
        self,
        n_fft=2048,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
        pad_mode="constant",
        power=2.0,
        decibel=False,
        ref=1.0,
        amin=None,
        top_db=80.0,
        trainable_kernel=False,
        data_format=None,
        implementation="auto",
        **kwargs,
    ):
        super().__init__(
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            pad_mode=pad_mode,
            power=power,
            decibel=decibel,
            ref=ref,
            amin=amin,
            top_db=top_db,
            trainable_kernel=trainable_kernel,
            data_format=data_format,
            implementation=implementation,
            **kwargs,
        )

    @property
    def _output_bins(self):
        return self.n_fft // 2 + 1

    def _spectral(self, real, imag):
        return F.magnitude_to_power(real, imag, self.power)
