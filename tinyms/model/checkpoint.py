"""Checkpoint files: atomic saves and tolerant loads.

MindSpore's ``save_checkpoint`` removes an existing file before writing the new
one, so a process killed during a re-save loses the old checkpoint. Here the
new checkpoint goes to a temporary file in the same folder, is flushed and
fsynced, and then renamed over the old one, so either the old or the new file
is complete at every moment.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import mindspore as ms

from tinyms.errors import CheckpointError

__all__ = ["save_checkpoint_atomic", "read_checkpoint", "load_matching", "LoadReport"]

logger = logging.getLogger(__name__)

# Share of the network's parameter elements that may stay unloaded before a load
# is rejected as "not this network": a new classification head is a few percent.
MAX_SKIPPED_FRACTION = 0.5


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint_atomic(
    save_obj: Any, path: str | os.PathLike, append_dict: dict[str, Any] | None = None
) -> str:
    """Write a checkpoint of ``save_obj`` (a Cell or a parameter list) to ``path`` atomically.

    Returns:
        The path written, with a ``.ckpt`` suffix added when it had none.
    """
    target = Path(path)
    if target.suffix != ".ckpt":
        target = target.with_name(target.name + ".ckpt")
    folder = target.parent if str(target.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)

    fd, temp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp.ckpt", dir=folder)
    os.close(fd)
    try:
        ms.save_checkpoint(save_obj, temp_name, append_dict=append_dict)
        with open(temp_name, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        # Cleanup for any failure, KeyboardInterrupt included; the old file is untouched.
        try:
            os.chmod(temp_name, 0o600)
            os.remove(temp_name)
        except OSError:
            pass
        raise
    _fsync_dir(folder)
    logger.info("Saved checkpoint %s", target)
    return str(target)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint file into a name -> Parameter dict.

    Raises:
        CheckpointError: the file is missing, truncated or not a MindSpore checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"Checkpoint file not found: {str(path)!r}. Pass the path of an existing .ckpt file."
        )
    try:
        return ms.load_checkpoint(str(path))
    except (ValueError, RuntimeError, TypeError, OSError) as err:
        detail = str(err).splitlines()[0] if str(err) else ""
        raise CheckpointError(
            f"Failed to read checkpoint {str(path)!r}: the file is truncated, corrupt or not "
            f"a MindSpore checkpoint ({type(err).__name__}: {detail}). "
            "Use another checkpoint, or retrain to write a new one."
        ) from err


@dataclasses.dataclass
class LoadReport:
    """What a tolerant checkpoint load did.

    Attributes:
        loaded: Parameter names loaded.
        skipped: Names present in both whose shapes differ (a new head, say),
            mapped to ``(checkpoint_shape, network_shape)``.
        missing: Network parameters that the checkpoint lacks (left as they were).
        unexpected: Checkpoint entries that the target has no parameter for.
    """

    loaded: list[str]
    skipped: dict[str, tuple[tuple[int, ...], tuple[int, ...]]]
    missing: list[str]
    unexpected: list[str]

    def summary(self) -> str:
        """Return one line counting loaded, skipped, missing and unexpected names."""
        return (
            f"loaded {len(self.loaded)}, skipped {len(self.skipped)} (shape mismatch), "
            f"missing {len(self.missing)}, unexpected {len(self.unexpected)}"
        )


def load_matching(
    target: Any,
    params: dict[str, Any],
    network_names: set[str],
    *,
    source: str = "checkpoint",
    strict: bool = False,
) -> LoadReport:
    """Load every parameter of ``params`` whose name and shape match one of ``target``'s.

    Args:
        target: The Cell to load into (a network, or a training cell that also
            holds optimizer state such as moments).
        params: A name -> Parameter dict from :func:`read_checkpoint`.
        network_names: The network's own parameter names; the "most parameters
            would be dropped" rule counts these only, not optimizer state.
        source: The checkpoint path, for messages.
        strict: Raise on any skipped or missing network parameter.

    Raises:
        CheckpointError: nothing matches, more than half of the network's
            weights (counted in elements) would stay unloaded, or ``strict`` and
            anything differs.
    """
    own = target.parameters_dict()
    to_load: dict[str, Any] = {}
    skipped: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    unexpected: list[str] = []
    for name, value in params.items():
        if name not in own:
            unexpected.append(name)
            continue
        wanted = tuple(own[name].shape)
        found = tuple(getattr(value, "shape", ()))
        if wanted != found:
            skipped[name] = (found, wanted)
            continue
        to_load[name] = value
    missing = sorted(name for name in own if name not in params)
    report = LoadReport(sorted(to_load), skipped, missing, sorted(unexpected))

    network_loaded = [name for name in to_load if name in network_names]
    total_size = sum(int(own[name].size) for name in network_names if name in own)
    loaded_size = sum(int(own[name].size) for name in network_loaded)
    if not network_loaded:
        raise CheckpointError(
            f"No parameter of checkpoint {source!r} matches the network by name and shape "
            f"({report.summary()}). It was saved from another network; build the network "
            "that wrote it, or use a checkpoint of this one."
        )
    if total_size - loaded_size > MAX_SKIPPED_FRACTION * total_size:
        raise CheckpointError(
            f"Checkpoint {source!r} fits only {loaded_size} of the network's {total_size} "
            f"weights ({report.summary()}). It was probably saved from another network or "
            "configuration; check the model name and its arguments."
        )
    network_missing = [name for name in missing if name in network_names]
    network_skipped = [name for name in skipped if name in network_names]
    if strict and (network_missing or network_skipped):
        raise CheckpointError(
            f"Checkpoint {source!r} does not fit the network exactly: skipped "
            f"{network_skipped}, missing {network_missing}. Pass strict=False to load "
            "the matching parameters only (fine-tuning)."
        )

    ms.load_param_into_net(target, to_load, strict_load=False)
    if skipped or network_missing:
        logger.warning(
            "Checkpoint %s: %s. Skipped: %s", source, report.summary(), ", ".join(sorted(skipped))
        )
    else:
        logger.info("Checkpoint %s: %s", source, report.summary())
    return report
