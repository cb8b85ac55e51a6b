"""The built-in network zoo. Importing this package registers every network."""

from __future__ import annotations
