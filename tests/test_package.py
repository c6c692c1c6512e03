"""Package shape: public names, import hygiene of the layers, runnable docstring examples."""

import ast
import doctest
import importlib
from pathlib import Path

import pytest

import audiofront

SOURCE = Path(audiofront.__file__).parent
LAYER_NAMES = [
    "STFT",
    "Filterbank",
    "Decibel",
    "Spectrogram",
    "MelSpectrogram",
    "Normalization2D",
    "AdditiveNoise",
    "SpecAugment",
]


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layers_importable_from_package_and_layers_module(name):
    assert getattr(audiofront, name) is getattr(audiofront.layers, name)


def imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize(
    "path", sorted(SOURCE.glob("layers/*.py")) + [SOURCE / "ops.py"], ids=lambda p: p.name
)
def test_layers_use_keras_only(path):
    """Layer code is written against keras.ops: no backend imports, no keras.src."""
    for module in imported_modules(path):
        root = module.split(".")[0]
        assert root not in {"torch", "jax", "jaxlib", "tensorflow"}, f"{path.name} imports {module}"
        assert not module.startswith("keras.src"), f"{path.name} imports {module}"


MODULES = [
    "audiofront",
    "audiofront.filters",
    "audiofront.ops",
    "audiofront.layers.stft",
    "audiofront.layers.filterbank",
    "audiofront.layers.decibel",
    "audiofront.layers.spectrogram",
    "audiofront.layers.mel_spectrogram",
    "audiofront.layers.normalization",
    "audiofront.layers.noise",
    "audiofront.layers.spec_augment",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
