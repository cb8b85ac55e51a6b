"""Model deployment: serve trained classifiers over HTTP and call them.

The client functions start, query and stop a server process::

    >>> from tinyms.serving import start_server, predict, list_servables, server_started, shutdown
    >>> start_server(servables='servables.yaml')
    >>> if server_started():
    ...     res = predict('digit.png', 'lenet5', 'mnist')
    >>> shutdown()

The server is a Flask app (:func:`create_app`) over a socket-free core
(``tinyms.serving.core``), run by waitress (:func:`run_server`, or
``python -m tinyms.serving --config servables.yaml``). Importing this package
imports neither Flask nor MindSpore; the server pieces load them on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from tinyms.serving.client import (
    list_servables,
    predict,
    server_started,
    server_url,
    shutdown,
    start_server,
)
from tinyms.serving.config import (
    ServableSpec,
    ServingConfig,
    default_config_path,
    load_config,
    parse_config,
    spec_from_project,
)

_LAZY = {
    "create_app": "tinyms.serving.app",
    "run_server": "tinyms.serving.server",
    "ServingCore": "tinyms.serving.core",
    "load_servable": "tinyms.serving.core",
}

__all__ = [
    "start_server",
    "server_started",
    "list_servables",
    "predict",
    "shutdown",
    "server_url",
    "ServableSpec",
    "ServingConfig",
    "default_config_path",
    "load_config",
    "parse_config",
    "spec_from_project",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'tinyms.serving' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
