"""Every speed setting tinyms applies gives the same results with and without it.

The settings (documented in ``benchmarks/README.md``):

- ``ONEDNN_MAX_CPU_ISA=AVX2`` on AMD CPUs with AVX-512 (``tinyms._cpu``), set at
  ``import tinyms`` unless the user set the variable. Override: set
  ``ONEDNN_MAX_CPU_ISA=ALL`` (or any value) before importing tinyms.
- ``Model(network, mode='graph')``: train, eval and predict run in graph mode.
  Override: ``mode='pynative'`` or ``mode='context'``.
- The epoch log reads each step's loss back once per epoch, and the progress
  bar every 20 steps, not after every step.

Tolerances: graph and PyNative mode run the same oneDNN kernels, so losses
and logits agree to float32 rounding (``rtol=1e-5``, ``atol=1e-6``); the two
ISA limits pick different kernels that sum in another order, so a few steps'
losses agree within ``rtol=1e-4`` and logits within ``atol=1e-5``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import mindspore as ms
import mindspore.dataset as ds
import numpy as np
import pytest
from mindspore import nn

from tinyms import _cpu, context
from tinyms.callbacks import Callback, EpochLog
from tinyms.errors import InvalidArgumentError
from tinyms.model import Model, lenet5

STEPS, BATCH = 4, 8


def _arrays(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.random((STEPS * BATCH, 1, 32, 32), dtype=np.float32)
    labels = rng.integers(0, 10, STEPS * BATCH).astype(np.int32)
    return images, labels


def _dataset() -> ds.Dataset:
    images, labels = _arrays()
    return ds.NumpySlicesDataset({"image": images, "label": labels}, shuffle=False).batch(BATCH)


def _model(mode: str, weights: dict[str, np.ndarray] | None = None) -> Model:
    network = lenet5(class_num=10)
    if weights is not None:
        for name, param in network.parameters_and_names():
            param.set_data(ms.Tensor(weights[name]))
    model = Model(network, mode=mode)
    model.compile(loss_fn=nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"),
                  optimizer=nn.Momentum(network.trainable_params(), 0.01, 0.9))
    return model


class _StepLosses(Callback):
    """Reads every step's loss, the slow way the epoch log avoids."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []

    def on_train_step_end(self, run_context) -> None:
        self.values.append(float(run_context.original_args().net_outputs.asnumpy()))


# -- graph mode by default --------------------------------------------------------------
def test_graph_mode_is_the_default_and_restores_the_global_mode():
    model = _model("graph")
    assert model.mode == "graph"
    before = ms.get_context("mode")
    model.train(1, _dataset())
    model.predict(_arrays()[0][:1])
    model.eval(_dataset())
    assert ms.get_context("mode") == before


