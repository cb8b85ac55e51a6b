"""tinyms.vision transforms: building by name, one image in any mode, and datasets."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import tinyms  # noqa: F401  (sets CPU defaults before MindSpore loads)
from tinyms import catalog
from tinyms.errors import DatasetError, InvalidArgumentError, UnknownNameError
from tinyms.vision import (
    TRANSFORMS,
    Cifar10Transform,
    DatasetTransform,
    ImageFolderTransform,
    MnistTransform,
    cifar10_transform,
    imagefolder_transform,
    make_transform,
    mnist_transform,
    transform_for,
)

DEFAULT_TRANSFORMS = {
    "mnist": mnist_transform,
    "cifar10": cifar10_transform,
    "imagefolder": imagefolder_transform,
}


def asymmetric_image(height, width, channels, seed=0):
    """Return a uint8 HWC image whose every row, column and channel differ."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
    image[0, 0, :] = 255
    image[-1, -1, :] = 0
    return image


def dataset_of(images, labels=None):
    import mindspore.dataset as ds

    images = np.stack(images)
    if labels is None:
        labels = np.arange(len(images), dtype=np.int64)
    return ds.NumpySlicesDataset({"image": images, "label": labels}, shuffle=False)


def pipeline_rows(transform, dataset, **kwargs):
    mapped = transform.apply_ds(dataset, **kwargs)
    return list(mapped.create_dict_iterator(output_numpy=True, num_epochs=1))


# --- building transforms by name -----------------------------------------------------


def test_import_leaves_mindspore_dataset_unloaded():
    code = (
        "import sys, tinyms.vision; from tinyms.vision import mnist_transform; "
        "print('mindspore.dataset' in sys.modules, 'mindspore' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.split() == ["False", "False"]


def test_ops_reexported_by_name():
    import mindspore.dataset.transforms as ms_transforms
    import mindspore.dataset.vision as ms_vision

    import tinyms.vision as vision

    for name in ("Resize", "Rescale", "Normalize", "HWC2CHW", "RandomCrop",
                 "RandomHorizontalFlip", "CenterCrop", "Decode", "Inter"):
        assert getattr(vision, name) is getattr(ms_vision, name), name
    assert vision.TypeCast is ms_transforms.TypeCast
    assert "Resize" in vision.__all__
    with pytest.raises(AttributeError, match="NoSuchOp"):
        vision.NoSuchOp  # noqa: B018


def test_every_catalog_transform_is_registered():
    assert TRANSFORMS.names() == catalog.names("transform")
    for name in catalog.names("transform"):
        transform = TRANSFORMS.build(name)
        assert isinstance(transform, DatasetTransform)
        assert transform.name == name


def test_every_dataset_names_a_registered_transform():
    for dataset in catalog.names("dataset"):
        transform = make_transform(dataset)
        assert transform.name == catalog.dataset_info(dataset)["transform"]


@pytest.mark.parametrize(
    ("transform", "cls", "size", "channels"),
    [
        (mnist_transform, MnistTransform, 32, 1),
        (cifar10_transform, Cifar10Transform, 32, 3),
        (imagefolder_transform, ImageFolderTransform, 224, 3),
    ],
)
def test_default_instances(transform, cls, size, channels):
    assert isinstance(transform, cls)
    assert transform.image_size == size
    assert transform.channels == channels
    assert len(transform.mean) == channels
    assert len(transform.std) == channels


def test_default_instances_use_dataset_catalog():
    mnist = catalog.dataset_info("mnist")
    cifar10 = catalog.dataset_info("cifar10")

    assert list(mnist_transform.mean) == mnist["mean"]
    assert list(mnist_transform.std) == mnist["std"]
    assert mnist_transform.class_names == mnist["class_names"]
    assert list(cifar10_transform.mean) == cifar10["mean"]
    assert cifar10_transform.class_names == cifar10["class_names"]


def test_make_transform_image_size():
    transform = make_transform("cifar10", image_size=224)
    out = transform(asymmetric_image(32, 32, 3))

    assert isinstance(transform, Cifar10Transform)
    assert out.shape == (3, 224, 224)
    assert out.dtype == np.float32


def test_make_transform_other_dataset_statistics():
    transform = make_transform("cifar100")
    info = catalog.dataset_info("cifar100")

    assert isinstance(transform, Cifar10Transform)
    assert list(transform.mean) == info["mean"]
    assert transform.class_names == info["class_names"]
    assert len(transform.class_names) == 100


def test_make_transform_accepts_transform_name():
    transform = make_transform("imagefolder", image_size=64)

    assert isinstance(transform, ImageFolderTransform)
    assert transform(asymmetric_image(50, 70, 3)).shape == (3, 64, 64)


def test_make_transform_overrides():
    transform = make_transform("mnist", channels=3, mean=[0.5], std=[0.25, 0.5, 1.0],
                               class_names=list("abcdefghij"))

    assert transform.channels == 3
    assert transform.mean == (0.5, 0.5, 0.5)
    assert transform.std == (0.25, 0.5, 1.0)
    assert transform.postprocess(np.eye(10)[2] * 9)[0].label == "c"


def test_make_transform_unknown_name():
    with pytest.raises(UnknownNameError) as info:
        make_transform("cifar11")
    message = str(info.value)

    assert "'cifar11'" in message
    assert "cifar10" in message
    assert "imagefolder" in message


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"image_size": 4}, "image_size: got 4"),
        ({"image_size": 32.0}, "image_size: got 32.0"),
        ({"channels": 2}, "channels: got 2"),
        ({"imagesize": 32}, "Did you mean 'image_size'"),
        ({"mean": [0.1, 0.2]}, "mean has 2 values"),
        ({"std": [0.0]}, "std values must be > 0"),
        ({"mean": ["a"]}, "mean must be a list of numbers"),
    ],
)
def test_make_transform_invalid_args(kwargs, expected):
    with pytest.raises(InvalidArgumentError) as info:
        make_transform("mnist", **kwargs)

    assert expected in str(info.value)


