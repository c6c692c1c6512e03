"""The `PCEN` layer: per-channel energy normalisation, fixed (librosa) or learned per band."""

import keras
from keras import ops

from audiofront import filters
from audiofront import functional as F
from audiofront.constraints import Clip
from audiofront.layers._base import (
    FrontEndLayer,
    add_stream_state,
    check_spectrogram_shape,
    check_stream_export,
    exporting,
    standardize_data_format,
)
from audiofront.validation import check_bool, check_number, check_positive_int

# The smallest learnable bias: (bias + x) ** power - bias ** power needs bias > 0 for a
# finite gradient, and a smoothing coefficient of 0 would freeze the smoother.
_MIN_BIAS = 1e-6
_MIN_SMOOTHING = 1e-6


@keras.saving.register_keras_serializable(package="audiofront")
class PCEN(FrontEndLayer):
    """Per-channel energy normalisation along time, equal to ``librosa.pcen``.

    A first-order IIR smoother ``M[t] = (1 - s) M[t-1] + s E[t]`` per band (``s`` from
    ``time_constant``, ``sample_rate`` and ``hop_length`` as librosa; librosa's default
    initial state, ``M[-1] = 1``, the steady state of a unit input), run exactly as a
    log-depth scan (no truncated kernel), then
    ``(E / (eps + M) ** gain + bias) ** power - bias ** power`` in librosa's log-space form.
    Feed it a non-negative (mel) spectrogram; librosa advises scaling audio-range power by
    ``2 ** 31`` first.

    Four weights, one value per frequency band: ``gain``, ``bias``, ``power`` and
    ``smoothing`` (``s``), initialised to the arguments. With ``trainable=True`` they are
    learned (LEAF's sPCEN), constrained to their valid ranges after every update: gain
    and power >= 0, bias >= 1e-6, smoothing in [1e-6, 1].

    Args:
        sample_rate: sampling rate of the audio, in Hz.
        hop_length: samples between the spectrogram's frames.
        gain: the normalisation exponent (alpha), >= 0.
        bias: the offset (delta), >= 0 (> 0 when trainable).
        power: the compression exponent (r), >= 0 (> 0 when trainable).
        time_constant: the smoother's time constant in seconds, > 0.
        eps: the floor under ``M``, > 0.
        trainable: learn the four per-band parameters.
        stateful: keep the smoother's last frame from one call to the next, so that
            consecutive chunks of frames give what the whole stream gives (streaming);
            needs a fixed batch size. `reset_state` starts over from ``M[-1] = 1``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: base layer arguments (``name``, ``dtype``: float32 by default).

    Input shape:
        channels_last ``(batch, frames, bands, channels)``, channels_first
        ``(batch, channels, frames, bands)``; ``bands`` must be known.

    Output shape:
        The same.

    Example:

    >>> import numpy as np
    >>> mel = np.abs(np.random.default_rng(0).standard_normal((2, 50, 40, 1))).astype("float32")
    >>> out = keras.ops.convert_to_numpy(PCEN(sample_rate=16000, hop_length=160)(mel * 2**31))
    >>> out.shape, bool(np.isfinite(out).all())
    ((2, 50, 40, 1), True)
    """

    def __init__(
        self,
        sample_rate=22050,
        hop_length=512,
        gain=0.98,
        bias=2.0,
        power=0.5,
        time_constant=0.4,
        eps=1e-6,
        trainable=False,
        stateful=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(trainable=check_bool("trainable", trainable), **kwargs)
        self.sample_rate = check_number("sample_rate", sample_rate, minimum=0, strict=True)
        self.hop_length = check_positive_int("hop_length", hop_length)
        self.gain = check_number("gain", gain, minimum=0)
        self.bias = check_number("bias", bias, minimum=0, strict=trainable)
        self.power = check_number("power", power, minimum=0, strict=trainable)
        self.time_constant = check_number("time_constant", time_constant, minimum=0, strict=True)
        self.eps = check_number("eps", eps, minimum=0, strict=True)
        self.stateful = check_bool("stateful", stateful)
        self.data_format = standardize_data_format(data_format)
        self._smoothing = float(filters.pcen_smoothing(time_constant, sample_rate, hop_length))

    @property
    def _axes(self):
        """(time axis, band axis)."""
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def build(self, input_shape):
        check_spectrogram_shape(input_shape)
        bands = input_shape[self._axes[1]]
        if bands is None:
            raise ValueError(
                f"The band axis (axis {self._axes[1]}) of `inputs` must be known. "
                f"Received: inputs with shape {tuple(input_shape)}"
            )
        parameters = {
            "gain": (self.gain, keras.constraints.NonNeg()),
            "bias": (self.bias, Clip(min_value=_MIN_BIAS)),
            "power": (self.power, keras.constraints.NonNeg()),
            "smoothing": (self._smoothing, Clip(_MIN_SMOOTHING, 1.0)),
        }
        for name, (value, constraint) in parameters.items():
            weight = self.add_weight(
                name=name,
                shape=(bands,),
                initializer=keras.initializers.Constant(value),
                constraint=constraint,
            )
            setattr(self, f"{name}_weight", weight)
        if self.stateful:
            shape = list(input_shape)
            shape[self._axes[0]] = 1  # one frame of the smoother, M; librosa's M[-1] = 1
            self.smoother_state = add_stream_state(
                self, "smoother_state", tuple(shape), input_shape, "ones"
            )

    def reset_state(self):
        """Starts the stream over (the smoother from ``M[-1] = 1``), as Keras RNNs do; a
        no-op for a layer that is not stateful."""
        if self.stateful and self.built:
            self.smoother_state.assign(ops.ones_like(self.smoother_state.value))

    def call(self, inputs):
        x = self.cast_input(inputs)
        shape = [1, 1, 1, 1]
        shape[self._axes[1]] = -1

        def per_band(weight):
            return ops.reshape(ops.cast(weight, x.dtype), shape)

        # librosa's special forms for power == 0 and bias == 0 (never when trainable).
        power = 0.0 if self.power == 0 else per_band(self.power_weight)
        bias = 0.0 if self.bias == 0 else per_band(self.bias_weight)
        time, smoothing, smoothed = self._axes[0], per_band(self.smoothing_weight), None
        if self.stateful:
            check_stream_export(self)
            initial = ops.cast(self.smoother_state, x.dtype)
            smoothed = F.pcen_smoother(x, smoothing, initial, time)
            last = F.take_along(ops.stop_gradient(smoothed), time, -1, None)
            self.smoother_state.assign(ops.cast(last, self.smoother_state.dtype))
        y = F.pcen(
            x,
            gain=per_band(self.gain_weight),
            bias=bias,
            power=power,
            smoothing=smoothing,
            eps=self.eps,
            axis=time,
            smoothed=smoothed,
            exact=not exporting(),
        )
        return ops.cast(y, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sample_rate": self.sample_rate,
                "hop_length": self.hop_length,
                "gain": self.gain,
                "bias": self.bias,
                "power": self.power,
                "time_constant": self.time_constant,
                "eps": self.eps,
                "stateful": self.stateful,
                "data_format": self.data_format,
            }
        )
        return config
