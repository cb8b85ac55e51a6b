"""Catalog entries for datasets, read from ``datasets.yaml`` beside this file.

That YAML file is the one place that holds each dataset's download URLs, file
names, sizes, checksums (with their sources), on-disk layout, class names and
normalization statistics. The library and the generator both read it here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DATASETS_FILE = Path(__file__).with_name("datasets.yaml")


def load_datasets() -> dict[str, dict[str, Any]]:
    """Load the dataset registry; each entry gets an empty ``args`` schema."""
    with open(DATASETS_FILE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    for item in data.values():
        item.setdefault("args", {})
    return data
