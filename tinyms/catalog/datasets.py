"""Catalog entries for datasets, read from ``datasets.yaml`` beside this file.

That YAML file is the one place that contains each dataset's download URLs, file
names, sizes, checksums (with their sources), on-disk layout, class names and
normalization statistics. The library and the generator both read it here.
Top-level keys that start with ``_`` are YAML anchors shared by entries, not
datasets.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DATASETS_FILE", "load_datasets"]

DATASETS_FILE = Path(__file__).with_name("datasets.yaml")


def load_datasets() -> dict[str, dict[str, Any]]:
    """Load the dataset registry; an entry without ``args`` gets an empty schema."""
    with open(DATASETS_FILE, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    entries = {}
    for name, item in data.items():
        if name.startswith("_"):
            continue
        # YAML aliases share one object between entries; copy so each entry is its own.
        item = copy.deepcopy(item)
        item.setdefault("args", {})
        entries[name] = item
    return entries
