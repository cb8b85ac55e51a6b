"""Padded batches: a few compiled shapes, the same answers as single images."""

import numpy as np
import pytest

from tinyms.serving.config import ServableSpec
from tinyms.serving.core import bucket_size, load_servable, predict


@pytest.mark.parametrize(
    "count,expected", [(1, 1), (2, 2), (3, 4), (4, 4), (5, 8), (8, 8), (9, 16), (16, 16)]
)
def test_bucket_size_is_next_power_of_two(count, expected):
    assert bucket_size(count) == expected


def test_padded_batch_matches_single_images(tmp_path):
    from tinyms.model import Model, lenet5

    checkpoint = Model(lenet5(class_num=10)).save_checkpoint(tmp_path / "lenet5.ckpt")
    servable = load_servable(ServableSpec(name="lenet5_mnist", model="lenet5", dataset="mnist",
                                          checkpoint=checkpoint))
    rng = np.random.default_rng(0)
    images = rng.random((3, 1, 32, 32), dtype=np.float32)
    batched = predict(servable, images)
    assert batched.shape == (3, 10)
    for row, image in zip(batched, images):
        np.testing.assert_allclose(row, predict(servable, image[None])[0], rtol=1e-5, atol=1e-6)