def test_transform_for_uses_network_input():
    lenet = transform_for("lenet5", "mnist")
    resnet = transform_for("resnet50", "cifar10")

    assert (lenet.image_size, lenet.channels) == (32, 1)
    assert isinstance(lenet, MnistTransform)
    assert (resnet.image_size, resnet.channels) == (224, 3)
    assert isinstance(resnet, Cifar10Transform)


def test_transform_for_converts_channels():
    gray_cifar = transform_for("lenet5", "cifar10")
    rgb_mnist = transform_for("resnet50", "mnist")
    mean = catalog.dataset_info("cifar10")["mean"]

    assert gray_cifar.channels == 1
    assert gray_cifar.mean[0] == pytest.approx(0.299 * mean[0] + 0.587 * mean[1] + 0.114 * mean[2])
    assert gray_cifar(asymmetric_image(32, 32, 3)).shape == (1, 32, 32)
    assert rgb_mnist.channels == 3
    assert rgb_mnist.mean == (0.1307,) * 3
    assert rgb_mnist(asymmetric_image(28, 28, 1)).shape == (3, 224, 224)


def test_transform_for_network_args_and_overrides():
    transform = transform_for("lenet5", "cifar10", network_args={"num_channel": 3},
                              image_size=64)

    assert (transform.image_size, transform.channels) == (64, 3)


def test_transform_for_unknown_network():
    with pytest.raises(UnknownNameError, match="lenet6"):
        transform_for("lenet6", "mnist")


def test_transform_for_non_square_network():
    from tinyms.model.registry import register_network

    @register_network("vision_test_wide", input_size=(32, 64), channels_arg="channels",
                      default_channels=3, replace=True)
    def vision_test_wide(*, class_num=10, channels=3):
        raise NotImplementedError

    with pytest.raises(InvalidArgumentError, match="32x64"):
        transform_for("vision_test_wide", "cifar10")
    assert transform_for("vision_test_wide", "cifar10", image_size=48).image_size == 48


# --- one image -----------------------------------------------------------------------


def rgb_reference(height=20, width=30):
    return asymmetric_image(height, width, 3, seed=5)


def luma(rgb):
    weights = np.array([299, 587, 114], dtype=np.uint32)
    return ((rgb.astype(np.uint32) @ weights + 500) // 1000).astype(np.uint8)


@pytest.mark.parametrize("name", sorted(DEFAULT_TRANSFORMS))
@pytest.mark.parametrize(
    "mode", ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "YCbCr", "HSV", "I", "F", "I;16"]
)
def test_any_pil_mode_gives_network_shape(name, mode):
    transform = DEFAULT_TRANSFORMS[name]
    if mode == "I;16":
        image = Image.fromarray(rgb_reference()[:, :, 0].astype(np.uint16) * 257)
    else:
        image = Image.fromarray(rgb_reference()).convert(mode)
    out = transform(image)

    assert image.mode == mode
    assert out.shape == (transform.channels, transform.image_size, transform.image_size)
    assert out.dtype == np.float32
    assert np.all(np.isfinite(out))


