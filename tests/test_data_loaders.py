"""Tests of the dataset loaders, get_dataset and split_dataset on on-disk datasets."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
from datagen import write_image_folder, write_mnist_idx

from tinyms import catalog
from tinyms.data import (
    DATASETS,
    Cifar10Dataset,
    Cifar100Dataset,
    ImageFolderDataset,
    MnistDataset,
    get_dataset,
    split_dataset,
)
from tinyms.errors import DatasetError, InvalidArgumentError, UnknownNameError


def rows(dataset) -> list[dict[str, np.ndarray]]:
    return list(dataset.create_dict_iterator(output_numpy=True, num_epochs=1))


def image_digests(dataset) -> list[str]:
    return [hashlib.sha256(row["image"].tobytes()).hexdigest() for row in rows(dataset)]


# --- MNIST ------------------------------------------------------------------------------


def test_mnist_root_by_usage(mnist_root):
    assert MnistDataset(mnist_root, usage="train").get_dataset_size() == 200
    assert MnistDataset(mnist_root, usage="test").get_dataset_size() == 100
    assert MnistDataset(str(mnist_root)).get_dataset_size() == 300
    assert MnistDataset(mnist_root, usage="all").get_dataset_size() == 300


def test_mnist_columns_and_types(mnist_root):
    row = rows(MnistDataset(mnist_root, usage="test", shuffle=False))[0]
    assert row["image"].shape == (28, 28, 1)
    assert row["image"].dtype == np.uint8
    assert 0 <= int(row["label"]) <= 9


def test_mnist_split_folder_directly(mnist_root):
    assert MnistDataset(mnist_root / "train").get_dataset_size() == 200
    assert MnistDataset(mnist_root / "test", usage="test").get_dataset_size() == 100


def test_mnist_flat_folder_both_splits(tmp_path):
    root = write_mnist_idx(tmp_path / "flat", 30, 20, layout="flat")
    assert MnistDataset(root).get_dataset_size() == 50
    assert MnistDataset(root, usage="test").get_dataset_size() == 20


def test_mnist_both_splits_shuffle_and_cap(mnist_root):
    capped = MnistDataset(mnist_root, shuffle=True, num_samples=40)
    assert len(rows(capped)) == 40
    ordered = MnistDataset(mnist_root, shuffle=False)
    labels = [int(row["label"]) for row in rows(ordered)]
    train_labels = [int(row["label"]) for row in rows(MnistDataset(mnist_root, "train",
                                                                   shuffle=False))]
    assert labels[:200] == train_labels


def test_mnist_both_splits_sharded(mnist_root):
    sizes = [len(rows(MnistDataset(mnist_root, num_shards=2, shard_id=i))) for i in (0, 1)]
    assert sizes == [150, 150]


def test_mnist_empty_folder_names_files(tmp_path):
    with pytest.raises(DatasetError) as caught:
        MnistDataset(tmp_path)
    message = str(caught.value)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert name in message
    assert "download_dataset('mnist'" in message


def test_mnist_gz_only_folder_explains(tmp_path):
    write_mnist_idx(tmp_path, 10, 10, layout="flat", compress=True)
    with pytest.raises(DatasetError, match="compressed"):
        MnistDataset(tmp_path, usage="train")


def test_mnist_partial_split_names_missing(tmp_path):
    root = write_mnist_idx(tmp_path / "m", 10, 10)
    (root / "test" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte"):
        MnistDataset(root, usage="test")
    with pytest.raises(DatasetError, match="lacks t10k-labels-idx1-ubyte"):
        MnistDataset(root)
    assert MnistDataset(root, usage="train").get_dataset_size() == 10


def test_mnist_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        MnistDataset(tmp_path / "nowhere")


def test_invalid_usage_rejected(mnist_root):
    with pytest.raises(InvalidArgumentError, match="usage='valid'"):
        MnistDataset(mnist_root, usage="valid")


# --- CIFAR ------------------------------------------------------------------------------


def test_cifar10_root_by_usage(cifar10_root):
    assert Cifar10Dataset(cifar10_root, usage="train").get_dataset_size() == 50_000
    assert Cifar10Dataset(cifar10_root, usage="test").get_dataset_size() == 10_000
    assert Cifar10Dataset(cifar10_root, num_samples=100).get_dataset_size() == 100
    assert Cifar10Dataset(cifar10_root / "test").get_dataset_size() == 10_000


def test_cifar10_both_splits_size(cifar10_root):
    assert Cifar10Dataset(cifar10_root).get_dataset_size() == 60_000


def test_cifar10_rows(cifar10_root):
    row = rows(Cifar10Dataset(cifar10_root, usage="test", num_samples=1))[0]
    assert row["image"].shape == (32, 32, 3)
    assert row["image"].dtype == np.uint8
    assert 0 <= int(row["label"]) <= 9


def test_cifar10_wrong_layout_names_batches(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    with pytest.raises(DatasetError) as caught:
        Cifar10Dataset(tmp_path)
    message = str(caught.value)
    for index in range(1, 6):
        assert f"data_batch_{index}.bin" in message
    assert "test_batch.bin" in message


def test_cifar10_missing_batch_named(cifar10_root, tmp_path):
    partial = tmp_path / "train"
    partial.mkdir()
    for index in (1, 2, 4, 5):
        (partial / f"data_batch_{index}.bin").symlink_to(
            cifar10_root / "train" / f"data_batch_{index}.bin")
    with pytest.raises(DatasetError, match="lacks data_batch_3.bin"):
        Cifar10Dataset(tmp_path, usage="train")


def test_cifar10_truncated_batch_rejected(tmp_path):
    (tmp_path / "test_batch.bin").write_bytes(b"\x01" * 3073 * 100)
    with pytest.raises(DatasetError, match="full-size"):
        Cifar10Dataset(tmp_path, usage="test")


def test_cifar100_root_by_usage(cifar100_root):
    assert Cifar100Dataset(cifar100_root, usage="train").get_dataset_size() == 50_000
    assert Cifar100Dataset(cifar100_root, usage="test").get_dataset_size() == 10_000
    row = rows(Cifar100Dataset(cifar100_root, usage="test", num_samples=1))[0]
    assert set(row) == {"image", "coarse_label", "fine_label"}
    assert 0 <= int(row["fine_label"]) <= 99
    assert 0 <= int(row["coarse_label"]) <= 19


def test_cifar100_wrong_layout_names_files(tmp_path):
    with pytest.raises(DatasetError) as caught:
        Cifar100Dataset(tmp_path)
    assert "train.bin" in str(caught.value)
    assert "test.bin" in str(caught.value)


# --- image folders ------------------------------------------------------------------------


def test_image_folder_split_root(image_folder_root):
    assert ImageFolderDataset(image_folder_root, usage="train").get_dataset_size() == 12
    assert ImageFolderDataset(image_folder_root, usage="test").get_dataset_size() == 6
    assert ImageFolderDataset(image_folder_root).get_dataset_size() == 18


def test_image_folder_flat_decoded(tmp_path):
    root = write_image_folder(tmp_path / "pets", ("cat", "dog"), per_class=3, size=(20, 16))
    dataset = ImageFolderDataset(root, shuffle=False)
    samples = rows(dataset)
    assert len(samples) == 6
    assert samples[0]["image"].shape == (16, 20, 3)
    assert sorted({int(s["label"]) for s in samples}) == [0, 1]
    assert dataset.get_class_indexing() == {"cat": 0, "dog": 1}


def test_image_folder_grayscale_to_rgb(tmp_path):
    root = write_image_folder(tmp_path / "gray", ("a", "b"), per_class=1, mode="L")
    assert rows(ImageFolderDataset(root))[0]["image"].shape == (32, 32, 3)


def test_image_folder_without_classes(tmp_path):
    (tmp_path / "notes.txt").write_text("no images")
    with pytest.raises(DatasetError, match="<class name>/<image file>"):
        ImageFolderDataset(tmp_path)


# --- registry -----------------------------------------------------------------------------


def test_registry_matches_catalog():
    assert DATASETS.names() == catalog.names("dataset")
    for name in DATASETS.names():
        assert sorted(DATASETS.keyword_args(name)) == \
            sorted(catalog.dataset_info(name)["args"]), name


def test_get_dataset_by_name(mnist_root, image_folder_root, cifar10_root):
    assert get_dataset("mnist", mnist_root, "test").get_dataset_size() == 100
    assert get_dataset("mnist_sample", mnist_root, usage="train",
                       num_samples=5).get_dataset_size() == 5
    assert get_dataset("image_folder", image_folder_root, "train",
                       extensions=[".png"]).get_dataset_size() == 12
    assert get_dataset("cifar10", cifar10_root, "test", shuffle=False,
                       num_samples=7).get_dataset_size() == 7


def test_get_dataset_cifar100(cifar100_root):
    assert get_dataset("cifar100", cifar100_root, "test").get_dataset_size() == 10_000


def test_get_dataset_unknown_name(mnist_root):
    with pytest.raises(UnknownNameError, match="mnist_sample"):
        get_dataset("mnsit", mnist_root)


def test_get_dataset_invalid_argument(mnist_root):
    with pytest.raises(InvalidArgumentError, match="shuffle"):
        get_dataset("mnist", mnist_root, shuffle="yes")
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        get_dataset("mnist", mnist_root, batch_size=32)


def test_catalog_entries_complete():
    for name in ("mnist", "cifar10", "cifar100", "mnist_sample"):
        info = catalog.dataset_info(name)
        assert len(info["class_names"]) == info["class_num"], name
        assert len(info["mean"]) == len(info["std"]) == info["image_shape"][2], name
        for file_name, spec in info["download"]["files"].items():
            assert spec.get("md5") or spec.get("sha256"), file_name
            assert spec["size"] > 0, file_name
    assert catalog.dataset_info("image_folder")["class_num"] == "auto"


# --- split_dataset ------------------------------------------------------------------------


def test_split_sizes_disjoint_complete(mnist_root):
    source = MnistDataset(mnist_root, usage="train", shuffle=False)
    train, valid = split_dataset(source, valid_fraction=0.25, seed=3)

    train_digests, valid_digests = image_digests(train), image_digests(valid)

    assert len(train_digests) == 150
    assert len(valid_digests) == 50
    assert not set(train_digests) & set(valid_digests)
    assert sorted(train_digests + valid_digests) == sorted(image_digests(source))


def test_split_same_seed_same_parts(mnist_root):
    first = split_dataset(MnistDataset(mnist_root, usage="train"), 0.2, seed=7)[1]
    second = split_dataset(MnistDataset(mnist_root, usage="train"), 0.2, seed=7)[1]
    other = split_dataset(MnistDataset(mnist_root, usage="train"), 0.2, seed=8)[1]

    assert image_digests(first) == image_digests(second)
    assert set(image_digests(first)) != set(image_digests(other))


def test_split_keeps_pipeline(mnist_root):
    source = MnistDataset(mnist_root, usage="test").batch(10)
    train, valid = split_dataset(source, 0.2, seed=0)
    assert train.get_dataset_size() == 8
    assert valid.get_dataset_size() == 2


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, True, "0.1"])
def test_split_invalid_fraction(mnist_root, fraction):
    with pytest.raises(InvalidArgumentError, match="valid_fraction"):
        split_dataset(MnistDataset(mnist_root, usage="test"), fraction, seed=0)


def test_split_sharded_rejected(mnist_root):
    sharded = MnistDataset(mnist_root, usage="test", num_shards=2, shard_id=0)
    with pytest.raises(DatasetError, match="sharded"):
        split_dataset(sharded, 0.1, seed=0)


def test_split_concatenation_rejected(mnist_root):
    with pytest.raises(DatasetError, match="one random-access reader"):
        split_dataset(MnistDataset(mnist_root), 0.1, seed=0)


# --- import cost and re-exports --------------------------------------------------------------


def test_import_does_not_load_mindspore():
    code = ("import sys, tinyms.data; "
            "print('mindspore' in sys.modules, 'mindspore.dataset' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.split() == ["False", "False"]


def test_mindspore_readers_reexported():
    import mindspore.dataset as ms_dataset

    import tinyms.data

    assert tinyms.data.GeneratorDataset is ms_dataset.GeneratorDataset
    assert tinyms.data.NumpySlicesDataset is ms_dataset.NumpySlicesDataset
    data = tinyms.data.NumpySlicesDataset({"image": np.zeros((4, 2, 2, 1), np.uint8)},
                                          shuffle=False)
    assert data.get_dataset_size() == 4
    for name in tinyms.data.__all__:
        assert getattr(tinyms.data, name) is not None, name


def test_loader_copies_nothing(mnist_root, tmp_path):
    """Loaders read in place: the folder is unchanged after use."""
    copy = shutil.copytree(mnist_root, tmp_path / "copy")
    before = sorted(p.relative_to(copy) for p in copy.rglob("*"))
    rows(MnistDataset(copy, usage="test"))
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == before
