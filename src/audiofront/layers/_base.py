"""What the layers share: float32 arithmetic, input checks, and the STFT machinery.

Private: users see the layers. `FrontEndLayer` is the base of every audiofront layer;
`WaveformLayer` of those that turn waveforms into features per frame (``CQT``, ``LEAF``,
``SincConv`` and the STFT family: the waveform layouts); `STFTBase` (``STFT``) and
`SpectralBase` (``Spectrogram``, ``MelSpectrogram``) add the kernel weight and the optional
dB stage, so that a subclass only says what to do with the real and imaginary parts.
"""

import sys

import keras
import numpy as np
from keras import ops

from audiofront import dispatch, filters, random, streaming
from audiofront import functional as F
from audiofront.initializers import DFTKernel
from audiofront.validation import (
    check_bool,
    check_choice,
    check_number,
    check_positive_int,
    check_seed,
    is_number,
)

PAD_MODES = ("constant", "reflect")
IMPLEMENTATIONS = ("auto", "conv", "fft", "blocked")
DATA_FORMATS = ("channels_last", "channels_first")
SCALES = ("power", "magnitude")
_DEFAULT_AMIN = {"power": 1e-10, "magnitude": 1e-5}
_MULTIPLIER = {"power": 10.0, "magnitude": 20.0}


def standardize_data_format(data_format):
    """``data_format``, or Keras's ``image_data_format()`` when it is None."""
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


# Modules whose frames on the stack mean that a call is being traced into an artifact, and
# those of the formats that freeze weights into constants (a SavedModel keeps variables).
_EXPORTERS = ("keras.src.export", "tf2onnx", "jax2onnx", "torch.onnx", "tensorflow.lite")
_FREEZING = ("keras.src.export.onnx", "keras.src.export.litert", *_EXPORTERS[1:], "litert_torch")
_TF_LAYER = "keras.src.backend.tensorflow.layer"


def exporting(freezing=False):
    """Whether the layer is being traced into an exported artifact (Keras's
    ``model.export``, tf2onnx, jax2onnx, ``torch.onnx``/``torch.export``, the TFLite
    converter): layers then trace the ops every format converts (the matmul DFT, no complex
    numbers, no ``log1p``/``expm1``). With ``freezing``, only into a format that freezes
    weights into constants (ONNX, LiteRT). Read at trace time; under ``torch.compile`` only
    torch's own flag (walking the stack would break the graph)."""
    if keras.backend.backend() == "torch":
        torch = sys.modules["torch"]  # loaded by Keras's torch backend (no backend import here)
        if torch.compiler.is_compiling():
            return torch.compiler.is_exporting()
        if torch.onnx.is_in_onnx_export():
            return True
    marks = _FREEZING if freezing else _EXPORTERS
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if freezing and module == _TF_LAYER and frame.f_code.co_name.endswith("serving_default"):
            return False  # TensorFlow's per-layer save signature, not the artifact's function
        if module.startswith(marks):
            return True
        frame = frame.f_back
    return False


def check_stream_export(layer):
    """Raises where a stateful layer is traced into a format that would freeze its state
    (outside `audiofront.stateless_stream`, which makes the state an input and output)."""
    if not streaming.stepping() and exporting(freezing=True):
        raise ValueError(
            "A stateful layer exported to a format that freezes weights (ONNX, LiteRT) would "
            "lose its state: export audiofront.stateless_stream(model) instead, whose states "
            f"are inputs and outputs. Received: stateful=True on layer {layer.name!r}"
        )


def constant(array):
    """A numpy array as a layer keeps it for `call` (float64): a tensor made once under torch
    (numpy inside `call` breaks torch.compile's graph), the array itself elsewhere, so that
    a traced graph holds a constant, not a captured tensor (tf2onnx leaves those as missing
    inputs). `call` reads it through ``ops.cast``."""
    array = np.asarray(array, dtype=np.float64)  # cast to the compute dtype in `call`
    return ops.convert_to_tensor(array) if keras.backend.backend() == "torch" else array


def add_array_weight(layer, name, value, constraint=None):
    """A weight of ``layer`` starting at the numpy array ``value`` (its shape), trainable
    with the layer; the array is the layer's own recipe (rebuilt from its config), so the
    initializer is not serialised."""
    array = np.asarray(value, dtype=np.float64)
    return layer.add_weight(
        name=name,
        shape=array.shape,
        initializer=lambda shape, dtype=None: ops.cast(array, dtype),
        constraint=constraint,
    )


