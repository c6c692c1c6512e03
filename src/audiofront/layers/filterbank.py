"""The `Filterbank` layer: linear-frequency bins to mel, linear, log or learned bands."""

import keras
from keras import ops

from audiofront import functional as F
from audiofront.initializers import FilterbankMatrix
from audiofront.layers._base import (
    FrontEndLayer,
    check_spectrogram_shape,
    standardize_data_format,
)
from audiofront.validation import check_bool, check_positive_int


@keras.saving.register_keras_serializable(package="audiofront")
class Filterbank(FrontEndLayer):
    """Maps the frequency bins of a spectrogram to ``n_filters`` bands.

    One weight, ``filterbank`` of shape ``(n_fft // 2 + 1, n_filters)``, multiplies
    the bins axis. ``kind="mel"`` equals ``librosa.filters.mel(...).T``. A trainable
    filterbank is kept non-negative by a ``keras.constraints.NonNeg`` constraint, so
    band energies and their decibels stay finite and meaningful during training.

    Args:
        kind: ``"mel"``, ``"linear"`` (triangles evenly spaced in Hz), ``"log"``
            (evenly spaced in log-frequency; ``fmin=0`` starts at the first non-zero
            bin) or ``"random"`` (non-negative uniform, from ``seed``).
        n_filters: number of bands.
        sample_rate: sampling rate of the analysed audio, in Hz.
        n_fft: DFT size of the input spectrogram (``bins = n_fft // 2 + 1``).
        fmin: lowest frequency in Hz.
        fmax: highest frequency in Hz, at most ``sample_rate / 2`` (the default).
        htk: HTK's mel formula instead of Slaney's (``kind="mel"`` only).
        norm: ``"slaney"`` (constant area), ``None`` or a number ``p`` (unit p-norm).
        trainable: whether the filterbank is trained (Keras's ``trainable``).
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to
            ``keras.config.image_data_format()``.
        seed: integer seed for ``kind="random"``.
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        channels_last ``(batch, frames, bins, channels)``, channels_first
        ``(batch, channels, frames, bins)``.

    Output shape:
        The same with ``bins`` replaced by ``n_filters``.

    Example:

    >>> import numpy as np
    >>> power = np.ones((1, 10, 257, 1), dtype="float32")
    >>> tuple(Filterbank(n_filters=40, sample_rate=16000, n_fft=512)(power).shape)
    (1, 10, 40, 1)
    """

    def __init__(
        self,
        kind="mel",
        n_filters=128,
        sample_rate=22050,
        n_fft=2048,
        fmin=0.0,
        fmax=None,
        htk=False,
        norm="slaney",
        trainable=False,
        data_format=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(trainable=trainable, **kwargs)
        self.kind = kind
        self.n_filters = check_positive_int("n_filters", n_filters)
        self.sample_rate = sample_rate
        self.n_fft = check_positive_int("n_fft", n_fft)
        self.fmin = fmin
        self.fmax = fmax
        self.htk = check_bool("htk", htk)
        self.norm = norm
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        # Raises on bad arguments, here and now.
        self._initializer = FilterbankMatrix(
            kind,
            sample_rate=sample_rate,
            n_fft=n_fft,
            n_filters=n_filters,
            fmin=fmin,
            fmax=fmax,
            htk=htk,
            norm=norm,
            seed=seed,
        )

    @property
    def _bins_axis(self):
        return 2 if self.data_format == "channels_last" else 3

    def build(self, input_shape):
        check_spectrogram_shape(input_shape)
        bins = input_shape[self._bins_axis]
        if bins is not None and bins != self.n_fft // 2 + 1:
            raise ValueError(
                f"`inputs` must have n_fft // 2 + 1 = {self.n_fft // 2 + 1} frequency bins "
                f"(axis {self._bins_axis}) for n_fft={self.n_fft}. "
                f"Received: inputs with shape {tuple(input_shape)}"
            )
        self.filterbank = self.add_weight(
            name="filterbank",
            shape=(self.n_fft // 2 + 1, self.n_filters),
            initializer=self._initializer,
            constraint=keras.constraints.NonNeg(),
        )

    def call(self, inputs):
        x = self.cast_input(inputs)
        weights = ops.cast(self.filterbank, self.math_dtype)
        if self.data_format == "channels_last":
            x = ops.transpose(x, (0, 1, 3, 2))
        x = F.apply_filterbank(x, weights)
        if self.data_format == "channels_last":
            x = ops.transpose(x, (0, 1, 3, 2))
        return ops.cast(x, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[self._bins_axis] = self.n_filters
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kind": self.kind,
                "n_filters": self.n_filters,
                "sample_rate": self.sample_rate,
                "n_fft": self.n_fft,
                "fmin": self.fmin,
                "fmax": self.fmax,
                "htk": self.htk,
                "norm": self.norm,
                "data_format": self.data_format,
                "seed": self.seed,
            }
        )
        return config
