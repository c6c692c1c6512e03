"""Every layer, default arguments, exported by Keras's ``model.export`` in each format of the
current backend, run in the format's own runtime (onnxruntime, TensorFlow, LiteRT) against
the Keras model: within the contract's bound, the batch left dynamic where the format
allows it, and no random op left in the artifact (`audiofront.tools.export`). A format whose
converter or runtime is not installed is skipped; the nox sessions install them all."""

import keras
import numpy as np
import pytest

import audiofront
from audiofront.catalog import LAYERS
from audiofront.layers._base import exporting
from audiofront.testing import assert_linear_close, assert_raises_naming
from audiofront.tools import export

BACKEND = keras.backend.backend()
# Keras exports torch models to LiteRT through litert_torch with the batch fixed at 1.
FIXED_BATCH = {("torch", "litert"): "1"}


@pytest.mark.parametrize("fmt", export.FORMATS[BACKEND])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_exported_layer_matches_keras(layer, fmt, tmp_path):
    need = export.missing(BACKEND, fmt)
    if need:
        pytest.skip(f"{fmt} on {BACKEND} needs {', '.join(need)}")
    cell = export.check_cell(layer, fmt, str(tmp_path))
    assert not cell["random_ops"], cell
    assert cell["error"] <= cell["bound"], cell
    assert cell["batch"] == FIXED_BATCH.get((BACKEND, fmt), "dynamic"), cell
    assert cell["ok"], cell


def test_exporting_is_read_from_the_exporter_on_the_stack():
    assert not exporting()
    scope = {"__name__": "keras.src.export.fake", "exporting": exporting}
    exec("def trace():\n    return exporting()", scope)
    assert scope["trace"]()


# ------------------------------------------------------------------ streaming models


@pytest.mark.parametrize("fmt", export.FORMATS[BACKEND])
def test_stream_step_exports_with_explicit_state(fmt, tmp_path):
    """`stateless_stream` of a stateful MelSpectrogram + PCEN: chunk after chunk through the
    artifact, states fed back, equal the Keras stateful model on the same chunks."""
    need = export.missing(BACKEND, fmt)
    if need:
        pytest.skip(f"{fmt} on {BACKEND} needs {', '.join(need)}")
    cell = export.check_stream_cell(fmt, str(tmp_path))
    assert cell["error"] <= cell["bound"] and not cell["random_ops"], cell


@pytest.mark.parametrize("fmt", [f for f in export.FORMATS[BACKEND] if f != "tf_saved_model"])
def test_stateful_model_refuses_a_format_that_freezes_its_state(fmt, tmp_path):
    if export.missing(BACKEND, fmt):
        pytest.skip(f"{fmt} on {BACKEND} is not installed")
    model = export.stream_model()
    model(np.zeros(model.inputs[0].shape, "float32"))
    with pytest.raises(Exception, match="stateless_stream"):
        export.export(model, fmt, str(tmp_path), audiofront.stream_signature(model))


def test_stateless_stream_needs_a_stateful_layer():
    model, _ = export.default_model("MelSpectrogram")
    assert_raises_naming(lambda: audiofront.stateless_stream(model), ["model", "stateful"])


@pytest.mark.skipif("tf_saved_model" not in export.FORMATS[BACKEND], reason="no tf_saved_model")
def test_stateful_saved_model_carries_its_state(tmp_path):
    """A SavedModel keeps variables: the stateful model itself streams in TensorFlow."""
    if export.missing(BACKEND, "tf_saved_model"):
        pytest.skip("tensorflow is not installed")
    model = export.stream_model()
    size = model.inputs[0].shape[1]
    waves = np.random.default_rng(0).standard_normal((2, 4 * size)).astype("float32")
    pieces = np.split(waves, 4, axis=1)
    model(pieces[0])
    model.get_layer(index=1).reset_state()
    model.get_layer(index=2).reset_state()
    path = export.export(model, "tf_saved_model", str(tmp_path), audiofront.stream_signature(model))
    loaded = pytest.importorskip("tensorflow").saved_model.load(path)  # one runtime state
    for piece in pieces:
        reference = keras.ops.convert_to_numpy(model(piece))
        assert_linear_close(np.asarray(loaded.serve(piece)), reference)