def add_stream_state(layer, name, shape, input_shape, initializer):
    """A stateful layer's state, a non-trainable weight of ``shape`` (per example, so the
    batch of ``input_shape`` must be known, its channels too), as Keras RNNs keep theirs."""
    if None in shape:
        raise ValueError(
            "`stateful=True` needs a fixed batch size (and channel count): the layer keeps "
            "its state per example, e.g. keras.Input(shape=..., batch_size=1). "
            f"Received: inputs with shape {tuple(input_shape)}"
        )
    state = layer.add_weight(name=name, shape=shape, initializer=initializer, trainable=False)
    state.stream_state = True  # what `audiofront.stateless_stream` makes an input and output
    return state


def check_waveform_rank(shape):
    """Raises unless ``shape`` is a waveform batch's: 2-D or 3-D."""
    if len(shape) not in (2, 3):
        raise ValueError(
            "`inputs` must be 2-D (batch, samples) or 3-D (batch, samples, channels) "
            "/ (batch, channels, samples) per `data_format`. "
            f"Received: inputs with shape {tuple(shape)}"
        )


def check_spectrogram_shape(shape):
    """Raises unless ``shape`` is 4-D, as the time-frequency layers take."""
    if len(shape) != 4:
        raise ValueError(
            "`inputs` must be a 4-D spectrogram, (batch, frames, bins, channels) or "
            "(batch, channels, frames, bins) per `data_format`. "
            f"Received: inputs with shape {tuple(shape)}"
        )


def check_decibel_args(ref, amin, top_db):
    """Validates the dB arguments shared by `Decibel` and the spectrogram layers."""
    if not (ref == "max" if isinstance(ref, str) else is_number(ref) and ref > 0):
        raise ValueError(f'`ref` must be a positive number or "max". Received: ref={ref!r}')
    check_number("amin", amin, minimum=0, strict=True, allow_none=True)
    check_number("top_db", top_db, minimum=0, allow_none=True)


def decibel(x, scale="power", ref=1.0, amin=None, top_db=80.0):
    """`audiofront.functional.to_decibel` with the scale's multiplier and default ``amin``."""
    return F.to_decibel(
        x,
        multiplier=_MULTIPLIER[scale],
        ref=ref,
        amin=_DEFAULT_AMIN[scale] if amin is None else amin,
        top_db=top_db,
    )


def resolve_framing(layer, n_fft, hop_length, win_length, window):
    """Checks the framing arguments and sets them on ``layer`` as given (``n_fft``,
    ``hop_length``, ``win_length``, ``window``, for the config) and resolved
    (``_hop_length``: ``win_length // 4`` by default; ``_win_length``: ``n_fft``)."""
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
    layer._win_length = n_fft if win_length is None else win_length
    layer._hop_length = layer._win_length // 4 if hop_length is None else hop_length
    if layer._hop_length < 1:
        raise ValueError(
            "`hop_length` must be a positive integer; its default win_length // 4 "
            f"is 0 for win_length={layer._win_length}. Pass hop_length explicitly."
        )
    if not isinstance(window, str) and np.ndim(window) == 1:
        # Keep configs JSON-friendly: an array window is stored as a list.
        window = [float(v) for v in np.asarray(window, dtype=np.float64)]
    filters.get_window(window, layer._win_length)  # raises on a bad window
    layer.n_fft = n_fft
    layer.hop_length = hop_length
    layer.win_length = win_length
    layer.window = window


