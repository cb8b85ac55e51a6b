"""Data-parallel training on MindSpore's msrun launcher: tinyms.distributed and train.py."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from datagen import write_mnist_idx

from tinyms import distributed
from tinyms.errors import DatasetError, InvalidArgumentError
from tinyms.generator.cli import main as tinyms_new

MSRUN_TIMEOUT_S = 300
LAUNCHER_ENV = {
    "MS_ROLE": "MS_WORKER",
    "MS_WORKER_NUM": "2",
    "MS_SCHED_HOST": "127.0.0.1",
    "MS_SCHED_PORT": "8118",
}

# Imports the generated train.py, wraps its build() to keep the network, runs main()
# and saves this worker's parameters before and after training as rank<N>.npz.
PARAMETER_DUMPER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import numpy as np

    project, out = Path(sys.argv[1]), Path(sys.argv[2])
    sys.path.insert(0, str(project))
    import train as script
    from tinyms import distributed

    built, initial = {}, {}
    original_build = script.build

    def build(*args, **kwargs):
        built.update(original_build(*args, **kwargs))
        for param in built["network"].trainable_params():
            initial["initial/" + param.name] = param.asnumpy().copy()
        return built

    script.build = build
    status = script.main(sys.argv[3:])
    final = {p.name: p.asnumpy() for p in built["network"].trainable_params()}
    np.savez(out / f"rank{distributed.rank()}.npz", **initial, **final)
    sys.exit(status)
    """
)


