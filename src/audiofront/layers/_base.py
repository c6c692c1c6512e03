"""What the STFT-based layers share: argument checks, the kernel weight, layout.

Private: users see `STFT`, `Spectrogram` and `MelSpectrogram`, which subclass
`STFTBase` and only say what to do with the real and imaginary parts.
"""

import numbers

import keras
import numpy as np
from keras import ops

from audiofront import filters
from audiofront import ops as af_ops

PAD_MODES = ("constant", "reflect")
IMPLEMENTATIONS = ("auto", "conv", "fft")
DATA_FORMATS = ("channels_last", "channels_first")


def check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"`{name}` must be one of {choices}. Received: {name}={value!r}")
    return value


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)


def standardize_data_format(data_format):
    if data_format is None:
        return keras.config.image_data_format()
    return check_choice("data_format", data_format, DATA_FORMATS)


def check_float_input(inputs):
    """Raises a `TypeError` unless ``inputs`` holds floating-point numbers."""
    dtype = keras.backend.standardize_dtype(inputs.dtype)
    if not keras.backend.is_float_dtype(dtype):
        raise TypeError(
            "`inputs` must be a floating-point tensor (float16, bfloat16, float32 or "
            f"float64). Received: inputs with dtype {dtype}"
        )


def fastest_frozen_path():
    """The faster of "conv" and "fft" for a frozen kernel on this backend and device,
    from the measurements recorded in `audiofront._measured`."""
    from audiofront import _measured

    # Where a new tensor lands (torch: "cuda:0", TensorFlow: ".../device:GPU:0",
    # JAX: "cuda:0"); asked once, when the layer is built.
    where = str(getattr(ops.convert_to_tensor(0.0), "device", "")).lower()
    device = "gpu" if ("gpu" in where or "cuda" in where) else "cpu"
    return _measured.FASTER_FROZEN_PATH.get((keras.backend.backend(), device), _measured.UNMEASURED)


def math_dtype(compute_dtype):
    """Front-end arithmetic runs in float32, or float64 when the layer asks for it."""
    return "float64" if compute_dtype == "float64" else "float32"


