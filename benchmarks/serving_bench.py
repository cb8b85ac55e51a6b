"""Serving throughput and latency against the same pipeline run in process.

Measures, in one run:

* in process: decode, transform, predict and postprocess one image at a time
  with the serving core's functions (no HTTP), LeNet5 on MNIST digits;
* the waitress server started by ``start_server`` on 127.0.0.1, with keep-alive
  HTTP clients at concurrency 1, 8 and 16, once with micro-batching (the
  default, up to 16 images a forward pass) and once without (``--max-batch-size 1``).

Each row gives requests/s and the p50 and p99 latency; the ratio column is
the rate over the in-process rate. The client threads run in this process, on
the same CPUs as the server.

Usage::

    python benchmarks/serving_bench.py --requests 400
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import http.client
import io
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np

import tinyms  # noqa: F401  (sets the CPU defaults before MindSpore loads)

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def _digits(count: int) -> list[bytes]:
    """Return ``count`` PNG-encoded MNIST test digits (synthetic noise if MNIST is absent)."""
    from PIL import Image

    path = MNIST_DIR / "t10k-images-idx3-ubyte.gz"
    if path.exists():
        with gzip.open(path, "rb") as handle:
            images = np.frombuffer(handle.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    else:
        images = np.random.default_rng(0).integers(0, 256, (count, 28, 28), dtype=np.uint8)
    encoded = []
    for index in range(count):
        buffer = io.BytesIO()
        Image.fromarray(images[index % len(images)]).save(buffer, format="PNG")
        encoded.append(buffer.getvalue())
    return encoded


def _summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    values = np.array(latencies) * 1000.0
    return {"rate": len(latencies) / elapsed, "p50": float(np.percentile(values, 50)),
            "p99": float(np.percentile(values, 99))}


def bench_in_process(checkpoint: str, images: list[bytes]) -> dict[str, float]:
    """Run the serving pipeline on each image in turn, without HTTP."""
    from tinyms.serving.config import parse_config
    from tinyms.serving.core import ServingCore, decode, postprocess, predict, preprocess

    config = parse_config([{"model": "lenet5", "dataset": "mnist", "checkpoint": checkpoint}])
    core = ServingCore(config, max_batch_size=1)
    core.load()
    servable = core.get("lenet5_mnist")
    try:
        for data in images[:20]:  # warm-up
            postprocess(servable, predict(servable, preprocess(servable, decode(data))[None])[0])
        latencies = []
        started = time.perf_counter()
        for data in images:
            begin = time.perf_counter()
            tensor = preprocess(servable, decode(data))
            postprocess(servable, predict(servable, tensor[None])[0], "TOP1_CLASS")
            latencies.append(time.perf_counter() - begin)
        return _summary(latencies, time.perf_counter() - started)
    finally:
        core.close()


def bench_server(url: str, images: list[bytes], concurrency: int) -> dict[str, float]:
    """Send every image once, from ``concurrency`` threads with keep-alive connections."""
    parts = urllib.parse.urlsplit(url)
    local = threading.local()
    path = "/servables/lenet5_mnist/predict"
    headers = {"Content-Type": "image/png"}

    def send(data: bytes) -> float:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=120)
        begin = time.perf_counter()
        connection.request("POST", path, body=data, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
        return time.perf_counter() - begin

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, images[: 2 * concurrency]))  # warm-up, opens the connections
        started = time.perf_counter()
        latencies = list(pool.map(send, images))
        elapsed = time.perf_counter() - started
    return _summary(latencies, elapsed)


def _untrained_checkpoint(folder: str) -> str:
    from tinyms.model import Model, get_network

    return Model(get_network("lenet5", class_num=10)).save_checkpoint(Path(folder) / "lenet5.ckpt")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="LeNet5 MNIST checkpoint (default: an untrained "
                        "one; the weights do not change the speed)")
    parser.add_argument("--requests", type=int, default=400,
                        help="Requests (images) per measurement (default: 400)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 16],
                        help="Client concurrency levels (default: 1 8 16)")
    args = parser.parse_args(argv)

    from tinyms.serving import shutdown, start_server

    with tempfile.TemporaryDirectory() as folder:
        checkpoint = args.checkpoint or _untrained_checkpoint(folder)
        images = _digits(args.requests)
        servables = [{"model": "lenet5", "dataset": "mnist", "checkpoint": checkpoint}]

        rows = [("in process, one image at a time", 1, bench_in_process(checkpoint, images))]
        for batch_size in (16, 1):
            start_server(port=0, servables=servables, max_batch_size=batch_size)
            try:
                from tinyms.serving import server_url

                for concurrency in args.concurrency:
                    label = f"server, max batch {batch_size}"
                    rows.append((label, concurrency,
                                 bench_server(server_url(), images, concurrency)))
            finally:
                shutdown()

    base = rows[0][2]["rate"]
    print(f"LeNet5 / MNIST PNG digits, {args.requests} requests per row, "
          f"Python {sys.version.split()[0]}")
    print("| pipeline | concurrency | requests/s | p50 ms | p99 ms | x in-process |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, concurrency, result in rows:
        print(f"| {label} | {concurrency} | {result['rate']:.1f} | {result['p50']:.2f} | "
              f"{result['p99']:.2f} | {result['rate'] / base:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
