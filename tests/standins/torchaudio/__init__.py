"""A stand-in for the one torchaudio function speechbrain's Leaf needs, so that speechbrain
(installed with --no-deps: it pins a torchaudio that pins another torch) imports in the
test environment. Used only when torchaudio itself is missing (see tests/speechbrain_ref.py)."""

__version__ = "2.9.0+audiofront.standin"  # speechbrain warns below 2.1

from . import functional  # noqa: E402,F401
