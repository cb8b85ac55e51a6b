"""The tinyms exception hierarchy.

Every error raised on user input derives from :class:`TinyMSError` and names
the value received, what was expected and how to fix it. Subclasses also derive
from the matching built-in exception, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "TinyMSError",
    "UnknownNameError",
    "InvalidArgumentError",
    "SpecError",
    "DatasetError",
    "DownloadError",
    "ChecksumError",
    "CheckpointError",
    "ServingError",
]


class TinyMSError(Exception):
    """Base class of every error that tinyms raises on purpose."""


class UnknownNameError(TinyMSError, KeyError):
    """A catalog name (network, loss, optimizer, ...) that is not registered."""

    def __init__(self, kind: str, name: object, valid: Iterable[str]):
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        super().__init__(
            f"Unknown {kind} name {name!r}. Valid {kind} names: {', '.join(self.valid)}."
        )

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0])


class InvalidArgumentError(TinyMSError, ValueError):
    """One or more arguments that fail their schema (type, range, unknown key)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [message])
        super().__init__(message)


class SpecError(TinyMSError, ValueError):
    """A model or dataset spec that fails validation; ``problems`` lists them all."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} found in the spec:"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


class DatasetError(TinyMSError, ValueError):
    """A dataset folder or file with the wrong layout or content."""


class DownloadError(TinyMSError, OSError):
    """A download that failed: connection, HTTP status or unexpected content."""


class ChecksumError(DownloadError):
    """A file whose checksum does not match the expected value."""


class CheckpointError(TinyMSError, ValueError):
    """A checkpoint that cannot be read or does not fit the network."""


class ServingError(TinyMSError, RuntimeError):
    """A serving request or server operation that failed."""
