"""What the bench times: audiofront's layer, and its peers: the backend's native FFT chain,
Keras's own layers, librosa (numpy), nnAudio (torch) and Kapre (TensorFlow), each built for
a workload spec (``n_fft``, ``hop_length``, ``n_mels``, ``decibel``, ``sample_rate``,
``layer``, ``params``). The front-ends that no FFT chain computes have peers of their own:
CQT (librosa's defaults, 84 bins from C1) next to nnAudio's two CQTs and ``librosa.cqt``;
LEAF (``n_mels`` filters) next to speechbrain's ``Leaf`` (torch, where it imports) and
audiofront's ``MelSpectrogram`` on the same batch, the cost LEAF is held to."""

import numpy as np

from audiofront import filters

__all__ = [
    "audiofront_layer",
    "native_chain",
    "keras_builtin",
    "librosa_function",
    "nnaudio_module",
    "kapre_layer",
    "front_end_peers",
]


def _mel_matrix(spec):
    mel = filters.mel_filterbank(spec["sample_rate"], spec["n_fft"], spec["n_mels"]).T
    return mel.astype(np.float32)


def _window(spec):
    return filters.get_window("hann", spec["n_fft"]).astype(np.float32)


def _is_mel(spec):
    return spec["layer"] in ("MelSpectrogram", "MFCC")


N_MFCC = 20


def _dct_matrix(spec):
    """MFCC's orthonormal type-2 DCT, (n_mels, 20), or None for the other layers."""
    if spec["layer"] != "MFCC":
        return None
    return filters.dct_matrix(spec["n_mels"], N_MFCC).astype(np.float32)


def _decibel(spec):
    return spec["decibel"] or spec["layer"] == "MFCC"


def audiofront_layer(spec, trainable):
    """The audiofront layer of the spec (``MelSpectrogram``, ``MFCC`` (20 coefficients),
    ``Spectrogram`` or ``STFT`` in power mode), with trainable kernels (and filterbank) when
    asked."""
    import audiofront

    common = dict(n_fft=spec["n_fft"], hop_length=spec["hop_length"], **spec.get("params", {}))
    layer = spec["layer"]
    if layer == "MelSpectrogram":
        kw = dict(sample_rate=spec["sample_rate"], n_mels=spec["n_mels"], decibel=spec["decibel"])
        if trainable:
            kw.update(trainable_kernel=True, trainable_filterbank=True)
        return audiofront.MelSpectrogram(**common, **kw)
    if layer == "MFCC":
        kw = dict(sample_rate=spec["sample_rate"], n_mels=spec["n_mels"], n_mfcc=N_MFCC)
        if trainable:
            kw.update(trainable_kernel=True, trainable_filterbank=True)
        return audiofront.MFCC(**common, **kw)
    if layer == "Spectrogram":
        return audiofront.Spectrogram(**common, decibel=spec["decibel"], trainable_kernel=trainable)
    if layer == "STFT":
        return audiofront.STFT(**common, mode="power", trainable=trainable)
    if layer == "CQT":
        return audiofront.CQT(
            sample_rate=spec["sample_rate"], hop_length=spec["hop_length"], trainable=trainable,
            **spec.get("params", {}),
        )  # fmt: skip
    if layer == "LEAF":  # always trainable
        return audiofront.LEAF(
            n_filters=spec["n_mels"], sample_rate=spec["sample_rate"], **spec.get("params", {})
        )
    raise ValueError(
        f"bench supports STFT, Spectrogram, MelSpectrogram, MFCC, CQT and LEAF; got {layer}"
    )


def _torch_chain(spec, mel):
    import torch

    from audiofront.tools import backend

    n_fft, hop, decibel = spec["n_fft"], spec["hop_length"], _decibel(spec)
    window = backend.to_device(_window(spec))
    melt = None if mel is None else backend.to_device(mel)
    dct = None if _dct_matrix(spec) is None else backend.to_device(_dct_matrix(spec))

    def fn(x):
        s = torch.stft(
            x, n_fft, hop, window=window, center=True, pad_mode="constant", return_complex=True
        )
        p = (s.real.square() + s.imag.square()).transpose(1, 2)  # (batch, frames, bins)
        if melt is not None:
            p = p @ melt
        if decibel:
            db = 10 * torch.log10(torch.clamp(p, min=1e-10))
            db = torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - 80.0)
            return db if dct is None else db @ dct
        return p

    return "native:torch.stft", fn