def test_gray_into_rgb_network_copies_band():
    gray = rgb_reference()[:, :, 0]
    from_gray = cifar10_transform(Image.fromarray(gray))
    from_rgb = cifar10_transform(np.repeat(gray[:, :, None], 3, axis=2))

    np.testing.assert_array_equal(from_gray, from_rgb)


def test_rgb_into_gray_network_uses_luma():
    rgb = rgb_reference()
    from_rgb = mnist_transform(Image.fromarray(rgb))
    from_luma = mnist_transform(luma(rgb))

    np.testing.assert_array_equal(from_rgb, from_luma)


def test_alpha_is_dropped():
    rgb = rgb_reference()
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 7, np.uint8)], axis=2)

    np.testing.assert_array_equal(cifar10_transform(Image.fromarray(rgba)),
                                  cifar10_transform(rgb))
    np.testing.assert_array_equal(cifar10_transform(rgba), cifar10_transform(rgb))


@pytest.mark.parametrize(
    "make_image",
    [
        pytest.param(lambda g: Image.fromarray(g.astype(np.uint16) * 257), id="I;16"),
        pytest.param(lambda g: Image.fromarray(g.astype(np.int32)), id="I"),
        pytest.param(lambda g: Image.fromarray(g.astype(np.float32) / 255), id="F"),
        pytest.param(lambda g: g.astype(np.uint16) * 257, id="uint16"),
        pytest.param(lambda g: g.astype(np.int64), id="int64"),
        pytest.param(lambda g: g.astype(np.float64) / 255, id="float64"),
        pytest.param(lambda g: g[:, :, None], id="HW1"),
    ],
)
def test_sample_scales_match_8bit(make_image):
    gray = rgb_reference()[:, :, 1]
    expected = mnist_transform(Image.fromarray(gray))

    np.testing.assert_array_equal(mnist_transform(make_image(gray)), expected)


def test_out_of_range_samples_are_clipped():
    values = np.array([[-5, 300], [0, 255]], dtype=np.int64)
    clipped = np.array([[0, 255], [0, 255]], dtype=np.uint8)

    np.testing.assert_array_equal(mnist_transform(values), mnist_transform(clipped))
    np.testing.assert_array_equal(mnist_transform(values.astype(np.float32) / 255),
                                  mnist_transform(clipped))


def test_bool_image():
    mask = rgb_reference()[:, :, 0] > 128

    np.testing.assert_array_equal(mnist_transform(mask),
                                  mnist_transform(mask.astype(np.uint8) * 255))


def test_channel_order_is_transpose():
    image = asymmetric_image(32, 32, 3, seed=9)
    out = cifar10_transform(image)
    mean = np.array(cifar10_transform.mean, dtype=np.float64)
    std = np.array(cifar10_transform.std, dtype=np.float64)
    expected = ((image / 255.0 - mean) / std).transpose(2, 0, 1)

    assert out.shape == (3, 32, 32)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert not np.allclose(out, expected.transpose(1, 2, 0).reshape(3, 32, 32), atol=1e-3)


def test_mnist_values_at_native_size():
    transform = make_transform("mnist", image_size=28)
    image = asymmetric_image(28, 28, 1, seed=4)
    expected = (image[:, :, 0] / 255.0 - 0.1307) / 0.3081

    np.testing.assert_allclose(transform(image)[0], expected, rtol=1e-5, atol=1e-5)


def test_encoded_bytes_and_path(tmp_path):
    image = Image.fromarray(rgb_reference())
    path = tmp_path / "picture.png"
    image.save(path)
    expected = cifar10_transform(image)

    np.testing.assert_array_equal(cifar10_transform(path.read_bytes()), expected)
    np.testing.assert_array_equal(cifar10_transform(str(path)), expected)
    np.testing.assert_array_equal(cifar10_transform(path), expected)


def test_gif_bytes_read_by_pillow():
    image = Image.fromarray(rgb_reference()).convert("P")
    buffer = io.BytesIO()
    image.save(buffer, "GIF")
    expected = cifar10_transform(Image.open(io.BytesIO(buffer.getvalue())))

    np.testing.assert_array_equal(cifar10_transform(buffer.getvalue()), expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"not an image", "Cannot decode an image from 12 bytes"),
        ("/no/such/picture.jpg", "/no/such/picture.jpg"),
        (np.zeros((3, 32, 32), np.uint8), "transpose"),
        (np.zeros((0, 5), np.uint8), "at least 1x1"),
        (np.zeros((4, 4), np.complex64), "complex64"),
        (object(), "object"),
        ([[1, 2], [3, 4]], "list"),
    ],
)
def test_invalid_image_rejected(value, expected):
    with pytest.raises(InvalidArgumentError) as info:
        mnist_transform(value)

    assert expected in str(info.value)


