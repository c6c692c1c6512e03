"""The `Filterbank` layer: linear-frequency bins to mel, linear, log or learned bands."""

import keras
from keras import ops

from audiofront import filters
from audiofront import ops as af_ops
from audiofront.layers._base import (
    check_bool,
    check_float_input,
    check_positive_int,
    math_dtype,
    standardize_data_format,
)


def filterbank_initializer(**kwargs):
    """A Keras initializer (a callable) giving ``filters.filterbank(**kwargs).T``."""

    def initializer(shape, dtype=None):
        return ops.convert_to_tensor(filters.filterbank(**kwargs).T, dtype=dtype)

    return initializer


@keras.saving.register_keras_serializable(package="audiofront")
class Filterbank(keras.layers.Layer):
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
        kwargs.setdefault("dtype", "float32")
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
        self.autocast = False
        self._recipe = dict(
            kind=kind,
            sample_rate=sample_rate,
            n_fft=n_fft,
            n_filters=n_filters,
            fmin=fmin,
            fmax=fmax,
            htk=htk,
            norm=norm,
            seed=seed,
        )
        filters.filterbank(**self._recipe)  # raises on bad arguments, here and now

    @property
    def _bins_axis(self):
        return 2 if self.data_format == "channels_last" else 3

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "`inputs` must be a 4-D spectrogram, (batch, frames, bins, channels) "
                "or (batch, channels, frames, bins) per `data_format`. "
                f"Received: inputs with shape {tuple(input_shape)}"
            )
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
            initializer=filterbank_initializer(**self._recipe),
            constraint=keras.constraints.NonNeg(),
        )

    def call(self, inputs):
        check_float_input(inputs)
        dtype = math_dtype(self.compute_dtype)
        x = ops.cast(inputs, dtype)
        weights = ops.cast(self.filterbank, dtype)
        if self.data_format == "channels_last":
            x = ops.transpose(x, (0, 1, 3, 2))
        x = af_ops.apply_filterbank(x, weights)
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
