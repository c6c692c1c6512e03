"""Reading audio for tests, tools and examples: WAV files and the Free Spoken Digit Dataset.

Numpy and the standard library only. The FSDD location comes from an argument, else
the ``AUDIOFRONT_FSDD`` environment variable, else ``../shared/data/fsdd`` beside the
current directory or beside this checkout.

Example:

>>> from audiofront import datasets
>>> root = datasets.fsdd_path()          # doctest: +SKIP
>>> y, sr = datasets.load_wav(root / "recordings" / "7_jackson_32.wav")  # doctest: +SKIP
"""

import os
import re
import wave
from pathlib import Path

import numpy as np

__all__ = ["fsdd_path", "fsdd_files", "load_wav"]

_FSDD_ENV = "AUDIOFRONT_FSDD"
_FSDD_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


def _candidates():
    yield Path.cwd() / ".." / "shared" / "data" / "fsdd"
    yield Path(__file__).resolve().parents[3] / "shared" / "data" / "fsdd"


def fsdd_path(path=None):
    """The FSDD root (the folder holding ``recordings/``), or ``FileNotFoundError``."""
    if path is None:
        path = os.environ.get(_FSDD_ENV)
    if path is not None:
        root = Path(path).expanduser()
        if not (root / "recordings").is_dir():
            raise FileNotFoundError(
                f"No FSDD recordings/ folder under {root} (from the argument or ${_FSDD_ENV})."
            )
        return root
    for root in _candidates():
        if (root / "recordings").is_dir():
            return root.resolve()
    raise FileNotFoundError(
        f"The Free Spoken Digit Dataset was not found: set ${_FSDD_ENV} or pass its path."
    )


def fsdd_files(path=None, split=None):
    """Sorted FSDD recordings as ``(path, digit, speaker, take)`` tuples.

    ``split`` is ``None`` (all), ``"train"`` (takes 5-49) or ``"test"`` (takes 0-4),
    the dataset's conventional split.
    """
    if split not in (None, "train", "test"):
        raise ValueError(f'`split` must be None, "train" or "test". Received: split={split!r}')
    out = []
    for file in sorted((fsdd_path(path) / "recordings").glob("*.wav")):
        match = _FSDD_NAME.match(file.name)
        if not match:
            continue
        digit, speaker, take = int(match[1]), match[2], int(match[3])
        if split is None or (split == "test") == (take < 5):
            out.append((file, digit, speaker, take))
    return out


def load_wav(path):
    """Reads a PCM WAV file as float32 in [-1, 1].

    Returns:
        ``(samples,)`` for mono or ``(samples, channels)``, and the sample rate.
    """
    with wave.open(str(path), "rb") as f:
        width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
        raw = f.readframes(f.getnframes())
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width in (2, 4):
        dtype = np.int16 if width == 2 else np.int32
        data = np.frombuffer(raw, dtype).astype(np.float32) / float(2 ** (8 * width - 1))
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8
        data = ints.astype(np.float32) / float(2**23)
    else:
        raise ValueError(f"Unsupported WAV sample width {width} bytes in {path}")
    data = data.reshape(-1, channels)
    return (data[:, 0] if channels == 1 else data), rate