# --- the dataset path --------------------------------------------------------------


@pytest.mark.parametrize(
    "transform",
    [mnist_transform, cifar10_transform, imagefolder_transform,
     make_transform("cifar10", image_size=48), make_transform("mnist", image_size=20)],
    ids=["mnist", "cifar10", "imagefolder", "cifar10-48", "mnist-20"],
)
def test_dataset_path_matches_single_image(transform):
    image = asymmetric_image(37, 23, transform.channels, seed=11)
    rows = pipeline_rows(transform, dataset_of([image]), batch_size=1)

    assert len(rows) == 1
    batch = rows[0]["image"]
    assert batch.shape == (1, transform.channels, transform.image_size, transform.image_size)
    assert batch.dtype == np.float32
    np.testing.assert_array_equal(batch[0], transform(image))
    np.testing.assert_array_equal(batch[0], transform(Image.fromarray(image.squeeze())))


@pytest.mark.parametrize(
    ("transform", "source_channels"),
    [(cifar10_transform, 1), (mnist_transform, 3), (cifar10_transform, 4)],
    ids=["gray-to-rgb", "rgb-to-gray", "rgba-to-rgb"],
)
def test_dataset_path_converts_channels(transform, source_channels):
    import mindspore.dataset as ds

    images = [asymmetric_image(19, 26, source_channels, seed=s) for s in range(3)]

    def generate():
        for index, image in enumerate(images):
            yield image, np.int64(index)

    dataset = ds.GeneratorDataset(generate, column_names=["image", "label"], shuffle=False)
    rows = pipeline_rows(transform, dataset, batch_size=3)

    assert rows[0]["image"].shape[1] == transform.channels
    for index, image in enumerate(images):
        np.testing.assert_array_equal(rows[0]["image"][index], transform(image))


def test_dataset_path_reads_other_dtypes():
    image = asymmetric_image(12, 9, 1, seed=2).astype(np.float32) / 255
    rows = pipeline_rows(mnist_transform, dataset_of([image]), batch_size=1)

    np.testing.assert_array_equal(rows[0]["image"][0], mnist_transform(image))


@pytest.mark.parametrize("image_format", ["png", "jpg"])
def test_image_folder_dataset_decodes(tmp_path, image_format):
    import mindspore.dataset as ds
    from datagen import write_image_folder

    root = write_image_folder(tmp_path, per_class=2, size=(45, 30), image_format=image_format)
    files = sorted(root.glob(f"*/*.{image_format}"))
    dataset = ds.ImageFolderDataset(str(root), shuffle=False, decode=False)
    transform = make_transform("imagefolder", image_size=32)
    rows = pipeline_rows(transform, dataset, batch_size=len(files))
    images, labels = rows[0]["image"], rows[0]["label"]

    assert images.shape == (len(files), 3, 32, 32)
    assert labels.dtype == np.int32
    for out, path in zip(images, files):
        np.testing.assert_array_equal(out, transform(path))
        if image_format == "png":
            np.testing.assert_array_equal(out, transform(Image.open(path)))


def test_image_folder_gray_network(tmp_path):
    import mindspore.dataset as ds
    from datagen import write_image_folder

    root = write_image_folder(tmp_path, per_class=1, size=(20, 24), mode="L")
    files = sorted(root.glob("*/*.png"))
    transform = make_transform("imagefolder", image_size=16, channels=1)
    dataset = ds.ImageFolderDataset(str(root), shuffle=False, decode=False)
    rows = pipeline_rows(transform, dataset, batch_size=len(files))

    assert rows[0]["image"].shape == (len(files), 1, 16, 16)
    for out, path in zip(rows[0]["image"], files):
        np.testing.assert_array_equal(out, transform(Image.open(path)))


def test_mnist_dataset_pipeline(tmp_path):
    import mindspore.dataset as ds
    from datagen import write_mnist_idx

    root = write_mnist_idx(tmp_path, n_train=70, n_test=10)
    dataset = ds.MnistDataset(str(root / "train"), shuffle=False)
    raw = next(dataset.create_dict_iterator(output_numpy=True, num_epochs=1))
    rows = pipeline_rows(mnist_transform, dataset, batch_size=32)

    assert [row["image"].shape for row in rows] == [(32, 1, 32, 32), (32, 1, 32, 32),
                                                   (6, 1, 32, 32)]
    assert rows[0]["label"].dtype == np.int32
    assert rows[0]["label"][0] == raw["label"]
    np.testing.assert_array_equal(rows[0]["image"][0], mnist_transform(raw["image"]))


