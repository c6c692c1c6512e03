"""The `CQT` layer: a constant-Q magnitude transform as one strided convolution."""

import keras
from keras import ops

from audiofront import filters
from audiofront import functional as F
from audiofront.initializers import CQTKernel
from audiofront.layers._base import PAD_MODES, WaveformLayer
from audiofront.validation import check_bool, check_choice, check_number, check_positive_int


@keras.saving.register_keras_serializable(package="audiofront")
class CQT(WaveformLayer):
    """Constant-Q transform magnitude of waveforms, with librosa's filter design.

    Bin ``k`` correlates the signal, around each frame's centre ``t * hop_length``, with
    librosa's wavelet at ``fmin * 2 ** (k / bins_per_octave)`` (a ``window`` of length
    ``L_k = Q * sample_rate / f_k`` times a complex exponential, normalised by ``norm``)
    and scales it by ``1 / sqrt(L_k)`` as ``librosa.cqt(scale=True)``. One strided
    convolution with the weight ``kernel``, ``(length, 1, 2 * n_bins)`` (real parts, then
    imaginary parts), computes every bin at the full sample rate; librosa instead filters
    each lower octave on a signal downsampled by two, which is where the two differ (under
    1% of the norm on speech; see the README's CQT table).

    Args:
        sample_rate: sampling rate of the input in Hz.
        hop_length: samples between frames.
        fmin: centre frequency of the lowest bin in Hz; defaults to C1 (32.70 Hz).
        n_bins: number of bins; the top filter must stay below Nyquist.
        bins_per_octave: bins per octave.
        filter_scale: filter length factor (librosa's ``filter_scale``).
        norm: 1 (librosa's default) or 2 normalises each wavelet by that norm; None not.
            With 2 or None, librosa's octave-wise computation scales lower octaves down
            (see `audiofront.filters.cqt_kernels`); the kernels do the same.
        window: the wavelets' window: ``"hann"``, ``"hamming"``, ``"blackman"`` or
            ``"rectangular"`` (each wavelet takes it at its own length).
        scale: divide bin ``k`` by ``sqrt(L_k)`` (librosa's default); else multiply the
            unnormalised response by ``L_k`` as librosa does with ``scale=False``.
        pad_mode: ``"constant"`` (zeros, librosa's default) or ``"reflect"``: how the
            signal is extended by ``kernel_length // 2`` samples at both ends (librosa
            reflects each octave's downsampled signal instead: the edge frames differ).
        trainable: whether the kernel is trained (Keras's ``trainable``), starting from
            the exact wavelets.
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to
            ``keras.config.image_data_format()``.
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        ``(batch, samples)``; ``(batch, samples, channels)`` with channels_last;
        ``(batch, channels, samples)`` with channels_first. ``samples`` may be None.

    Output shape:
        channels_last ``(batch, frames, n_bins, channels)``, channels_first
        ``(batch, channels, frames, n_bins)``, ``frames = 1 + samples // hop_length``.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((2, 8000)).astype("float32")
    >>> layer = CQT(sample_rate=8000, hop_length=64, fmin=55.0, n_bins=60)
    >>> tuple(layer(x).shape)
    (2, 126, 60, 1)
    """

    def __init__(
        self,
        sample_rate=22050,
        hop_length=512,
        fmin=None,
        n_bins=84,
        bins_per_octave=12,
        filter_scale=1.0,
        norm=1,
        window="hann",
        scale=True,
        pad_mode="constant",
        trainable=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, trainable=trainable, **kwargs)
        self.sample_rate = check_number("sample_rate", sample_rate, minimum=0.0, strict=True)
        self.hop_length = check_positive_int("hop_length", hop_length)
        self.fmin = None if fmin is None else check_number("fmin", fmin, minimum=0, strict=True)
        self.n_bins = check_positive_int("n_bins", n_bins)
        self.bins_per_octave = check_positive_int("bins_per_octave", bins_per_octave)
        self.filter_scale = filter_scale
        self.norm = norm
        # A name: each wavelet takes the window at its own length.
        self.window = check_choice("window", window, filters.WINDOWS)
        self.scale = check_bool("scale", scale)
        self.pad_mode = check_choice("pad_mode", pad_mode, PAD_MODES)
        self._recipe = dict(
            sample_rate=self.sample_rate,
            fmin=filters.C1_HZ if fmin is None else self.fmin,
            n_bins=self.n_bins,
            bins_per_octave=self.bins_per_octave,
            filter_scale=filter_scale,
            norm=norm,
            window=window,
            scale=self.scale,
            hop_length=self.hop_length,
        )
        # Bad arguments (past Nyquist, a bad norm or window) raise here, not in build.
        filters.check_cqt_norm(norm)
        self._length = filters.cqt_lengths(
            self.sample_rate, self._recipe["fmin"], n_bins, bins_per_octave, filter_scale, window
        )[1]

    @property
    def kernel_length(self):
        """Samples per kernel: the longest wavelet, rounded up to even."""
        return self._length

    @property
    def _output_bins(self):
        return self.n_bins

    def _num_frames(self, samples):
        return 1 + samples // self.hop_length

    def _check_samples(self, samples, shape):
        half = self._length // 2
        if self.pad_mode == "reflect" and samples <= half:
            raise ValueError(
                f"pad_mode='reflect' needs more than {half} samples (half the longest "
                f"wavelet). Received: inputs with {samples} samples (shape {tuple(shape)}); "
                "use pad_mode='constant' for such short inputs"
            )

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self._length, 1, 2 * self.n_bins),
            initializer=CQTKernel(**self._recipe),
        )

    def _transform(self, signals):
        signals = F.center_pad(signals, self._length // 2, self.pad_mode)
        real, imag = F.conv_stft(signals, ops.cast(self.kernel, self.math_dtype), self.hop_length)
        return F.magnitude_to_power(real, imag, power=1.0)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sample_rate": self.sample_rate,
                "hop_length": self.hop_length,
                "fmin": self.fmin,
                "n_bins": self.n_bins,
                "bins_per_octave": self.bins_per_octave,
                "filter_scale": self.filter_scale,
                "norm": self.norm,
                "window": self.window,
                "scale": self.scale,
                "pad_mode": self.pad_mode,
            }
        )
        return config
