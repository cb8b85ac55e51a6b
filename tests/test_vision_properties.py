"""Property tests of tinyms.vision: random images of any size, mode and dtype."""

import mindspore.dataset as ds  # imported before hypothesis runs: it raises the recursion limit
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from tinyms.vision import (
    adapt_channels,
    cifar10_transform,
    imagefolder_transform,
    make_transform,
    mnist_transform,
    postprocess,
    to_uint8_hwc,
)

TRANSFORMS = [
    mnist_transform,
    cifar10_transform,
    imagefolder_transform,
    make_transform("cifar10", image_size=20, channels=1),
    make_transform("mnist", image_size=40, channels=3),
]
TRANSFORM_IDS = ["mnist", "cifar10", "imagefolder", "cifar10-gray-20", "mnist-rgb-40"]

# Pillow modes reached by converting an RGB image, plus I;16 built from uint16 samples.
CONVERTED_MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "YCbCr", "HSV", "LAB", "I", "F"]

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

sides = st.integers(min_value=1, max_value=48)


@st.composite
def pil_images(draw):
    height, width = draw(sides), draw(sides)
    mode = draw(st.sampled_from([*CONVERTED_MODES, "I;16"]))
    if mode == "I;16":
        samples = draw(arrays(np.uint16, (height, width)))
        return Image.fromarray(samples)
    rgb = draw(arrays(np.uint8, (height, width, 3)))
    return Image.fromarray(rgb).convert(mode)


@st.composite
def array_images(draw):
    height, width = draw(sides), draw(sides)
    shape = draw(st.sampled_from([(height, width), (height, width, 1), (height, width, 2),
                                  (height, width, 3), (height, width, 4)]))
    dtype = draw(st.sampled_from([np.uint8, np.uint16, np.int32, np.int64, np.float32,
                                  np.float64, np.bool_]))
    if np.issubdtype(dtype, np.floating):
        elements = st.floats(min_value=-0.5, max_value=1.5, width=32)
        return draw(arrays(dtype, shape, elements=elements))
    if dtype in (np.int32, np.int64):
        return draw(arrays(dtype, shape, elements=st.integers(-1000, 1000)))
    return draw(arrays(dtype, shape))


@pytest.mark.parametrize("transform", TRANSFORMS, ids=TRANSFORM_IDS)
@PROPERTY_SETTINGS
@given(image=st.one_of(pil_images(), array_images()))
def test_any_image_gives_declared_shape(transform, image):
    out = transform(image)

    assert out.shape == (transform.channels, transform.image_size, transform.image_size)
    assert out.dtype == np.float32
    assert np.all(np.isfinite(out))
    low = (0.0 - max(transform.mean)) / min(transform.std)
    high = (1.0 - min(transform.mean)) / min(transform.std)
    assert out.min() >= low - 1e-4
    assert out.max() <= high + 1e-4


@pytest.mark.parametrize("transform", TRANSFORMS, ids=TRANSFORM_IDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_dataset_path_equals_single_image(transform, data):
    height, width = data.draw(sides), data.draw(sides)
    channels = data.draw(st.sampled_from([1, 3]))
    image = data.draw(arrays(np.uint8, (height, width, channels)))
    dataset = ds.NumpySlicesDataset({"image": image[None], "label": np.array([1])},
                                    shuffle=False)
    rows = list(transform.apply_ds(dataset, batch_size=1)
                .create_dict_iterator(output_numpy=True, num_epochs=1))

    np.testing.assert_array_equal(rows[0]["image"][0], transform(image))


@PROPERTY_SETTINGS
@given(image=array_images(), channels=st.sampled_from([1, 3]))
def test_adapt_channels_shape_and_idempotence(image, channels):
    converted = adapt_channels(to_uint8_hwc(image), channels)

    assert converted.dtype == np.uint8
    assert converted.shape == image.shape[:2] + (channels,)
    np.testing.assert_array_equal(adapt_channels(converted, channels), converted)


@PROPERTY_SETTINGS
@given(gray=arrays(np.uint8, st.tuples(sides, sides)))
def test_gray_round_trip_through_rgb(gray):
    rgb = adapt_channels(gray[:, :, None], 3)

    np.testing.assert_array_equal(adapt_channels(rgb, 1)[:, :, 0], gray)


@PROPERTY_SETTINGS
@given(
    logits=arrays(np.float64, st.integers(1, 30), elements=st.floats(-50, 50)),
    strategy=st.sampled_from(["TOP1_CLASS", "TOP5_CLASS"]),
)
def test_postprocess_ranks_by_probability(logits, strategy):
    results = postprocess(logits, None, strategy)
    expected_count = 1 if strategy == "TOP1_CLASS" else min(5, logits.size)
    exponentials = np.exp(logits - logits.max())
    probabilities = exponentials / exponentials.sum()

    assert len(results) == expected_count
    assert results[0].score == pytest.approx(probabilities.max())
    assert [r.index for r in results] == sorted({r.index for r in results},
                                                key=lambda i: (-probabilities[i], i))
    for result in results:
        assert 0.0 <= result.score <= 1.0
        assert result.score == pytest.approx(probabilities[result.index])
