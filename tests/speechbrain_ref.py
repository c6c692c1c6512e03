"""speechbrain as a reference for SincConv and LEAF.

speechbrain pins torchaudio, which pins another torch than ours, so `nox -s "tests(torch)"`
installs it with ``--no-deps`` (with the few pure-Python packages it imports); the one
torchaudio function its ``Leaf`` needs comes from tests/standins when torchaudio is absent.
Elsewhere (the jax and tensorflow sessions) `speechbrain()` skips, and the layers are held
to the numpy transcriptions in their test files, which the torch session checks against
speechbrain itself.
"""

import sys
from pathlib import Path

import pytest

STANDINS = Path(__file__).with_name("standins")


def speechbrain():
    """The ``speechbrain`` module (with torch), or a skip saying why it is missing."""
    pytest.importorskip("torch")
    try:
        import torchaudio  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(STANDINS))
    return pytest.importorskip("speechbrain", reason="speechbrain is installed in tests(torch)")
