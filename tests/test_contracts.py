"""Module contracts that the other test files do not already cover.

Covered elsewhere, and not repeated here: the design note's module table and
every ``__all__`` of the library (tests/test_seed.py); a training step that
reaches every parameter of every network, output shapes at batch 2, exports
(tests/test_networks.py); transforms on any image size and mode, single-image
and dataset paths (tests/test_vision_properties.py, test_vision_transforms.py);
losses, optimizers and metrics against numpy references with sparse and one-hot
labels (tests/test_training_parts.py); catalog and registries entry for entry
(tests/test_catalog.py).
"""

from __future__ import annotations

import importlib
import pkgutil

import mindspore as ms
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples

import tinyms.generator
from tinyms import catalog
from tinyms.model.registry import get_network, list_networks

NETWORKS = [name for name in list_networks() if not catalog.network_info(name).get("user")]
GENERATOR_MODULES = sorted(
    f"tinyms.generator.{info.name}" for info in pkgutil.iter_modules(tinyms.generator.__path__)
)


@pytest.mark.parametrize("name", NETWORKS)
@settings(max_examples=examples(1))
@given(batch=st.integers(1, 3), class_num=st.integers(1, 12))
def test_network_output_is_batch_by_classes(name, batch, class_num):
    info = catalog.network_info(name)
    height, width = info["input_size"]
    channels = info.get("default_channels", 3)
    network = get_network(name, **{info["class_num_arg"]: class_num})
    network.set_train(False)
    x = np.random.default_rng(batch).standard_normal((batch, channels, height, width))

    logits = network(ms.Tensor(x.astype(np.float32)))

    assert tuple(logits.shape) == (batch, class_num)
    assert np.isfinite(logits.asnumpy()).all()


@pytest.mark.parametrize("module_name", GENERATOR_MODULES)
def test_generator_module_all_resolves(module_name):
    module = importlib.import_module(module_name)

    assert module.__all__, f"{module_name} has an empty __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names missing attributes: {missing}"