class STFTBase(keras.layers.Layer):
    """A strided 1-D convolution with windowed DFT kernels, over any waveform layout.

    Subclasses set ``_kernel_trainable`` and implement ``_spectral(real, imag)``
    (``(N, frames, bins)`` each, to ``(N, frames, features)`` or a tuple of such),
    ``_output_bins`` and optionally ``_finish(features)`` on the 4-D result.
    """

    _kernel_trainable = True

    def __init__(
        self,
        n_fft=2048,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
        pad_mode="constant",
        data_format=None,
        implementation="auto",
        **kwargs,
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.implementation = check_choice("implementation", implementation, IMPLEMENTATIONS)
        n_fft = check_positive_int("n_fft", n_fft)
        if win_length is not None:
            win_length = check_positive_int("win_length", win_length)
            if win_length > n_fft:
                raise ValueError(
                    "`win_length` must be at most `n_fft`. "
                    f"Received: win_length={win_length}, n_fft={n_fft}"
                )
        if hop_length is not None:
            hop_length = check_positive_int("hop_length", hop_length)
        self._win_length = n_fft if win_length is None else win_length
        self._hop_length = self._win_length // 4 if hop_length is None else hop_length
        if self._hop_length < 1:
            raise ValueError(
                "`hop_length` must be a positive integer; its default win_length // 4 "
                f"is 0 for win_length={self._win_length}. Pass hop_length explicitly."
            )
        if not isinstance(window, str) and np.ndim(window) == 1:
            # Keep configs JSON-friendly: an array window is stored as a list.
            window = [float(v) for v in np.asarray(window, dtype=np.float64)]
        filters.get_window(window, self._win_length)  # raises on a bad window
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = check_bool("center", center)
        self.pad_mode = check_choice("pad_mode", pad_mode, PAD_MODES)
        self.data_format = standardize_data_format(data_format)
        # Numerics stay in float32 whatever the global policy; see `math_dtype`.
        self.autocast = False

    # -- shapes ---------------------------------------------------------------

    def _samples_axis(self, rank):
        return 2 if (rank == 3 and self.data_format == "channels_first") else 1

    def _check_input_shape(self, shape):
        rank = len(shape)
        if rank not in (2, 3):
            raise ValueError(
                "`inputs` must be 2-D (batch, samples) or 3-D (batch, samples, channels) "
                "/ (batch, channels, samples) per `data_format`. "
                f"Received: inputs with shape {tuple(shape)}"
            )
        samples = shape[self._samples_axis(rank)]
        if samples is None:
            return
        if not self.center and samples < self.n_fft:
            raise ValueError(
                f"With center=False the input needs at least n_fft={self.n_fft} samples. "
                f"Received: inputs with {samples} samples (shape {tuple(shape)})"
            )
        if self.center and self.pad_mode == "reflect" and samples <= self.n_fft // 2:
            raise ValueError(
                f"pad_mode='reflect' needs more than n_fft // 2 = {self.n_fft // 2} samples. "
                f"Received: inputs with {samples} samples (shape {tuple(shape)}); "
                "use pad_mode='constant' for such short inputs"
            )

    def _num_frames(self, samples):
        if samples is None:
            return None
        if self.center:
            samples = samples + 2 * (self.n_fft // 2)
        return 1 + (samples - self.n_fft) // self._hop_length

    def _layout(self, frames, bins, input_shape):
        channels = (
            1
            if len(input_shape) == 2
            else input_shape[1 if self.data_format == "channels_first" else 2]
        )
        if self.data_format == "channels_last":
            return (input_shape[0], frames, bins, channels)
        return (input_shape[0], channels, frames, bins)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        frames = self._num_frames(input_shape[self._samples_axis(len(input_shape))])
        return self._layout(frames, self._output_bins, input_shape)

    # -- weights --------------------------------------------------------------

    def _dft_kernel_initializer(self, shape, dtype=None):
        kernels = filters.dft_kernels(self.n_fft, self._win_length, self.window)
        return ops.convert_to_tensor(kernels[:, None, :], dtype=dtype)

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        if len(input_shape) == 3:
            channels = input_shape[1 if self.data_format == "channels_first" else 2]
            if channels is None:
                raise ValueError(
                    "The channel axis of `inputs` must be known. "
                    f"Received: inputs with shape {tuple(input_shape)}"
                )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.n_fft, 1, 2 * (self.n_fft // 2 + 1)),
            initializer=self._dft_kernel_initializer,
            trainable=self._kernel_trainable,
        )
        self._path = self._resolve_implementation()

    def _resolve_implementation(self):
        """``"conv"`` or ``"fft"``, fixed when the layer is built (see `implementation`)."""
        trainable = self._kernel_trainable and self.trainable
        if self.implementation == "fft" and trainable:
            raise ValueError(
                "`implementation` 'fft' needs a frozen kernel: it computes the exact DFT and "
                "ignores the kernel weight. Received: implementation='fft' with a trainable "
                "kernel; use 'conv' or 'auto'"
            )
        if self.implementation != "auto":
            return self.implementation
        return "conv" if trainable else fastest_frozen_path()

    # -- computation ----------------------------------------------------------

    def _finish(self, features):
        return features

    def call(self, inputs):
        check_float_input(inputs)
        self._check_input_shape(inputs.shape)
        rank = len(inputs.shape)
        channels = (
            1 if rank == 2 else inputs.shape[1 if self.data_format == "channels_first" else 2]
        )
        dtype = math_dtype(self.compute_dtype)
        signals = af_ops.fold_channels(ops.cast(inputs, dtype), self.data_format)
        if self.center:
            signals = af_ops.center_pad(signals, self.n_fft // 2, self.pad_mode)
        kernel = ops.cast(self.kernel, dtype)
        if self._path == "fft":
            # The DC cosine column of the exact DFT kernel is the (zero-padded) window.
            real, imag = af_ops.fft_stft(signals, kernel[:, 0, 0], self._hop_length)
        else:
            real, imag = af_ops.conv_stft(signals, kernel, self._hop_length)
        features = self._spectral(real, imag)

        def finish(x):
            x = af_ops.unfold_channels(x, rank, channels, self.data_format)
            return ops.cast(self._finish(x), self.compute_dtype)

        if isinstance(features, tuple):
            return tuple(finish(x) for x in features)
        return finish(features)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "n_fft": self.n_fft,
                "hop_length": self.hop_length,
                "win_length": self.win_length,
                "window": self.window,
                "center": self.center,
                "pad_mode": self.pad_mode,
                "data_format": self.data_format,
                "implementation": self.implementation,
            }
        )
        return config
