"""Catalog entries for losses, optimizers, learning-rate schedules, metrics and
callbacks. Each entry has ``args`` (keyword argument schemas) and ``summary``.
"""

from __future__ import annotations

from typing import Any

from tinyms.catalog._schema import arg as _arg

_REDUCTION = _arg("str", "mean", "How per-sample losses are combined",
                  choices=["mean", "sum", "none"])

LOSSES: dict[str, dict[str, Any]] = {
    "softmax_cross_entropy": {
        "summary": "Softmax cross-entropy on logits (MindSpore SoftmaxCrossEntropyWithLogits)",
        "args": {
            "sparse": _arg("bool", True, "Labels are class indices (true) or one-hot (false)"),
            "reduction": _REDUCTION,
        },
    },
    "cross_entropy": {
        "summary": "Cross-entropy on logits with optional label smoothing (nn.CrossEntropyLoss)",
        "args": {
            "label_smoothing": _arg("float", 0.0, "Smoothing factor", min=0.0, max=1.0),
            "reduction": _REDUCTION,
        },
    },
}

_LR = _arg("float", 0.01, "Base learning rate", exclusive_min=0.0, max=10.0)
_WEIGHT_DECAY = _arg("float", 0.0, "L2 weight decay", min=0.0, max=1.0)

OPTIMIZERS: dict[str, dict[str, Any]] = {
    "sgd": {
        "summary": "Plain stochastic gradient descent (nn.SGD)",
        "args": {"lr": _LR, "weight_decay": _WEIGHT_DECAY},
    },
    "momentum": {
        "summary": "SGD with momentum (nn.Momentum)",
        "args": {
            "lr": _LR,
            "momentum": _arg("float", 0.9, "Momentum factor", min=0.0, max=1.0),
            "weight_decay": _WEIGHT_DECAY,
            "nesterov": _arg("bool", False, "Use Nesterov momentum"),
        },
    },
    "adam": {
        "summary": "Adam (nn.Adam)",
        "args": {
            "lr": _arg("float", 0.001, "Base learning rate", exclusive_min=0.0, max=10.0),
            "beta1": _arg("float", 0.9, "First-moment decay", exclusive_min=0.0, max=0.999999),
            "beta2": _arg("float", 0.999, "Second-moment decay",
                          exclusive_min=0.0, max=0.999999),
            "eps": _arg("float", 1e-8, "Numerical stability term", exclusive_min=0.0, max=1.0),
            "weight_decay": _WEIGHT_DECAY,
        },
    },
    "adamw": {
        "summary": "Adam with decoupled weight decay (nn.AdamWeightDecay)",
        "args": {
            "lr": _arg("float", 0.001, "Base learning rate", exclusive_min=0.0, max=10.0),
            "beta1": _arg("float", 0.9, "First-moment decay", exclusive_min=0.0, max=0.999999),
            "beta2": _arg("float", 0.999, "Second-moment decay",
                          exclusive_min=0.0, max=0.999999),
            "eps": _arg("float", 1e-6, "Numerical stability term", exclusive_min=0.0, max=1.0),
            "weight_decay": _arg("float", 0.01, "Decoupled weight decay", min=0.0, max=1.0),
        },
    },
    "rmsprop": {
        "summary": "RMSProp (nn.RMSProp)",
        "args": {
            "lr": _LR,
            "decay": _arg("float", 0.9, "Moving-average decay", min=0.0, max=1.0),
            "momentum": _arg("float", 0.0, "Momentum factor", min=0.0, max=1.0),
            "epsilon": _arg("float", 1e-10, "Numerical stability term",
                            exclusive_min=0.0, max=1.0),
            "weight_decay": _WEIGHT_DECAY,
        },
    },
}

SCHEDULES: dict[str, dict[str, Any]] = {
    "constant": {
        "summary": "The base learning rate at every step, after an optional linear warm-up",
        "args": {
            "warmup_epochs": _arg("int", 0, "Epochs of linear warm-up from 0", min=0, max=1000),
        },
    },
    "cosine": {
        "summary": "Cosine decay from the base rate to min_lr over the run, per step",
        "args": {
            "min_lr": _arg("float", 0.0, "Learning rate at the last step", min=0.0, max=10.0),
            "warmup_epochs": _arg("int", 0, "Epochs of linear warm-up from 0", min=0, max=1000),
        },
    },
    "step": {
        "summary": "Multiply the rate by gamma every step_epochs epochs",
        "args": {
            "step_epochs": _arg("int", 30, "Epochs between decays", min=1, max=10000),
            "gamma": _arg("float", 0.1, "Decay factor", exclusive_min=0.0, max=1.0),
            "warmup_epochs": _arg("int", 0, "Epochs of linear warm-up from 0", min=0, max=1000),
        },
    },
    "exponential": {
        "summary": "Multiply the rate by gamma after every epoch",
        "args": {
            "gamma": _arg("float", 0.95, "Decay factor per epoch", exclusive_min=0.0, max=1.0),
            "warmup_epochs": _arg("int", 0, "Epochs of linear warm-up from 0", min=0, max=1000),
        },
    },
}

METRICS: dict[str, dict[str, Any]] = {
    "accuracy": {
        "summary": "Fraction of samples whose top-1 class is the label",
        "args": {},
    },
    "top5_accuracy": {
        "summary": "Fraction of samples whose label is among the 5 best classes",
        "args": {},
    },
    "precision": {
        "summary": "Precision averaged over classes (macro)",
        "args": {},
    },
    "recall": {
        "summary": "Recall averaged over classes (macro)",
        "args": {},
    },
    "f1": {
        "summary": "F1 score averaged over classes (macro)",
        "args": {},
    },
    "loss": {
        "summary": "Mean loss over the evaluated samples",
        "args": {},
    },
}

_MONITOR = _arg("str", "val_loss", "Quantity to watch: loss, val_loss or val_<metric name>")

CALLBACKS: dict[str, dict[str, Any]] = {
    "loss_monitor": {
        "summary": "Log the loss every per_print_steps steps",
        "args": {"per_print_steps": _arg("int", 1, "Steps between lines", min=1)},
    },
    "time_monitor": {
        "summary": "Log the time per epoch and per step",
        "args": {},
    },
    "progress_bar": {
        "summary": "Steps, loss and ETA on a terminal; one plain line per epoch otherwise",
        "args": {},
    },
    "model_checkpoint": {
        "summary": "Save checkpoints atomically every save_checkpoint_epochs epochs",
        "args": {
            "directory": _arg("str", "checkpoints", "Folder for the checkpoint files"),
            "prefix": _arg("str", "model", "File name prefix"),
            "save_checkpoint_epochs": _arg("int", 1, "Epochs between saves", min=1),
            "keep_checkpoint_max": _arg("int", 5, "Newest checkpoints kept", min=1),
        },
    },
    "early_stopping": {
        "summary": "Stop when the monitored quantity stops improving; restore the best weights",
        "args": {
            "monitor": _MONITOR,
            "patience": _arg("int", 5, "Epochs without improvement before stopping", min=0),
            "min_delta": _arg("float", 0.0, "Smallest change that counts as improvement",
                              min=0.0),
            "mode": _arg("str", "auto", "min, max, or auto (from the monitor name)",
                         choices=["auto", "min", "max"]),
            "restore_best_weights": _arg("bool", True, "Load the best epoch's weights at the end"),
        },
    },
    "history": {
        "summary": "Record per-epoch loss and metrics in model.history",
        "args": {},
    },
}
