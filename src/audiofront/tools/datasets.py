"""Reading audio for tests, tools and examples: WAV files and the Free Spoken Digit Dataset.

Numpy and the standard library only. The FSDD location comes from an argument, else
the ``AUDIOFRONT_FSDD`` environment variable, else ``../shared/data/fsdd`` beside the
current directory or beside this checkout, else (with ``download=True``) a copy fetched
once from the dataset's public GitHub repository into a cache folder.

Example:

>>> from audiofront.tools import datasets
>>> root = datasets.fsdd_path()          # doctest: +SKIP
>>> y, sr = datasets.load_wav(root / "recordings" / "7_jackson_32.wav")  # doctest: +SKIP
>>> root = datasets.fsdd_path(download=True)  # elsewhere: fetch to the cache  # doctest: +SKIP
"""

import os
import re
import shutil
import sys
import tempfile
import urllib.request
import wave
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

__all__ = ["fsdd_path", "fsdd_files", "load_wav", "download_fsdd", "cache_dir", "FSDD_URL"]

_FSDD_ENV = "AUDIOFRONT_FSDD"
_CACHE_ENV = "AUDIOFRONT_CACHE"
#: The dataset's public source: a zip of the GitHub repository (about 10 MB).
FSDD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/heads/master.zip"
# Files kept from the archive, besides recordings/*.wav (attribution and licence travel along).
_FSDD_EXTRAS = {"README.md", "LICENSE", "metadata.py", "speakers.json"}
_FSDD_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


def _candidates():
    yield Path.cwd() / ".." / "shared" / "data" / "fsdd"
    yield Path(__file__).resolve().parents[4] / "shared" / "data" / "fsdd"


def fsdd_path(path=None, download=False):
    """The FSDD root (the folder holding ``recordings/``), or ``FileNotFoundError``.

    Looks at ``path``, else ``$AUDIOFRONT_FSDD``, else ``../shared/data/fsdd``; when none
    is given and none is found, ``download=True`` fetches the dataset once into
    `cache_dir` (see `download_fsdd`) and returns that copy.
    """
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
    cached = cache_dir() / "fsdd"
    if (cached / "recordings").is_dir():
        return cached
    if download:
        return download_fsdd()
    raise FileNotFoundError(
        f"The Free Spoken Digit Dataset was not found: set ${_FSDD_ENV}, pass its path, "
        "or download it (datasets.fsdd_path(download=True), or --download in the examples)."
    )


def cache_dir():
    """Where downloads go: ``$AUDIOFRONT_CACHE``, else ``$XDG_CACHE_HOME/audiofront``, else
    ``~/.cache/audiofront``."""
    if os.environ.get(_CACHE_ENV):
        return Path(os.environ[_CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "audiofront"


def download_fsdd(directory=None, url=None, force=False, progress=None):
    """Fetches the Free Spoken Digit Dataset from its public source and unpacks it.

    The archive (a zip of the GitHub repository, ``FSDD_URL``) is read into a temporary
    file, its ``recordings/*.wav`` and top-level notes (README, LICENSE) are extracted into a
    temporary folder beside the target, which is then renamed into place: an interrupted
    download leaves nothing half-written. Member names are reduced to their file name, so
    a hostile archive cannot write outside the target.

    Args:
        directory: the dataset root to create; default ``cache_dir() / "fsdd"``.
        url: where the zip comes from (any ``urllib`` URL, ``file://`` included); default
            ``FSDD_URL``.
        force: download again even when ``directory/recordings`` exists.
        progress: print progress to stderr (default: when stderr is a terminal).

    Returns:
        The dataset root (the folder holding ``recordings/``).

    Example:

    >>> from audiofront.tools import datasets
    >>> root = datasets.download_fsdd()          # doctest: +SKIP
    >>> len(datasets.fsdd_files(root, split="test"))  # doctest: +SKIP
    300
    """
    target = Path(directory).expanduser() if directory is not None else cache_dir() / "fsdd"
    if (target / "recordings").is_dir() and not force:
        return target
    if url is None:
        url = FSDD_URL
    if progress is None:
        progress = sys.stderr.isatty()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fsdd-") as tmp:
        archive = Path(tmp) / "fsdd.zip"
        with urllib.request.urlopen(url, timeout=60) as response, open(archive, "wb") as f:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 20):
                f.write(chunk)
                done += len(chunk)
                if progress:
                    size = f" of {total / 1e6:.1f}" if total else ""
                    print(f"\rFSDD: {done / 1e6:.1f}{size} MB", end="", file=sys.stderr)
        if progress:
            print(file=sys.stderr)
        staged = Path(tmp) / "fsdd"
        (staged / "recordings").mkdir(parents=True)
        count = 0
        try:
            members = zipfile.ZipFile(archive)
        except zipfile.BadZipFile as error:
            raise ValueError(f"{url} is not a zip archive: {error}") from error
        with members:
            for info in members.infolist():
                parts = PurePosixPath(info.filename).parts
                name = parts[-1] if parts else ""
                if info.is_dir() or not name:
                    continue
                if len(parts) >= 2 and parts[-2] == "recordings" and _FSDD_NAME.match(name):
                    destination = staged / "recordings" / name
                    count += 1
                elif len(parts) <= 2 and name in _FSDD_EXTRAS:
                    destination = staged / name
                else:
                    continue
                with members.open(info) as source, open(destination, "wb") as out:
                    shutil.copyfileobj(source, out)
        if count == 0:
            raise ValueError(f"No recordings/<digit>_<speaker>_<take>.wav files in {url}")
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    return target


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