class FrontEndLayer(keras.layers.Layer):
    """A Keras layer whose arithmetic runs in float32 (float64 when asked for) whatever the
    global dtype policy: ``dtype="float32"`` by default and no autocasting of inputs."""

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.autocast = False

    @property
    def math_dtype(self):
        """float32, or float64 when the layer's compute dtype is float64."""
        return "float64" if self.compute_dtype == "float64" else "float32"

    def cast_input(self, inputs):
        """Checks that ``inputs`` is floating point and casts it to `math_dtype`."""
        check_float_input(inputs)
        return ops.cast(inputs, self.math_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Draws:
    """The random draws of one training call of an `AugmentationLayer`: each ``stream`` (a
    small int, one per kind of draw in the layer) gives independent numbers."""

    def __init__(self, key, counter, dtype):
        self.key, self.counter, self.dtype = key, counter, dtype

    def uniform(self, shape, stream, minval=0.0, maxval=1.0):
        return random.uniform(shape, self.key, self.counter, stream, minval, maxval, self.dtype)

    def normal(self, shape, stream):
        return random.normal(shape, self.key, self.counter, stream, self.dtype)


class AugmentationLayer(FrontEndLayer):
    """A training-only layer with audiofront's own randomness (`audiofront.random`).

    The identity unless ``training=True``; then `_augment(x, draws)` runs (``x`` in float32,
    ``draws`` a `Draws`), and each example keeps its augmented version with probability
    ``probability`` (drawn per example). An int32 ``counter`` weight, one more after every
    training call, makes successive calls differ; with the same ``seed`` every backend draws
    the same numbers, and the layer traces without graph breaks (``torch.compile``
    included), so ``fit(jit_compile=True)`` works everywhere.
    """

    _PROBABILITY_STREAM = 99

    def __init__(self, probability=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        probability = check_number("probability", probability, minimum=0)
        if probability > 1:
            raise ValueError(
                f"`probability` must be between 0 and 1. Received: probability={probability!r}"
            )
        self.probability = probability
        self.seed = check_seed("seed", seed)
        self._key = random.seed_key(self.seed)

    def build(self, input_shape):
        self.counter = self.add_weight(
            name="counter", shape=(), dtype="int32", initializer="zeros", trainable=False
        )

    def call(self, inputs, training=False):
        check_float_input(inputs)
        if not training:
            return inputs
        # A copy: torch and TensorFlow would otherwise read the variable after the update.
        counter = ops.copy(self.counter)
        self.counter.assign(counter + 1)
        draws = Draws(self._key, counter, self.math_dtype)
        x = ops.cast(inputs, self.math_dtype)
        y = self._augment(x, draws)
        if self.probability < 1.0:
            per_example = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 1)
            chosen = draws.uniform(per_example, self._PROBABILITY_STREAM) < self.probability
            y = ops.where(chosen, y, x)
        return ops.cast(y, self.compute_dtype)

    def _augment(self, x, draws):
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config.update({"probability": self.probability, "seed": self.seed})
        return config


def check_bank(name, bank):
    """A bank of recordings: a non-empty 2-D ``(n, length)`` array of finite numbers as
    float32, or the ``{"shape": [n, length]}`` placeholder of a config (zeros until the
    layer's weights are loaded)."""
    if isinstance(bank, dict) and set(bank) == {"shape"}:
        return np.zeros(tuple(bank["shape"]), np.float32)
    array = np.asarray(bank, dtype=np.float32) if bank is not None else None
    if array is None or array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        shape = None if array is None else array.shape
        raise ValueError(
            f"`{name}` must be a non-empty 2-D array (n, length) of recordings. "
            f"Received: {name} with shape {shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must hold finite values.")
    return array


class WaveformAugmentation(AugmentationLayer):
    """An `AugmentationLayer` on waveforms, ``(batch, samples)``, ``(batch, samples,
    channels)`` (channels_last) or ``(batch, channels, samples)`` (channels_first):
    `_augment_waves` sees ``(batch, channels, samples)`` and draws once per example, shared
    by its channels."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)

    def build(self, input_shape):
        check_waveform_rank(input_shape)
        super().build(input_shape)

    def _augment(self, x, draws):
        rank = len(x.shape)
        if rank == 2:
            waves = ops.expand_dims(x, 1)
        elif self.data_format == "channels_last":
            waves = ops.transpose(x, (0, 2, 1))
        else:
            waves = x
        y = self._augment_waves(waves, draws)
        if rank == 2:
            return y[:, 0]
        return ops.transpose(y, (0, 2, 1)) if self.data_format == "channels_last" else y

    def _augment_waves(self, waves, draws):
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class WaveformLayer(FrontEndLayer):
    """A layer from waveforms, ``(batch, samples)``, ``(batch, samples, channels)``
    (channels_last) or ``(batch, channels, samples)`` (channels_first), to features per
    frame, channels_last ``(batch, frames, features, channels)`` or channels_first
    ``(batch, channels, frames, features)``; each channel is transformed alike.

    Subclasses implement ``_num_frames(samples)``, ``_output_bins`` (the feature count) and
    ``_transform(signals)``: mono ``(N, samples)`` to ``(N, frames, features)`` or a tuple of
    such; optionally ``_check_samples(samples, shape)`` (a known input length's checks) and
    ``_finish(features)`` on each 4-D result. `build` starts with ``_check_input_shape``.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)

    # -- shapes ---------------------------------------------------------------

    def _samples_axis(self, rank):
        return 2 if (rank == 3 and self.data_format == "channels_first") else 1

    def _channels(self, shape):
        if len(shape) == 2:
            return 1
        return shape[1 if self.data_format == "channels_first" else 2]

    def _check_samples(self, samples, shape):
        """Raises when ``samples`` (known) is too short for the layer."""

    def _check_input_shape(self, shape):
        check_waveform_rank(shape)
        if len(shape) == 3 and self._channels(shape) is None:
            raise ValueError(
                "The channel axis of `inputs` must be known. "
                f"Received: inputs with shape {tuple(shape)}"
            )
        samples = shape[self._samples_axis(len(shape))]
        if samples is not None:
            self._check_samples(samples, shape)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        samples = input_shape[self._samples_axis(len(input_shape))]
        frames = None if samples is None else self._num_frames(samples)
        channels = self._channels(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0], frames, self._output_bins, channels)
        return (input_shape[0], channels, frames, self._output_bins)

    # -- computation ----------------------------------------------------------

    def _finish(self, features):
        return features

    def call(self, inputs):
        signals = self.cast_input(inputs)
        self._check_input_shape(inputs.shape)
        rank, channels = len(inputs.shape), self._channels(inputs.shape)
        features = self._transform(F.fold_channels(signals, self.data_format))

        def finish(x):
            x = F.unfold_channels(x, rank, channels, self.data_format)
            return ops.cast(self._finish(x), self.compute_dtype)

        if isinstance(features, tuple):
            return tuple(finish(x) for x in features)
        return finish(features)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class STFTBase(WaveformLayer):
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
        stateful=False,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.implementation = check_choice("implementation", implementation, IMPLEMENTATIONS)
        resolve_framing(self, n_fft, hop_length, win_length, window)
        self.center = check_bool("center", center)
        self.pad_mode = check_choice("pad_mode", pad_mode, PAD_MODES)
        self.stateful = check_bool("stateful", stateful)
        if self.stateful and self.center:
            raise ValueError(
                "`stateful=True` needs `center=False`: a stream has no end to pad. "
                "Received: stateful=True, center=True"
            )

    @property
    def _kept_samples(self):
        """What a stateful layer carries from one call to the next: the last ``n_fft -
        hop_length`` samples (none when the hop is at least a frame)."""
        return max(self.n_fft - self._hop_length, 0)

    def _check_samples(self, samples, shape):
        if self.stateful:
            if samples % self._hop_length:
                raise ValueError(
                    "With stateful=True each chunk must hold a whole number of hops, "
                    f"k * hop_length = k * {self._hop_length} samples (k frames). "
                    f"Received: inputs with {samples} samples (shape {tuple(shape)})"
                )
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
        if self.stateful:
            return samples // self._hop_length
        if self.center:
            samples = samples + 2 * (self.n_fft // 2)
        return 1 + (samples - self.n_fft) // self._hop_length

    # -- weights --------------------------------------------------------------

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.n_fft, 1, 2 * (self.n_fft // 2 + 1)),
            initializer=DFTKernel(self.n_fft, self._win_length, self.window),
            trainable=self._kernel_trainable,
        )
        self._path = self._resolve_implementation()
        if self.stateful and self._kept_samples:
            batch = input_shape[0]
            rows = None if batch is None else batch * self._channels(input_shape)
            shape = (rows, self._kept_samples)
            self.stream_buffer = add_stream_state(
                self, "stream_buffer", shape, input_shape, "zeros"
            )

    def reset_state(self):
        """Forgets the stream (a stateful layer's kept samples are zeros again), as Keras
        RNNs do; a no-op for a layer that is not stateful."""
        if self.stateful and self.built and self._kept_samples:
            self.stream_buffer.assign(ops.zeros_like(self.stream_buffer.value))

    def _resolve_implementation(self):
        """``"conv"``, ``"fft"``, ``"blocked"``, or ``"frozen"`` (auto with a frozen kernel:
        `dispatch.frozen_path` picks per input size at call time), fixed when the layer is
        built (see `implementation`)."""
        trainable = self._kernel_trainable and self.trainable
        if self.implementation in ("fft", "blocked") and trainable:
            raise ValueError(
                f"`implementation` {self.implementation!r} needs a frozen kernel: it computes "
                "the exact DFT and ignores the kernel weight. Received: "
                f"implementation={self.implementation!r} with a trainable kernel; use 'conv' "
                "or 'auto'"
            )
        if self.implementation != "auto":
            return self.implementation
        # Where the tensors live is read here, outside any trace (a traced tensor's device
        # is not known); the input size, when called.
        self._device = dispatch.current_device()
        return "conv" if trainable else "frozen"

    # -- computation ----------------------------------------------------------

    def _transform(self, signals):
        if self.stateful and self._kept_samples:
            check_stream_export(self)
            kept = ops.cast(self.stream_buffer, signals.dtype)
            signals = ops.concatenate([kept, signals], axis=-1)
            self.stream_buffer.assign(
                ops.cast(signals[:, -self._kept_samples :], self.stream_buffer.dtype)
            )
        kernel = ops.cast(self.kernel, self.math_dtype)
        # The DC cosine column of the exact DFT kernel is the (zero-padded) window.
        window, path = kernel[:, 0, 0], self._path
        # Exported artifacts hold the matmul DFT: ONNX has no usable RFFT from tf2onnx,
        # torch.onnx no complex STFT, LiteRT only power-of-two FFTs.
        if self.implementation == "auto" and exporting():
            path = "conv"
        elif path == "frozen":  # the faster measured path for this size (unknown: None)
            rows, samples = signals.shape
            known = None not in (rows, samples)
            framed = rows * (samples // self._hop_length) * self.n_fft if known else None
            path = dispatch.frozen_path(device=self._device, framed=framed)
        # The blocks are counted when the graph is built: an unknown length takes the FFT.
        if path == "blocked" and signals.shape[1] is not None:
            pad = self.n_fft // 2 if self.center else 0
            block = dispatch.block_frames(signals.shape[0])
            return F.blocked_stft(
                signals, window, self._hop_length, self._block_spectral, pad, self.pad_mode, block
            )
        if self.center:
            signals = F.center_pad(signals, self.n_fft // 2, self.pad_mode)
        if path == "conv":
            real, imag = F.conv_stft(signals, kernel, self._hop_length)
        else:
            real, imag = F.fft_stft(signals, window, self._hop_length)
        return self._spectral(real, imag)

    def _block_spectral(self, real, imag):
        """`_spectral` of one block of the blocked path (a subclass may compute it another
        way there)."""
        return self._spectral(real, imag)

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
                "implementation": self.implementation,
                "stateful": self.stateful,
            }
        )
        return config


def check_power(power, decibel_on):
    """A positive exponent; 1 or 2 when the output goes to dB."""
    power = check_number("power", power, minimum=0, strict=True)
    if decibel_on and power not in (1.0, 2.0):
        raise ValueError(
            "`power` must be 1.0 (magnitude) or 2.0 (power) when decibel=True. "
            f"Received: power={power!r}"
        )
    return power


def check_streaming_decibel(ref, top_db):
    """Raises unless the dB stage is the same per chunk as on the whole stream: a number
    ``ref`` and no ``top_db`` clip (both per-example statistics of the whole signal)."""
    if ref == "max" or top_db is not None:
        raise ValueError(
            "`stateful=True` with a dB output needs `top_db=None` and a number `ref`: "
            "ref='max' and the top_db clip are statistics of the whole signal, which a "
            f"stream does not have. Received: ref={ref!r}, top_db={top_db!r}"
        )


class SpectralBase(STFTBase):
    """`STFTBase` plus ``power``, the optional dB stage and ``trainable_kernel``."""

    _always_decibel = False  # MFCC's dB stage is not optional

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
        if self.stateful and (self.decibel or self._always_decibel):
            check_streaming_decibel(ref, top_db)

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
