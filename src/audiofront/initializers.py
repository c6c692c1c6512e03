"""Serializable Keras initializers over the numpy builders of `audiofront.filters`.

As Keras's own ``keras.initializers.STFT``: the recipe (a few parameters) is the config,
the array is built when a weight is created. The layers use them in ``build()``; they work
for any ``add_weight`` of the right shape.

Example:

>>> import keras
>>> init = DFTKernel(n_fft=8, window="hann")
>>> tuple(init((8, 1, 10)).shape)
(8, 1, 10)
>>> type(keras.initializers.deserialize(keras.initializers.serialize(init))).__name__
'DFTKernel'
"""

import keras
import numpy as np
from keras import ops

from audiofront import filters

__all__ = ["DFTKernel", "IDFTKernel", "FilterbankMatrix", "DCTMatrix", "CQTKernel"]


def _checked(array, shape, name):
    if tuple(shape) != array.shape:
        raise ValueError(
            f"{name} builds an array of shape {array.shape}; the weight asks for shape "
            f"{tuple(shape)}"
        )
    return array


@keras.saving.register_keras_serializable(package="audiofront")
class DFTKernel(keras.initializers.Initializer):
    """The windowed DFT kernel of a convolutional STFT, shape ``(n_fft, 1, 2 * bins)``.

    ``filters.dft_kernels(n_fft, win_length, window)`` with an input-channel axis: cosine
    kernels then sine kernels, ``bins = n_fft // 2 + 1``.

    Args:
        n_fft: frame length and DFT size.
        win_length: window length (centred in the frame); defaults to ``n_fft``.
        window: a window name, or a list of ``win_length`` numbers.
    """

    _builder = staticmethod(filters.dft_kernels)

    def __init__(self, n_fft, win_length=None, window="hann"):
        if not isinstance(window, str):
            # JSON-friendly config: an array window is kept as a list of floats.
            window = [float(v) for v in np.asarray(window, dtype=np.float64)]
        self.n_fft = n_fft
        self.win_length = win_length
        self.window = window

    def __call__(self, shape, dtype=None):
        kernels = self._builder(self.n_fft, self.win_length, self.window)[:, None, :]
        return ops.convert_to_tensor(_checked(kernels, shape, type(self).__name__), dtype=dtype)

    def get_config(self):
        return {"n_fft": self.n_fft, "win_length": self.win_length, "window": self.window}


@keras.saving.register_keras_serializable(package="audiofront")
class IDFTKernel(DFTKernel):
    """The windowed inverse-DFT (synthesis) kernel of an overlap-add inverse STFT, shape
    ``(n_fft, 1, 2 * bins)``: ``filters.idft_kernels(n_fft, win_length, window)`` with an
    output-channel axis, the layout ``keras.ops.conv_transpose`` takes. Arguments as
    `DFTKernel`."""

    _builder = staticmethod(filters.idft_kernels)


@keras.saving.register_keras_serializable(package="audiofront")
class FilterbankMatrix(keras.initializers.Initializer):
    """A filterbank as a ``(n_fft // 2 + 1, n_filters)`` matrix that maps bins to bands.

    ``filters.filterbank(kind, **recipe).T``: ``"mel"`` (= ``librosa.filters.mel(...).T``),
    ``"linear"``, ``"log"`` or ``"random"``, with that function's keyword arguments
    (``sample_rate``, ``n_fft``, ``n_filters``, ``fmin``, ``fmax``, ``htk``, ``norm``,
    ``seed``).
    """

    def __init__(self, kind="mel", **recipe):
        filters.filterbank(kind, **recipe)  # raises on bad arguments, now
        self.kind = kind
        self.recipe = recipe

    def matrix(self):
        """The float64 numpy matrix, ``(n_fft // 2 + 1, n_filters)``."""
        return filters.filterbank(self.kind, **self.recipe).T

    def __call__(self, shape, dtype=None):
        weights = _checked(self.matrix(), shape, "FilterbankMatrix")
        return ops.convert_to_tensor(weights, dtype=dtype)

    def get_config(self):
        return {"kind": self.kind, **self.recipe}


@keras.saving.register_keras_serializable(package="audiofront")
class DCTMatrix(keras.initializers.Initializer):
    """The (liftered) DCT of MFCCs as a ``(n_input, n_output)`` matrix:
    ``filters.dct_matrix(n_input, n_output, dct_type, norm, lifter)``."""

    def __init__(self, n_input, n_output=None, dct_type=2, norm="ortho", lifter=0.0):
        filters.dct_matrix(n_input, n_output, dct_type, norm, lifter)  # raises on bad arguments
        self.n_input = n_input
        self.n_output = n_output
        self.dct_type = dct_type
        self.norm = norm
        self.lifter = lifter

    def __call__(self, shape, dtype=None):
        matrix = filters.dct_matrix(
            self.n_input, self.n_output, self.dct_type, self.norm, self.lifter
        )
        return ops.convert_to_tensor(_checked(matrix, shape, "DCTMatrix"), dtype=dtype)

    def get_config(self):
        return {
            "n_input": self.n_input,
            "n_output": self.n_output,
            "dct_type": self.dct_type,
            "norm": self.norm,
            "lifter": self.lifter,
        }


@keras.saving.register_keras_serializable(package="audiofront")
class CQTKernel(keras.initializers.Initializer):
    """The kernel of a constant-Q transform as one strided convolution, shape
    ``(length, 1, 2 * n_bins)``: ``filters.cqt_kernels(**recipe)`` with an input-channel
    axis (real parts, then imaginary parts of librosa's conjugated wavelets, scaled).
    ``recipe``: ``sample_rate``, ``fmin``, ``n_bins``, ``bins_per_octave``,
    ``filter_scale``, ``norm``, ``window``, ``scale``."""

    def __init__(self, **recipe):
        self.recipe = recipe

    def __call__(self, shape, dtype=None):
        kernels = filters.cqt_kernels(**self.recipe)[:, None, :]
        return ops.convert_to_tensor(_checked(kernels, shape, "CQTKernel"), dtype=dtype)

    def get_config(self):
        return dict(self.recipe)
