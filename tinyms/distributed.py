"""Data-parallel training on MindSpore's own launcher, ``msrun``.

``msrun --worker_num=2 --local_worker_num=2 --master_addr=127.0.0.1
--master_port=8118 --join=True train.py`` starts one scheduler process and two
worker processes, each running ``train.py``. A script calls :func:`init` once,
after selecting the device and before reading data or writing files:

    from tinyms import context, distributed

    context.set_device('CPU')
    rank, size = distributed.init()          # (0, 1) when msrun did not start us
    train = MnistDataset(root, usage='train', num_shards=size, shard_id=rank)
    ...
    if distributed.is_main_process():
        model.save_checkpoint('final.ckpt')

Under the launcher :func:`init` starts MindSpore's collective communication
(``mccl`` on CPU, ``nccl`` on GPU, ``hccl`` on Ascend) and sets data-parallel
mode with ``gradients_mean=True``. Each worker then computes gradients on its
own batch, and the workers average them. Every worker applies the same
averaged update, so their parameters stay equal. Without the launcher it does nothing and returns
rank 0 of 1, so the same script trains in one process unchanged.

Environment variables read to detect the launcher (``msrun`` sets them in
every process it starts): ``MS_ROLE`` (``MS_WORKER`` for a worker,
``MS_SCHED`` for the scheduler), ``MS_WORKER_NUM``, ``MS_SCHED_HOST`` and
``MS_SCHED_PORT``. The rank and the worker count are then taken from
MindSpore's communication layer, not from ``RANK_ID``, because ``msrun``
assigns ranks on several hosts only once the cluster is built (without
``--node_rank``).

MindSpore's communication is imported inside :func:`init`, so importing this
module stays cheap.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from tinyms.errors import DatasetError, InvalidArgumentError

__all__ = [
    "BACKENDS",
    "LAUNCHER_VARIABLES",
    "ParallelInfo",
    "group_size",
    "init",
    "is_main_process",
    "launched_by_msrun",
    "rank",
    "shard_dataset",
]

logger = logging.getLogger(__name__)

#: The variables ``msrun`` exports to the processes it starts; all must be set.
LAUNCHER_VARIABLES = ("MS_ROLE", "MS_WORKER_NUM", "MS_SCHED_HOST", "MS_SCHED_PORT")

#: MindSpore's collective communication backend per device target.
BACKENDS = {"CPU": "mccl", "GPU": "nccl", "Ascend": "hccl"}

_ROLES = ("MS_WORKER", "MS_SCHED")


class ParallelInfo(NamedTuple):
    """The place of this process in a data-parallel job: ``rank`` of ``size`` workers."""

    rank: int
    size: int

    @property
    def distributed(self) -> bool:
        """True when more than one worker trains."""
        return self.size > 1

    @property
    def is_main(self) -> bool:
        """True for rank 0, the worker that writes checkpoints, metrics and logs."""
        return self.rank == 0


_state = ParallelInfo(0, 1)
_initialized = False


def launched_by_msrun(environ: Mapping[str, str] | None = None) -> bool:
    """Return True when ``msrun`` started this process (a worker or its scheduler).

    Args:
        environ: The environment to inspect. Default: ``os.environ``.
    """
    environ = os.environ if environ is None else environ
    if any(not environ.get(name) for name in LAUNCHER_VARIABLES):
        return False
    return environ["MS_ROLE"] in _ROLES


def init(required: bool = False) -> ParallelInfo:
    """Join the data-parallel job that ``msrun`` started, or run as a single process.

    Call it once per process, after ``tinyms.context.set_device`` (the device
    picks the communication backend) and before loading data or writing
    files. A second call returns the first call's result.

    In the scheduler process that ``msrun`` also starts with the script, the
    MindSpore call inside this function serves the cluster until the workers
    finish and then ends the process, so it never returns there.

    Args:
        required: Raise instead of running as a single process when no launcher
            started this process (the ``--distribute`` flag of a training
            script). Default: False.

    Returns:
        ``ParallelInfo(rank, size)``: ``(0, 1)`` without the launcher.

    Raises:
        InvalidArgumentError: ``required`` is True but ``msrun`` did not start
            this process, or the device target has no communication backend.
    """
    global _state, _initialized

    if _initialized:
        return _state
    if not launched_by_msrun():
        if required:
            missing = [name for name in LAUNCHER_VARIABLES if not os.environ.get(name)]
            raise InvalidArgumentError(
                "--distribute was given, but no launcher started this process: the "
                f"environment variables {', '.join(missing) or 'MS_ROLE'} are unset or "
                f"invalid (MS_ROLE={os.environ.get('MS_ROLE')!r}; expected MS_WORKER or "
                "MS_SCHED). Start the script with MindSpore's msrun, for example "
                "'msrun --worker_num=2 --local_worker_num=2 --master_addr=127.0.0.1 "
                "--master_port=8118 --join=True train.py', or leave out --distribute "
                "to train in one process."
            )
        _initialized = True
        return _state

    import mindspore as ms
    from mindspore import communication

    device = ms.get_context("device_target")
    if device not in BACKENDS:
        raise InvalidArgumentError(
            f"Device target {device!r} has no collective communication backend; expected "
            f"one of {', '.join(BACKENDS)}."
        )
    logger.debug("Starting %s communication as %s", BACKENDS[device], os.environ["MS_ROLE"])
    communication.init(BACKENDS[device])
    size = communication.get_group_size()
    ms.set_auto_parallel_context(
        parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True, device_num=size
    )
    _state = ParallelInfo(communication.get_rank(), size)
    _initialized = True
    logger.info("Data-parallel training: rank %d of %d workers (%s)", _state.rank, size,
                BACKENDS[device])
    return _state


def rank() -> int:
    """Return this worker's rank: 0 before :func:`init` and without the launcher."""
    return _state.rank


