"""Shared pytest setup. tinyms is imported first so its CPU defaults
(ONEDNN_MAX_CPU_ISA) are in place before MindSpore runs any operator."""

import tinyms  # noqa: F401  (import order matters, see above)

pytest_plugins = ["fixtures_data", "strategies"]
