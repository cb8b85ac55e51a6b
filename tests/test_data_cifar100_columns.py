"""get_dataset('cifar100') gives the (image, label) pair that training takes."""

import numpy as np

from tinyms.data import get_dataset, split_dataset


def test_cifar100_by_name_has_image_and_fine_label(cifar100_root):
    dataset = get_dataset("cifar100", cifar100_root, usage="test", num_samples=8, shuffle=False)
    assert dataset.get_col_names() == ["image", "label"]
    row = next(dataset.create_dict_iterator(output_numpy=True))
    assert row["image"].shape == (32, 32, 3)
    assert 0 <= int(row["label"]) < 100
    train, valid = split_dataset(
        get_dataset("cifar100", cifar100_root, usage="test", shuffle=False), 0.1, seed=0
    )
    assert train.get_col_names() == ["image", "label"]
    assert train.get_dataset_size() + valid.get_dataset_size() == 10000
    labels = np.array([int(r["label"]) for r in valid.create_dict_iterator(output_numpy=True)])
    assert labels.max() < 100
