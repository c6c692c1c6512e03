"""The `Spectrogram` layer: STFT magnitude or power, optionally in decibels."""

import numbers

import keras

from audiofront import ops as af_ops
from audiofront.layers._base import STFTBase, check_bool
from audiofront.layers.decibel import check_decibel_args, decibel


def check_power(power, decibel_on):
    if isinstance(power, bool) or not isinstance(power, numbers.Real) or power <= 0:
        raise ValueError(f"`power` must be a positive number. Received: power={power!r}")
    if decibel_on and power not in (1.0, 2.0):
        raise ValueError(
            "`power` must be 1.0 (magnitude) or 2.0 (power) when decibel=True. "
            f"Received: power={power!r}"
        )
    return float(power)


class SpectralBase(STFTBase):
    """`STFTBase` plus ``power``, the optional dB stage and ``trainable_kernel``."""

    def __init__(
        self,
        power=2.0,
        decibel=False,
        ref=1.0,
        amin=None,
        top_db=80.0,
        trainable_kernel=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.decibel = check_bool("decibel", decibel)
        self.power = check_power(power, self.decibel)
        check_decibel_args(ref, amin, top_db)
        self.ref = ref
        self.amin = amin
        self.top_db = top_db
        self.trainable_kernel = check_bool("trainable_kernel", trainable_kernel)
        self._kernel_trainable = self.trainable_kernel

    def _finish(self, features):
        if not self.decibel:
            return features
        scale = "power" if self.power == 2.0 else "magnitude"
        return decibel(features, scale, self.ref, self.amin, self.top_db)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "power": self.power,
                "decibel": self.decibel,
                "ref": self.ref,
                "amin": self.amin,
                "top_db": self.top_db,
                "trainable_kernel": self.trainable_kernel,
            }
        )
        return config


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
            only) or ``"auto"``: the conv when the kernel is trainable, else the path
            measured faster on this backend and device (`audiofront._measured`). Both
            meet the same numeric bounds.
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
        return af_ops.magnitude_to_power(real, imag, self.power)
