"""The design note's module table and code examples, run as written.

The examples download MNIST and start a server. Offline, the download goes to
a local HTTP server over the real MNIST subset (through the mirror and
checksum environment variables), and the server reads its servables from the
file that ``TINYMS_SERVING_CONFIG`` names.
"""

import importlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

MODULE_TABLE = [
    ("tinyms.data", ["MnistDataset", "download_dataset"]),
    ("tinyms.model", ["Model", "lenet5"]),
    ("tinyms.serving", ["predict"]),
    ("tinyms.vision", ["mnist_transform", "Resize"]),
    ("tinyms.callbacks", ["ModelCheckpoint"]),
    ("tinyms", ["Tensor", "array", "context"]),
    ("tinyms.initializers", ["Normal"]),
    ("tinyms.layers", ["Layer", "Conv2d"]),
    ("tinyms.losses", ["SoftmaxCrossEntropyWithLogits"]),
    ("tinyms.metrics", ["Accuracy"]),
    ("tinyms.optimizers", ["Momentum"]),
    ("tinyms.primitives", ["Add", "tensor_add"]),
]

MODULES = [
    "tinyms", "tinyms.callbacks", "tinyms.common", "tinyms.context", "tinyms.data",
    "tinyms.initializers", "tinyms.layers", "tinyms.losses", "tinyms.metrics", "tinyms.model",
    "tinyms.optimizers", "tinyms.primitives", "tinyms.serving", "tinyms.vision",
]


@pytest.mark.parametrize("module,names", MODULE_TABLE)
def test_module_table_imports(module, names):
    loaded = importlib.import_module(module)
    for name in names:
        assert getattr(loaded, name) is not None


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_resolves(module):
    loaded = importlib.import_module(module)
    assert loaded.__all__, f"{module} has an empty __all__"
    for name in loaded.__all__:
        assert getattr(loaded, name) is not None, f"{module}.{name}"


# The examples verbatim, in order, after the values the note leaves to the reader.
NOTE_EXAMPLES = '''
device_target, lr, step_size = "CPU", 0.01, 10
is_saving_checkpoint, save_checkpoint_epochs = True, 1
image_path = "picture.jpg"

from tinyms.data import download_dataset, MnistDataset
mnist_path = download_dataset('mnist', local_path='./')
mnist_ds = MnistDataset(mnist_path, shuffle=True)

from PIL import Image
from tinyms.vision import mnist_transform
img = mnist_transform(Image.open('picture.jpg'))      # one image
mnist_ds = mnist_transform.apply_ds(mnist_ds)         # a whole dataset

from tinyms.model import Model, lenet5
net = lenet5(class_num=10)
from tinyms.losses import SoftmaxCrossEntropyWithLogits
from tinyms.optimizers import Momentum
net_loss = SoftmaxCrossEntropyWithLogits(sparse=True, reduction='mean')
net_opt = Momentum(net.trainable_params(), 0.01, 0.9)
model = Model(net)
model.compile(loss_fn=net_loss, optimizer=net_opt)

from tinyms.metrics import Accuracy
model.compile(metrics={"Accuracy": Accuracy()})

from tinyms.callbacks import mobilenetv2_cb
net_cb = mobilenetv2_cb(device_target, lr, is_saving_checkpoint, save_checkpoint_epochs, step_size)

from tinyms.serving import start_server, predict, list_servables, server_started, shutdown
start_server()
list_servables()
if server_started():
    res = predict(image_path, 'lenet5', 'mnist')
shutdown()
'''

CHECKS = '''
import json
assert img.shape == (1, 32, 32), img.shape
assert str(img.dtype) == "float32", img.dtype
batch = next(mnist_ds.create_dict_iterator(output_numpy=True))
assert batch["image"].shape == (32, 1, 32, 32), batch["image"].shape
assert len(net_cb) == 4
assert not server_started()
print(json.dumps({"mnist_path": mnist_path, "predictions": res["predictions"][:1]}))
'''


def test_note_examples_run_as_written(mnist_server, tmp_path):
    from tinyms.model import Model, lenet5

    workdir = tmp_path / "work"
    workdir.mkdir()
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[6:22, 13:16] = 255  # a "1"
    Image.fromarray(digit).save(workdir / "picture.jpg")
    checkpoint = Model(lenet5(class_num=10)).save_checkpoint(tmp_path / "lenet5.ckpt")
    config = tmp_path / "servables.yaml"
    config.write_text(textwrap.dedent(f"""\
        servables:
          - model: lenet5
            dataset: mnist
            checkpoint: {checkpoint}
        """))
    env = dict(
        os.environ,
        TINYMS_DATASET_MIRROR=mnist_server.url,
        TINYMS_DATASET_CHECKSUMS=mnist_server.url + "SHA256SUMS",
        TINYMS_SERVING_CONFIG=str(config),
    )
    env.pop("TINYMS_SERVING_URL", None)
    script = workdir / "examples.py"
    script.write_text(NOTE_EXAMPLES + CHECKS)
    result = subprocess.run([sys.executable, str(script)], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=420)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (workdir / "mnist" / "train" / "train-images-idx3-ubyte").is_file()
    assert '"label": ' in result.stdout.splitlines()[-1]
