"""Shared inputs for the benchmarks: MNIST-shaped random data, batched."""

from __future__ import annotations

import numpy as np


def mnist_shaped(count: int = 4096, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``count`` random 1x32x32 float32 images and int32 labels 0-9."""
    rng = np.random.default_rng(seed)
    images = rng.random((count, 1, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, count).astype(np.int32)
    return images, labels