def test_graph_and_pynative_give_the_same_losses_and_predictions():
    weights = {name: param.asnumpy().copy()
               for name, param in lenet5(class_num=10).parameters_and_names()}
    results = {}
    for mode in ("graph", "pynative"):
        model = _model(mode, weights)
        steps = _StepLosses()
        model.train(2, _dataset(), callbacks=[steps])
        results[mode] = (steps.values, model.history, model.predict(_arrays(1)[0]))
    graph, pynative = results["graph"], results["pynative"]
    assert len(graph[0]) == 2 * STEPS
    np.testing.assert_allclose(graph[0], pynative[0], rtol=1e-5, atol=1e-6)
    for one, other in zip(graph[1], pynative[1]):
        assert one["loss"] == pytest.approx(other["loss"], rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(graph[2], pynative[2], rtol=1e-5, atol=1e-6)
    assert graph[0][-1] != graph[0][0]  # the steps did change the weights


def test_context_mode_follows_the_global_setting():
    model = _model("context")
    with context.run_mode("pynative"):
        model.train(1, _dataset())
        assert ms.get_context("mode") == ms.PYNATIVE_MODE
    with context.run_mode("graph"):
        assert model.predict(_arrays()[0][:2]).shape == (2, 10)
        assert ms.get_context("mode") == ms.GRAPH_MODE


def test_run_mode_restores_after_an_error():
    before = ms.get_context("mode")
    other = "graph" if before == ms.PYNATIVE_MODE else "pynative"
    with pytest.raises(ZeroDivisionError), context.run_mode(other):
        raise ZeroDivisionError
    assert ms.get_context("mode") == before


@pytest.mark.parametrize("bad", ["GRAPH", "eager", None, 0])
def test_unknown_mode_is_rejected_with_the_choices(bad):
    with pytest.raises(InvalidArgumentError, match="'graph'.*'pynative'.*'context'"):
        Model(lenet5(class_num=10), mode=bad)


# -- the epoch log reads losses once per epoch ------------------------------------------
def test_epoch_loss_equals_the_mean_of_the_step_losses():
    model = _model("graph")
    steps = _StepLosses()
    logs = model.train(1, _dataset(), callbacks=[steps])
    assert logs[0]["loss"] == pytest.approx(float(np.mean(steps.values)), rel=1e-6)


def test_epoch_log_keeps_tensors_until_the_epoch_ends():
    recorder = EpochLog([], [], 1)
    assert recorder._losses == []
    model = _model("graph")
    kept = []

    class Peek(Callback):
        def on_train_step_end(self, run_context) -> None:
            kept.append(type(recorder._losses[-1]).__name__)

    network = model.network
    ms_model = ms.train.Model(network, loss_fn=model.loss_fn, optimizer=model.optimizer)
    with context.run_mode("graph"):
        ms_model.train(1, _dataset(), callbacks=[recorder, Peek()], dataset_sink_mode=False)
    assert kept and set(kept) == {"Tensor"}
    assert len(recorder.history) == 1 and np.isfinite(recorder.history[0]["loss"])


# -- ONEDNN_MAX_CPU_ISA -----------------------------------------------------------------
def test_isa_rule_limits_amd_with_avx512_only():
    flags = {"avx2", "avx512f"}
    assert _cpu.choose_isa("AuthenticAMD", flags, "x86_64") == "AVX2"
    assert _cpu.choose_isa("GenuineIntel", flags, "x86_64") is None
    assert _cpu.choose_isa("AuthenticAMD", {"avx2"}, "x86_64") is None
    assert _cpu.choose_isa("AuthenticAMD", flags, "aarch64") is None


def test_cpu_info_reads_vendor_and_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2 avx512f\n")
    assert _cpu.read_cpu_info(str(info)) == ("AuthenticAMD", {"fpu", "avx2", "avx512f"})
    assert _cpu.read_cpu_info(str(tmp_path / "missing")) == ("", set())


ISA_SCRIPT = r"""
import json, os, sys
import tinyms
import numpy as np
import mindspore as ms
import mindspore.dataset as ds
from mindspore import nn
from tinyms.model import Model, lenet5
ms.set_seed(0)
rng = np.random.default_rng(0)
images = rng.random((16, 1, 32, 32), dtype=np.float32)
labels = rng.integers(0, 10, 16).astype(np.int32)
data = ds.NumpySlicesDataset({"image": images, "label": labels}, shuffle=False).batch(8)
network = lenet5(class_num=10)
before = Model(network).predict(images[:2]).tolist()
model = Model(network).compile(
    loss_fn=nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"),
    optimizer=nn.Momentum(network.trainable_params(), 0.01, 0.9))
model.train(2, data)
print(json.dumps({"isa": os.environ.get("ONEDNN_MAX_CPU_ISA"), "before": before,
                  "losses": [row["loss"] for row in model.history],
                  "after": model.predict(images[:2]).tolist()}))
"""


def _isa_run(value: str | None) -> dict:
    env = {key: item for key, item in os.environ.items() if key != _cpu.ISA_VARIABLE}
    if value is not None:
        env[_cpu.ISA_VARIABLE] = value
    out = subprocess.run([sys.executable, "-c", ISA_SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_isa_limit_keeps_results_and_a_user_value_wins():
    unlimited, limited = _isa_run("ALL"), _isa_run("AVX2")
    assert unlimited["isa"] == "ALL"  # tinyms leaves a value the user set
    assert limited["isa"] == "AVX2"
    np.testing.assert_allclose(unlimited["before"], limited["before"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(unlimited["losses"], limited["losses"], rtol=1e-4)
    np.testing.assert_allclose(unlimited["after"], limited["after"], rtol=1e-4, atol=1e-5)


def test_isa_variable_is_set_only_by_the_rule():
    applied = _cpu.apply_cpu_defaults  # already ran at import; run it again, isolated
    saved = os.environ.pop(_cpu.ISA_VARIABLE, None)
    try:
        applied()
        vendor, flags = _cpu.read_cpu_info()
        import platform

        expected = _cpu.choose_isa(vendor, flags, platform.machine())
        assert os.environ.get(_cpu.ISA_VARIABLE) == expected
    finally:
        os.environ.pop(_cpu.ISA_VARIABLE, None)
        if saved is not None:
            os.environ[_cpu.ISA_VARIABLE] = saved