def test_apply_ds_batches_and_repeats():
    images = [asymmetric_image(32, 32, 3, seed=s) for s in range(10)]

    evaluation = pipeline_rows(cifar10_transform, dataset_of(images), batch_size=4)
    training = pipeline_rows(cifar10_transform, dataset_of(images), batch_size=4,
                             training=True)
    repeated = pipeline_rows(cifar10_transform, dataset_of(images), batch_size=4,
                             repeat_size=3)

    assert [len(row["label"]) for row in evaluation] == [4, 4, 2]
    assert [len(row["label"]) for row in training] == [4, 4]
    assert len(repeated) == 9
    np.testing.assert_array_equal(repeated[3]["image"], evaluation[0]["image"])
    assert evaluation[0]["label"].dtype == np.int32
    assert evaluation[0]["label"].tolist() == [0, 1, 2, 3]


def test_augmentation_only_when_training():
    import mindspore.dataset as ds

    image = asymmetric_image(32, 32, 3, seed=7)
    images = [image] * 16
    previous_seed = ds.config.get_seed()
    ds.config.set_seed(1234)
    try:
        evaluation = pipeline_rows(cifar10_transform, dataset_of(images),
                                   batch_size=16)[0]["image"]
        training = pipeline_rows(cifar10_transform, dataset_of(images), batch_size=16,
                                 training=True)[0]["image"]
    finally:
        ds.config.set_seed(previous_seed)
    expected = cifar10_transform(image)

    for out in evaluation:
        np.testing.assert_array_equal(out, expected)
    changed = sum(not np.array_equal(out, expected) for out in training)
    assert changed >= 8, f"only {changed} of 16 training images were augmented"
    assert training.shape == evaluation.shape


def test_mnist_training_has_no_augmentation():
    images = [asymmetric_image(28, 28, 1, seed=s) for s in range(4)]
    evaluation = pipeline_rows(mnist_transform, dataset_of(images), batch_size=4)
    training = pipeline_rows(mnist_transform, dataset_of(images), batch_size=4, training=True)

    np.testing.assert_array_equal(training[0]["image"], evaluation[0]["image"])


def test_apply_ds_parallel_workers():
    images = [asymmetric_image(30, 30, 1, seed=s) for s in range(6)]
    rows = pipeline_rows(mnist_transform, dataset_of(images), batch_size=6,
                         num_parallel_workers=2)

    for out, image in zip(rows[0]["image"], images):
        np.testing.assert_array_equal(out, mnist_transform(image))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"repeat_size": 1.5}, "repeat_size must be an integer >= 1, got 1.5"),
        ({"num_parallel_workers": 0}, "num_parallel_workers must be an integer >= 1, got 0"),
        ({"training": "yes"}, "training must be True or False, got 'yes'"),
    ],
)
def test_apply_ds_invalid_args(kwargs, expected):
    with pytest.raises(InvalidArgumentError) as info:
        mnist_transform.apply_ds(dataset_of([asymmetric_image(8, 8, 1)]), **kwargs)

    assert expected in str(info.value)


def test_apply_ds_rejects_non_dataset():
    with pytest.raises(InvalidArgumentError, match="transform\\(image\\)"):
        mnist_transform.apply_ds(np.zeros((28, 28), np.uint8))


def test_apply_ds_needs_image_column():
    import mindspore.dataset as ds

    dataset = ds.NumpySlicesDataset({"pixels": np.zeros((2, 8, 8, 1), np.uint8)}, shuffle=False)
    with pytest.raises(DatasetError, match=r"\['pixels'\]"):
        mnist_transform.apply_ds(dataset)


def test_apply_ds_empty_dataset():
    import mindspore.dataset as ds

    def generate():
        return iter(())

    dataset = ds.GeneratorDataset(generate, column_names=["image", "label"], shuffle=False)

    assert pipeline_rows(mnist_transform, dataset) == []


def test_single_image_calls_from_threads():
    from concurrent.futures import ThreadPoolExecutor

    images = [asymmetric_image(30 + s, 40 - s, 3, seed=s) for s in range(8)]
    transform = make_transform("cifar10", image_size=24)
    expected = [transform(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(transform, images * 4))

    for index, out in enumerate(outputs):
        np.testing.assert_array_equal(out, expected[index % len(images)])