@pytest.fixture
def fresh_state(monkeypatch):
    """Undo init()'s module state after the test."""
    monkeypatch.setattr(distributed, "_initialized", False)
    monkeypatch.setattr(distributed, "_state", distributed.ParallelInfo(0, 1))
    for name in LAUNCHER_ENV:
        monkeypatch.delenv(name, raising=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def generate_project(target: Path) -> Path:
    """Render lenet5 x mnist for one epoch, reading the records in file order, no validation."""
    status = tinyms_new(
        [
            "--model", "lenet5", "--dataset", "mnist", "--output-dir", str(target),
            "--set", "training.epochs=1",
            "--set", "training.shuffle=false",
            "--set", "training.validation_split=0",
        ]
    )
    assert status == 0
    return target


def script_env() -> dict[str, str]:
    """The environment of the launched scripts: this venv's python first, no launcher vars."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_ENV}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def running_in_session(session: int) -> list[str]:
    """Return the processes of a session that still run (not zombies), as ps lines."""
    listing = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "-s", str(session)], capture_output=True, text=True
    ).stdout
    return [line for line in listing.splitlines() if line.split()[1][0] != "Z"]


def run_msrun(args: list[str], cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    """Run msrun in its own process group; kill the whole group if it outlives ``timeout``."""
    msrun = Path(sys.executable).parent / "msrun"
    process = subprocess.Popen(
        [str(msrun), *args], cwd=cwd, env=script_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"msrun did not finish within {timeout} s:\n{output[-4000:]}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # The workers and the scheduler run in msrun's session: none may outlive msrun.
    # Zombies (msrun's exited log-tailing children, not yet reaped) are not running.
    left = running_in_session(process.pid)
    deadline = time.monotonic() + 15
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = running_in_session(process.pid)
    if left:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("msrun left processes running after it exited:\n" + "\n".join(left))
    return subprocess.CompletedProcess(process.args, process.returncode, output, "")


def logs_text(log_dir: Path) -> str:
    parts = []
    for log in sorted(log_dir.glob("*.log")):
        lines = [line for line in log.read_text(errors="replace").splitlines()
                 if not line.startswith(("[INFO]", "[WARNING]"))]
        parts.append(f"== {log.name}\n" + "\n".join(lines[-40:]))
    return "\n".join(parts)


def test_two_workers_match_single_process(tmp_path):
    """Two msrun workers with batch 16 end with the parameters of one process with batch 32.

    With shuffling off, rank r reads records r, r + 2, r + 4, ... of the file
    (MindSpore's num_shards/shard_id sharding), so in step k rank 0 trains on
    records 32k + 0, 2, ..., 30 and rank 1 on 32k + 1, 3, ..., 31. Their union is
    records 32k to 32k + 31: exactly the batch that step k of a single process
    with batch 32 reads in file order. With gradients_mean=True the averaged
    gradient of two batches of 16 equals the gradient of that batch of 32 (a
    mean loss), the learning rate and the 4 steps of its schedule are the same,
    and both runs start from the same seeded weights, so the parameters agree
    up to float rounding.
    """
    data = write_mnist_idx(tmp_path / "mnist", n_train=128, n_test=16)
    project = generate_project(tmp_path / "lenet5-mnist")
    dumper = tmp_path / "dump_parameters.py"
    dumper.write_text(PARAMETER_DUMPER)
    parallel_out, single_out = tmp_path / "parallel", tmp_path / "single"
    parallel_out.mkdir()
    single_out.mkdir()
    parallel_runs, single_runs = tmp_path / "parallel-runs", tmp_path / "single-runs"
    log_dir = tmp_path / "msrun-logs"

    try:
        result = run_msrun(
            [
                "--worker_num=2", "--local_worker_num=2", "--master_addr=127.0.0.1",
                f"--master_port={free_port()}", "--join=True", f"--log_dir={log_dir}",
                "--cluster_time_out=120",
                str(dumper), str(project), str(parallel_out),
                "--data-dir", str(data), "--batch-size", "16", "--output-dir", str(parallel_runs),
            ],
            cwd=tmp_path,
            timeout=MSRUN_TIMEOUT_S,
        )
        logs = logs_text(log_dir)
        assert result.returncode == 0, f"msrun failed:\n{result.stdout[-3000:]}\n{logs}"
        worker_1_log = (log_dir / "worker_1.log").read_text(errors="replace")
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    assert "rank 0 of 2 workers" in logs
    assert "rank 1 of 2 workers" in logs
    assert "Trained in" not in worker_1_log
    assert "Run folder" not in worker_1_log

    single = subprocess.run(
        [sys.executable, str(dumper), str(project), str(single_out),
         "--data-dir", str(data), "--batch-size", "32", "--output-dir", str(single_runs)],
        capture_output=True, text=True, timeout=MSRUN_TIMEOUT_S, env=script_env(), cwd=tmp_path,
    )
    assert single.returncode == 0, single.stderr[-3000:]

    rank0 = np.load(parallel_out / "rank0.npz")
    rank1 = np.load(parallel_out / "rank1.npz")
    reference = np.load(single_out / "rank0.npz")
    assert sorted(rank0.files) == sorted(reference.files)
    trained = [name for name in rank0.files if not name.startswith("initial/")]
    assert trained
    for name in rank0.files:
        np.testing.assert_allclose(rank0[name], rank1[name], rtol=0, atol=1e-7, err_msg=name)
        # Matching runs differ by about 1e-7 here; reading the same records in another
        # batch order (shuffled) moves the parameters by about 6e-3.
        np.testing.assert_allclose(rank0[name], reference[name], rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    moved = max(float(np.abs(rank0[name] - rank0["initial/" + name]).max()) for name in trained)
    assert moved > 1e-3, "training did not change the parameters"

    runs = sorted(p.name for p in parallel_runs.iterdir())
    assert runs == ["run-001"]
    run = parallel_runs / "run-001"
    checkpoints = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert checkpoints == ["final.ckpt", "model-1_4.ckpt"]
    assert (run / "metrics.csv").read_text().count("\n") == 2  # header and epoch 1
    assert (run / "metrics.png").is_file()
    assert (run / "config.yaml").is_file()


def test_distribute_without_launcher_fails(tmp_path):
    data = write_mnist_idx(tmp_path / "mnist", n_train=32, n_test=16)
    project = generate_project(tmp_path / "lenet5-mnist")

    result = subprocess.run(
        [sys.executable, str(project / "train.py"), "--distribute", "--data-dir", str(data)],
        capture_output=True, text=True, timeout=120, env=script_env(), cwd=project,
    )

    assert result.returncode == 1, result.stderr
    assert "error: --distribute was given, but no launcher started this process" in result.stderr
    assert "msrun --worker_num=2" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "runs").exists()


def test_init_without_launcher_is_single_process(fresh_state):
    info = distributed.init()

    assert info == (0, 1)
    assert not info.distributed
    assert distributed.is_main_process()
    assert (distributed.rank(), distributed.group_size()) == (0, 1)


def test_init_required_without_launcher_names_variables(fresh_state, monkeypatch):
    monkeypatch.setenv("MS_ROLE", "MS_WORKER")

    with pytest.raises(InvalidArgumentError) as caught:
        distributed.init(required=True)

    message = str(caught.value)
    assert "MS_WORKER_NUM, MS_SCHED_HOST, MS_SCHED_PORT" in message
    assert "msrun" in message
    assert "leave out --distribute" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, True),
        ({"MS_ROLE": "MS_SCHED"}, True),
        ({"MS_ROLE": "MS_PSERVER"}, False),
        ({"MS_ROLE": ""}, False),
        ({"MS_SCHED_PORT": None}, False),
        ({"MS_WORKER_NUM": None}, False),
    ],
)
def test_launched_by_msrun_reads_environment(change, expected):
    environ = {**LAUNCHER_ENV, **change}
    environ = {key: value for key, value in environ.items() if value is not None}

    assert distributed.launched_by_msrun(environ) is expected


def split_parts():
    import mindspore.dataset as ms_dataset

    from tinyms.data import split_dataset

    records = ms_dataset.NumpySlicesDataset({"x": np.arange(40)}, shuffle=True)
    return split_dataset(records, 0.25, seed=3)


def read_epochs(dataset, epochs: int) -> list[list[int]]:
    iterator = dataset.create_tuple_iterator(output_numpy=True, num_epochs=epochs)
    return [[int(row[0]) for row in iterator] for _ in range(epochs)]


@pytest.mark.parametrize("shuffle", [False, True])
def test_shard_dataset_splits_training_part(shuffle):
    train_parts = []
    for rank in (0, 1):
        train, valid = split_parts()
        train_parts.append(distributed.shard_dataset(train, 2, rank, shuffle=shuffle))
    valid_records = sorted(read_epochs(valid, 1)[0])
    shards = [read_epochs(part, 2) for part in train_parts]

    for epoch in range(2):
        first, second = shards[0][epoch], shards[1][epoch]
        assert len(first) == len(second) == 15
        assert not set(first) & set(second)
        assert sorted(first + second) == sorted(set(range(40)) - set(valid_records))
    if shuffle:
        assert shards[0][0] != shards[0][1], "the shard order should change each epoch"
    else:
        training = sorted(set(range(40)) - set(valid_records))
        assert shards[0][0] == training[0::2]
        assert shards[1][0] == training[1::2]


def test_shard_dataset_rejects_bad_shards():
    train, _ = split_parts()

    with pytest.raises(InvalidArgumentError, match="shard_id 2"):
        distributed.shard_dataset(train, 2, 2)
    with pytest.raises(InvalidArgumentError, match="num_shards 0"):
        distributed.shard_dataset(train, 0, 0)
    distributed.shard_dataset(train, 2, 0)
    with pytest.raises(DatasetError, match="already sharded"):
        distributed.shard_dataset(train, 2, 1)