def group_size() -> int:
    """Return the number of workers: 1 before :func:`init` and without the launcher."""
    return _state.size


def is_main_process() -> bool:
    """Return True for rank 0, the one worker that should write files and logs.

    Before :func:`init` every process counts as rank 0.
    """
    return _state.is_main


def shard_dataset(
    dataset: Any, num_shards: int | None = None, shard_id: int | None = None,
    shuffle: bool = True,
) -> Any:
    """Give each worker its own share of a dataset that was built unsharded.

    Loaders take ``num_shards`` and ``shard_id`` directly; this is for a
    dataset that had to be built whole first, such as the training part that
    ``tinyms.data.split_dataset`` returns (splitting needs every record). A
    ``DistributedSampler`` goes on top of the reader's sampler: shard
    ``shard_id`` reads records ``shard_id``, ``shard_id + num_shards``, ... of
    the reader's order. A random order below it would differ between the
    worker processes, so the reader's sampler is made sequential (a subset
    keeps its indices) and the ``DistributedSampler`` shuffles instead, with
    MindSpore's dataset seed and the epoch number, the same on every worker.
    As with the loaders' sharding, the last shards repeat a record when the
    count does not divide evenly.

    Args:
        dataset: A MindSpore dataset over one random-access reader, possibly
            with ``map``/``batch`` on top; changed in place.
        num_shards: The number of shards. Default: :func:`group_size`.
        shard_id: This worker's shard, ``0 <= shard_id < num_shards``. Default: :func:`rank`.
        shuffle: Read the shard in a new random order each epoch. Default: True.

    Returns:
        ``dataset``, now reading one shard.

    Raises:
        InvalidArgumentError: bad shard numbers.
        DatasetError: the dataset is not over one random-access reader, or is
            already sharded.
    """
    import mindspore.dataset as ms_dataset

    num_shards = group_size() if num_shards is None else num_shards
    shard_id = rank() if shard_id is None else shard_id
    for label, value, low in (("num_shards", num_shards, 1), ("shard_id", shard_id, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InvalidArgumentError(f"Invalid {label} {value!r}; expected an integer >= {low}.")
    if shard_id >= num_shards:
        raise InvalidArgumentError(
            f"Invalid shard_id {shard_id}; expected 0 <= shard_id < num_shards ({num_shards})."
        )

    leaf = _reader(dataset)
    if leaf is None or not isinstance(leaf, ms_dataset.MappableDataset):
        raise DatasetError(
            f"shard_dataset needs a dataset over one random-access reader; got "
            f"{type(leaf or dataset).__name__}. Pass num_shards and shard_id to the loader instead."
        )
    if _sharded(leaf.sampler, ms_dataset):
        raise DatasetError("shard_dataset got a dataset that is already sharded.")

    leaf.sampler = _sequential(leaf.sampler, ms_dataset)
    leaf.add_sampler(ms_dataset.DistributedSampler(num_shards, shard_id, shuffle=shuffle))
    return dataset


def _reader(dataset: Any) -> Any:
    """Return the one source dataset under ``dataset``'s pipeline, or None if it has several."""
    node = dataset
    while node.children:
        if len(node.children) != 1:
            return None
        node = node.children[0]
    return node


def _sharded(sampler: Any, ms_dataset: Any) -> bool:
    """Return True if any sampler in the chain is a DistributedSampler with several shards."""
    # NOTE: MindSpore's Sampler.is_sharded() looks only at the innermost sampler of a chain.
    while sampler is not None:
        if isinstance(sampler, ms_dataset.DistributedSampler) and sampler.num_shards > 1:
            return True
        sampler = sampler.child_sampler
    return False


def _sequential(sampler: Any, ms_dataset: Any) -> Any:
    """Return a sampler reading the same records as ``sampler``, in a fixed order."""
    if sampler is None or isinstance(sampler, ms_dataset.RandomSampler):
        count = None if sampler is None else sampler.num_samples
        return ms_dataset.SequentialSampler(num_samples=count)
    if isinstance(sampler, ms_dataset.SubsetRandomSampler):
        return ms_dataset.SubsetSampler(sorted(int(i) for i in sampler.indices))
    return sampler
