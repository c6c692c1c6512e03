"""The `MFCC` layer: mel spectrogram in dB, then a (liftered) DCT along the mel bands."""

import keras
from keras import ops

from audiofront import functional as F
from audiofront.initializers import DCTMatrix
from audiofront.layers._base import decibel
from audiofront.layers.mel_spectrogram import MelSpectrogram


@keras.saving.register_keras_serializable(package="audiofront")
class MFCC(MelSpectrogram):
    """Mel-frequency cepstral coefficients, equal to ``librosa.feature.mfcc``.

    `MelSpectrogram` with ``power``, then ``librosa.power_to_db`` with ``ref``, ``amin`` and
    ``top_db`` (statistics per example), then the DCT of ``dct_type`` with ``dct_norm``
    along the mel axis, its first ``n_mfcc`` coefficients, and librosa's liftering: one
    matmul with a third weight, ``dct`` of shape ``(n_mels, n_mfcc)`` (never trained; the
    lifter is folded into its columns). ``kernel`` and ``filterbank`` train as in
    `MelSpectrogram`.

    Args:
        sample_rate: sampling rate of the input in Hz.
        n_mfcc: coefficients kept, at most ``n_mels``.
        dct_type: 1, 2 or 3 (``scipy.fftpack.dct``'s types).
        dct_norm: ``"ortho"`` or None.
        lifter: 0 for none, else ``L > 0``: coefficient ``k`` times
            ``1 + (L / 2) * sin(pi * (k + 1) / L)``.
        n_fft, hop_length, win_length, window, center, pad_mode: as `STFT`.
        power, n_mels, fmin, fmax, htk, norm: as `MelSpectrogram`.
        ref, amin, top_db: as ``librosa.power_to_db`` (10 log10 whatever ``power``).
        trainable_kernel, trainable_filterbank: as `MelSpectrogram`.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        implementation: as `STFT`.
        stateful: as `STFT`; it needs ``top_db=None`` and a number ``ref``.
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        ``(batch, samples)``, ``(batch, samples, channels)`` (channels_last) or
        ``(batch, channels, samples)`` (channels_first).

    Output shape:
        channels_last ``(batch, frames, n_mfcc, channels)``, channels_first
        ``(batch, channels, frames, n_mfcc)``.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((2, 8000)).astype("float32")
    >>> tuple(MFCC(sample_rate=8000, n_mfcc=13, n_fft=256, n_mels=40)(x).shape)
    (2, 126, 13, 1)
    """

    _always_decibel = True

    def __init__(
        self,
        sample_rate=22050,
        n_mfcc=20,
        dct_type=2,
        dct_norm="ortho",
        lifter=0.0,
        n_fft=2048,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
        pad_mode="constant",
        power=2.0,
        n_mels=128,
        fmin=0.0,
        fmax=None,
        htk=False,
        norm="slaney",
        ref=1.0,
        amin=1e-10,
        top_db=80.0,
        trainable_kernel=False,
        trainable_filterbank=False,
        data_format=None,
        implementation="auto",
        **kwargs,
    ):
        super().__init__(
            sample_rate=sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            pad_mode=pad_mode,
            power=power,
            n_mels=n_mels,
            fmin=fmin,
            fmax=fmax,
            htk=htk,
            norm=norm,
            ref=ref,
            amin=amin,
            top_db=top_db,
            trainable_kernel=trainable_kernel,
            trainable_filterbank=trainable_filterbank,
            data_format=data_format,
            implementation=implementation,
            **kwargs,
        )
        # Raises on bad arguments (n_mfcc > n_mels, dct_type, dct_norm, lifter < 0), now.
        self._dct_initializer = DCTMatrix(self.n_mels, n_mfcc, dct_type, dct_norm, lifter)
        self.n_mfcc = n_mfcc
        self.dct_type = dct_type
        self.dct_norm = dct_norm
        self.lifter = lifter

    @property
    def _output_bins(self):
        return self.n_mfcc

    def build(self, input_shape):
        super().build(input_shape)
        self.dct = self.add_weight(
            name="dct",
            shape=(self.n_mels, self.n_mfcc),
            initializer=self._dct_initializer,
            trainable=False,
        )

    def _finish(self, features):
        db = decibel(features, "power", self.ref, self.amin, self.top_db)
        axis = 2 if self.data_format == "channels_last" else 3
        return F.apply_filterbank(db, ops.cast(self.dct, db.dtype), axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["decibel"]
        config.update(
            {
                "n_mfcc": self.n_mfcc,
                "dct_type": self.dct_type,
                "dct_norm": self.dct_norm,
                "lifter": self.lifter,
            }
        )
        return config
