"""audiofront: the audio front-end for Keras 3 on JAX, PyTorch and TensorFlow.

Layers turn waveforms into spectrograms inside the model, as one strided
convolution with (optionally trainable) DFT kernels and filterbanks, matching
librosa to float32 precision on every backend.

>>> import audiofront
>>> layer = audiofront.MelSpectrogram(sample_rate=16000, n_fft=512, n_mels=64)
"""

__version__ = "0.1.0"

from audiofront import filters  # noqa: E402
from audiofront.catalog import LAYERS as _LAYERS  # noqa: E402

try:  # Keras fails to import when its configured backend is not installed.
    import keras  # noqa: F401
except (ImportError, ValueError) as _error:  # the numpy side and the tools still work
    _KERAS_ERROR = _error

    def __getattr__(name):
        if name in _LAYERS or name == "layers":
            raise ImportError(
                f"audiofront.{name} needs Keras with an installed backend "
                f"(set KERAS_BACKEND): {_KERAS_ERROR}"
            ) from _KERAS_ERROR
        raise AttributeError(f"module 'audiofront' has no attribute {name!r}")

else:
    # Imported here, not lazily, so that `import audiofront` registers the layers (and the
    # initializers) and keras.saving.load_model finds them.
    from audiofront import initializers, layers  # noqa: F401
    from audiofront.streaming import (  # noqa: F401
        initial_states,
        stateless_stream,
        stream_signature,
    )

    globals().update({_name: getattr(layers, _name) for _name in _LAYERS})

__all__ = [
    *_LAYERS,
    "filters",
    "initial_states",
    "stateless_stream",
    "stream_signature",
    "__version__",
]