def _tf_chain(spec, mel):
    import tensorflow as tf

    n_fft, hop, decibel = spec["n_fft"], spec["hop_length"], _decibel(spec)
    melt = None if mel is None else tf.constant(mel)
    dct = None if _dct_matrix(spec) is None else tf.constant(_dct_matrix(spec))

    def fn(x):
        x = tf.pad(x, [[0, 0], [n_fft // 2, n_fft // 2]])
        s = tf.signal.stft(
            x, n_fft, hop, fft_length=n_fft, window_fn=tf.signal.hann_window, pad_end=False
        )
        p = tf.math.real(s) ** 2 + tf.math.imag(s) ** 2
        if melt is not None:
            p = tf.matmul(p, melt)
        if decibel:
            db = 10.0 * tf.math.log(tf.maximum(p, 1e-10)) / np.log(10.0)
            db = tf.maximum(db, tf.reduce_max(db, axis=(1, 2), keepdims=True) - 80.0)
            return db if dct is None else tf.matmul(db, dct)
        return p

    return "native:tf.signal.stft", fn


def _jax_chain(spec, mel):
    import jax.numpy as jnp

    n_fft, hop, decibel = spec["n_fft"], spec["hop_length"], _decibel(spec)
    window = jnp.asarray(_window(spec))
    melt = None if mel is None else jnp.asarray(mel)
    dct = None if _dct_matrix(spec) is None else jnp.asarray(_dct_matrix(spec))

    def fn(x):
        x = jnp.pad(x, ((0, 0), (n_fft // 2, n_fft // 2)))
        frames = 1 + (x.shape[1] - n_fft) // hop
        index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
        s = jnp.fft.rfft(x[:, index] * window, axis=-1)
        p = s.real**2 + s.imag**2
        if melt is not None:
            p = p @ melt
        if decibel:
            db = 10 * jnp.log10(jnp.maximum(p, 1e-10))
            db = jnp.maximum(db, db.max(axis=(1, 2), keepdims=True) - 80.0)
            return db if dct is None else db @ dct
        return p

    return "native:jnp.fft.rfft", fn


def native_chain(spec):
    """``(name, fn)``: the current backend's own FFT chain, no Keras: frames, rfft, |.|^2,
    mel matmul, dB."""
    import keras

    mel = _mel_matrix(spec) if _is_mel(spec) else None
    chain = {"torch": _torch_chain, "tensorflow": _tf_chain, "jax": _jax_chain}
    return chain[keras.backend.backend()](spec, mel)


def keras_builtin(spec):
    """``(name, layer)``: Keras's own ``MelSpectrogram`` (for MFCC, in dB and then a DCT
    matmul) or ``STFTSpectrogram``."""
    import keras

    if _is_mel(spec):
        layer = keras.layers.MelSpectrogram(
            fft_length=spec["n_fft"],
            sequence_stride=spec["hop_length"],
            sampling_rate=spec["sample_rate"],
            num_mel_bins=spec["n_mels"],
            min_freq=0.0,
            power_to_db=_decibel(spec),
            top_db=80.0,
        )
        if spec["layer"] == "MFCC":
            dct = keras.ops.convert_to_tensor(_dct_matrix(spec).T)  # (n_mfcc, n_mels)
            return "keras.layers.MelSpectrogram+DCT", lambda x: keras.ops.matmul(dct, layer(x))
        return "keras.layers.MelSpectrogram", layer
    layer = keras.layers.STFTSpectrogram(
        mode="magnitude",
        frame_length=spec["n_fft"],
        frame_step=spec["hop_length"],
        fft_length=spec["n_fft"],
    )
    return "keras.layers.STFTSpectrogram", layer


def librosa_function(spec):
    """librosa's mel (or power) spectrogram of a numpy batch, with dB when asked."""
    import librosa

    kw = dict(n_fft=spec["n_fft"], hop_length=spec["hop_length"], center=True, pad_mode="constant")

    def fn(x):
        if spec["layer"] == "CQT":
            return np.abs(
                librosa.cqt(x, sr=spec["sample_rate"], hop_length=spec["hop_length"],
                            pad_mode="constant", **spec.get("params", {}))
            )  # fmt: skip
        if spec["layer"] == "MFCC":
            return librosa.feature.mfcc(
                y=x, sr=spec["sample_rate"], n_mels=spec["n_mels"], n_mfcc=N_MFCC, **kw
            )
        if _is_mel(spec):
            s = librosa.feature.melspectrogram(
                y=x, sr=spec["sample_rate"], n_mels=spec["n_mels"], **kw
            )
        else:
            s = np.abs(librosa.stft(x, **kw)) ** 2
        return librosa.power_to_db(s, top_db=80.0) if spec["decibel"] else s

    return fn


def nnaudio_module(spec, trainable):
    """``(fn, module)``: nnAudio's ``MelSpectrogram`` (in dB when asked) or ``STFT`` on the
    default torch device."""
    import nnAudio.features as features
    import torch

    from audiofront.tools import backend

    kwargs = dict(
        n_fft=spec["n_fft"],
        hop_length=spec["hop_length"],
        center=True,
        pad_mode="constant",
        verbose=False,
    )
    if spec["layer"] == "MFCC":
        m = features.MFCC(
            sr=spec["sample_rate"],
            n_mfcc=N_MFCC,
            n_mels=spec["n_mels"],
            trainable_mel=trainable,
            trainable_STFT=trainable,
            **kwargs,
        )
        return m.to(backend.torch_device()), m
    if _is_mel(spec):
        m = features.MelSpectrogram(
            sr=spec["sample_rate"],
            n_mels=spec["n_mels"],
            trainable_mel=trainable,
            trainable_STFT=trainable,
            **kwargs,
        )
    else:
        m = features.STFT(output_format="Magnitude", trainable=trainable, **kwargs)
    m = m.to(backend.torch_device())
    if spec["decibel"] and _is_mel(spec):

        def fn(x):
            db = 10 * torch.log10(torch.clamp(m(x), min=1e-10))
            return torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - 80.0)

        return fn, m
    return m, m


def kapre_layer(spec):
    """Kapre's composed mel (or STFT magnitude) layer, for ``(batch, samples, 1)`` input."""
    from kapre.composed import get_melspectrogram_layer, get_stft_magnitude_layer

    shape = (spec["samples"], 1)
    if _is_mel(spec):
        return get_melspectrogram_layer(
            input_shape=shape,
            n_fft=spec["n_fft"],
            hop_length=spec["hop_length"],
            sample_rate=spec["sample_rate"],
            n_mels=spec["n_mels"],
            return_decibel=spec["decibel"],
            pad_end=False,
        )
    return get_stft_magnitude_layer(
        input_shape=shape,
        n_fft=spec["n_fft"],
        hop_length=spec["hop_length"],
        return_decibel=spec["decibel"],
    )


def _nnaudio_cqts(spec, trainable):
    import nnAudio.features as features

    from audiofront import filters as af_filters
    from audiofront.tools import backend

    params = dict(spec.get("params", {}))
    kwargs = dict(
        sr=spec["sample_rate"], hop_length=spec["hop_length"],
        fmin=params.get("fmin", af_filters.C1_HZ), n_bins=params.get("n_bins", 84),
        bins_per_octave=params.get("bins_per_octave", 12), output_format="Magnitude",
        pad_mode="constant", trainable=trainable, verbose=False,
    )  # fmt: skip
    for name in ("CQT1992v2", "CQT2010v2"):
        module = getattr(features, name)(**kwargs).to(backend.torch_device())
        yield f"nnAudio.{name}", module, module


def _speechbrain_leaf(spec, trainable):
    from speechbrain.lobes.features import Leaf  # needs torchaudio (tests/standins has one)

    from audiofront.tools import backend

    module = Leaf(out_channels=spec["n_mels"], in_channels=1, sample_rate=spec["sample_rate"])
    module = module.to(backend.torch_device())
    module.requires_grad_(trainable)
    yield "speechbrain.Leaf", module, module


def front_end_peers(spec, trainable):
    """``(name, fn, module)`` for each torch peer of CQT or LEAF where it imports
    (nnAudio's CQT1992v2 and CQT2010v2; speechbrain's Leaf); ImportError where none does."""
    if spec["layer"] == "CQT":
        return list(_nnaudio_cqts(spec, trainable))
    return list(_speechbrain_leaf(spec, trainable))
