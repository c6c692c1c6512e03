"""The `STFT` layer: a short-time Fourier transform as one strided convolution."""

import keras

from audiofront import functional as F
from audiofront.layers._base import STFTBase
from audiofront.validation import check_choice

MODES = ("magnitude", "power", "complex")


@keras.saving.register_keras_serializable(package="audiofront")
class STFT(STFTBase):
    """Short-time Fourier transform of waveforms, equal to ``librosa.stft``.

    Frames are cut and transformed by one strided 1-D convolution whose weight,
    ``kernel`` of shape ``(n_fft, 1, 2 * bins)``, holds the windowed DFT: cosine
    kernels then sine kernels, ``bins = n_fft // 2 + 1``. With ``trainable=True``
    the kernel is trained, starting from the exact DFT.

    Args:
        n_fft: frame length and DFT size.
        hop_length: samples between frames; defaults to ``win_length // 4``.
        win_length: window length, at most ``n_fft``, centred in the frame;
            defaults to ``n_fft``.
        window: ``"hann"``, ``"hamming"``, ``"blackman"``, ``"rectangular"`` (all
            periodic) or a 1-D array of length ``win_length``.
        center: pad ``n_fft // 2`` samples on both sides so frame ``t`` is centred
            at ``t * hop_length`` (librosa's default).
        pad_mode: ``"constant"`` (zeros) or ``"reflect"``, used when ``center``.
        mode: ``"magnitude"`` ``|X|``, ``"power"`` ``|X|**2`` or ``"complex"``: a
            tuple ``(real, imag)`` with librosa's sign convention.
        trainable: whether the DFT kernel is trained (Keras's ``trainable``).
        data_format: ``"channels_last"`` or ``"channels_first"``; defaults to
            ``keras.config.image_data_format()``.
        implementation: ``"conv"`` (the strided convolution with the ``kernel`` weight),
            ``"fft"`` (``keras.ops.stft`` or framing + ``ops.rfft``: the exact DFT, frozen kernels
            only), ``"blocked"`` (the same FFT one cache-sized block of frames at a time,
            carried to the features before the next: for long signals and large batches;
            frozen kernels only) or ``"auto"``: the conv when the kernel is trainable, else
            the path measured faster on this backend and device for the input's size
            (`audiofront.dispatch`). All meet the same numeric bounds.
        stateful: streaming: keep the last ``n_fft - hop_length`` samples of each call
            (zeros at first) in front of the next, so a chunk of ``k * hop_length`` samples
            gives exactly ``k`` frames and consecutive chunks give the frames of the whole
            stream with ``n_fft - hop_length`` zeros in front. Needs ``center=False`` and a
            fixed batch size; `reset_state` starts over.
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        ``(batch, samples)``; ``(batch, samples, channels)`` with channels_last;
        ``(batch, channels, samples)`` with channels_first. ``samples`` may be None.

    Output shape:
        channels_last ``(batch, frames, bins, channels)``, channels_first
        ``(batch, channels, frames, bins)`` (``channels = 1`` for 2-D input), with
        ``frames = 1 + samples // hop_length`` when centred (even ``n_fft``) and
        ``1 + (samples - n_fft) // hop_length`` otherwise. A tuple of two such
        tensors for ``mode="complex"``.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((2, 16000)).astype("float32")
    >>> tuple(STFT(n_fft=512, hop_length=128)(x).shape)
    (2, 126, 257, 1)
    """

    def __init__(
        self,
        n_fft=2048,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
        pad_mode="constant",
        mode="magnitude",
        trainable=False,
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
            data_format=data_format,
            implementation=implementation,
            trainable=trainable,
            **kwargs,
        )
        self.mode = check_choice("mode", mode, MODES)

    @property
    def _output_bins(self):
        return self.n_fft // 2 + 1

    def _spectral(self, real, imag):
        if self.mode == "complex":
            return real, imag
        return F.magnitude_to_power(real, imag, 2.0 if self.mode == "power" else 1.0)

    def compute_output_shape(self, input_shape):
        shape = super().compute_output_shape(input_shape)
        return (shape, shape) if self.mode == "complex" else shape

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config
