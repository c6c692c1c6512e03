"""Every case of the shared table (audiofront/tools/cases.py) through
`audiofront.testing.run_layer_test`: config round trip, build and shapes, weight counts,
dtype policy, compiled equals eager (traced once, no torch graph break), `.keras` round trip.
And the table itself: every public layer has its cases."""

import keras
import pytest

import audiofront
from audiofront.catalog import LAYERS
from audiofront.testing import run_layer_test
from audiofront.tools.cases import CASES, example, tagged
from conftest import fsdd_root


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_case(case):
    fsdd_root()  # the inputs are FSDD speech
    params, x = example(case)
    run_layer_test(getattr(audiofront, case.layer), params, x, expected_weights=case.weights)


def test_every_public_layer_has_exactly_one_parity_case():
    parity = [c.layer for c in tagged("parity")]
    assert sorted(parity) == sorted(LAYERS)


def test_case_ids_are_unique_and_layers_public():
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.layer for c in CASES} <= set(LAYERS)


def test_layers_registered_under_audiofront_package():
    for name in LAYERS:
        cls = getattr(audiofront, name)
        assert keras.saving.get_registered_name(cls) == f"audiofront>{name}"
        assert getattr(audiofront.layers, name) is cls
