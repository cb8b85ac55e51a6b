"""Tests of download_dataset against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest
from fixtures_data import SHARED_MNIST, sha256_of

from tinyms import catalog
from tinyms.data import (
    CHECKSUMS_ENV,
    MIRROR_ENV,
    MnistDataset,
    _http,
    download_dataset,
    parse_sha256sums,
)
from tinyms.errors import (
    ChecksumError,
    DatasetError,
    DownloadError,
    InvalidArgumentError,
    UnknownNameError,
)

MNIST_GZ = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
TRAIN_IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST_IDX = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def shared_sums() -> dict[str, str]:
    return parse_sha256sums((SHARED_MNIST / "SHA256SUMS").read_text())


def assert_no_final_files(root: Path) -> None:
    """Check that a failed call left nothing at a final path under ``root``."""
    if not root.exists():
        return
    for name in MNIST_GZ:
        assert not (root / name).exists(), name
    for name in TRAIN_IDX:
        assert not (root / "train" / name).exists(), name
    for name in TEST_IDX:
        assert not (root / "test" / name).exists(), name
    assert not (root / ".tinyms-manifest.json").exists()


# --- success paths ---------------------------------------------------------------------


def test_mirror_with_sha256sums_url(mnist_server, tmp_path):
    root = download_dataset("mnist", tmp_path, mirror=mnist_server.url,
                            checksums=mnist_server.url + "SHA256SUMS")

    assert root == str(tmp_path / "mnist")
    assert sorted(p.name for p in (tmp_path / "mnist" / "train").iterdir()) == sorted(TRAIN_IDX)
    assert sorted(p.name for p in (tmp_path / "mnist" / "test").iterdir()) == sorted(TEST_IDX)
    assert not list((tmp_path / "mnist").rglob("*.part"))
    assert MnistDataset(root, usage="train").get_dataset_size() == 7000
    assert MnistDataset(root, usage="test").get_dataset_size() == 2000
    assert MnistDataset(root).get_dataset_size() == 9000


def test_unpacked_idx_matches_source(mnist_server, tmp_path):
    root = Path(download_dataset("mnist", tmp_path, mirror=mnist_server.url,
                                 checksums=SHARED_MNIST / "SHA256SUMS"))

    for gz_name in MNIST_GZ:
        split = "train" if gz_name.startswith("train") else "test"
        unpacked = (root / split / gz_name.removesuffix(".gz")).read_bytes()
        assert unpacked == gzip.decompress((SHARED_MNIST / gz_name).read_bytes())


def test_checksums_as_mapping(mnist_server, tmp_path):
    root = download_dataset("mnist", str(tmp_path), mirror=mnist_server.url,
                            checksums=shared_sums())
    assert MnistDataset(root, usage="test").get_dataset_size() == 2000


def test_mirror_from_environment(mnist_server, tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, mnist_server.url)
    download_dataset("mnist", tmp_path, checksums=shared_sums())
    for name in MNIST_GZ:
        assert mnist_server.count(name) == 1


def test_checksums_from_environment(mnist_server, tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, mnist_server.url)
    monkeypatch.setenv(CHECKSUMS_ENV, mnist_server.url + "SHA256SUMS")

    root = download_dataset("mnist", tmp_path)

    assert mnist_server.count("SHA256SUMS") == 1
    assert MnistDataset(root, usage="test").get_dataset_size() == 2000


def test_checksums_env_ignored_without_mirror(tmp_path, monkeypatch):
    """The variable never replaces official checksums on the official URLs."""
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.setenv(CHECKSUMS_ENV, str(SHARED_MNIST / "SHA256SUMS"))
    root = tmp_path / "mnist"
    root.mkdir()
    for name in MNIST_GZ:  # the subset's files fail the official MD5, so they are refetched
        (root / name).write_bytes((SHARED_MNIST / name).read_bytes())
    monkeypatch.setattr(_http, "ATTEMPTS", 1)
    monkeypatch.setattr(_http, "_open", _refuse_network)

    with pytest.raises(DownloadError, match="no network in tests"):
        download_dataset("mnist", tmp_path)


def _refuse_network(url: str, offset: int):
    raise DownloadError(f"no network in tests: {url}")


def test_mirror_may_be_local_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    root = download_dataset("mnist", tmp_path, mirror=str(SHARED_MNIST), checksums=shared_sums())
    assert MnistDataset(root, usage="train").get_dataset_size() == 7000


def test_second_call_makes_no_request(mnist_server, tmp_path):
    sums = shared_sums()
    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums)
    mnist_server.requests.clear()

    root = download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums)

    assert mnist_server.requests == []
    assert MnistDataset(root, usage="test").get_dataset_size() == 2000


def test_partial_tree_is_completed(mnist_server, tmp_path):
    sums = shared_sums()
    root = Path(download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums))
    for name in TRAIN_IDX:
        (root / "train" / name).unlink()
    for name in MNIST_GZ[:2]:
        (root / name).unlink()
    mnist_server.requests.clear()

    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums)

    assert sorted(name for name, _ in mnist_server.requests) == sorted(MNIST_GZ[:2])
    assert MnistDataset(str(root), usage="train").get_dataset_size() == 7000


def test_test_only_tree_rebuilt_offline(mnist_server, tmp_path, closed_port_url):
    sums = shared_sums()
    root = Path(download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums))
    for name in TRAIN_IDX:
        (root / "train" / name).unlink()

    # The kept .gz files are verified and unpacked again, with no server reachable.
    download_dataset("mnist", tmp_path, mirror=closed_port_url, checksums=sums)

    assert MnistDataset(str(root), usage="train").get_dataset_size() == 7000


def test_changed_unpacked_file_redone(mnist_server, tmp_path):
    sums = shared_sums()
    root = Path(download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums))
    labels = root / "test" / "t10k-labels-idx1-ubyte"
    data = bytearray(labels.read_bytes())
    data[-1] ^= 0xFF
    labels.write_bytes(bytes(data))

    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums)

    original = gzip.decompress((SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert labels.read_bytes() == original


def test_corrupt_file_on_disk_fetched_again(mnist_server, tmp_path):
    root = tmp_path / "mnist"
    root.mkdir()
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not the labels")

    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    assert mnist_server.count("t10k-labels-idx1-ubyte.gz") == 1
    assert (root / "t10k-labels-idx1-ubyte.gz").read_bytes() == \
        (SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes()


def test_file_copied_by_hand_is_used(mnist_server, tmp_path):
    root = tmp_path / "mnist"
    root.mkdir()
    for name in MNIST_GZ:
        (root / name).write_bytes((SHARED_MNIST / name).read_bytes())

    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    assert mnist_server.requests == []


def test_checksum_file_change_redownloads(mnist_server, tmp_path):
    """A tree unpacked from other files than the ones now expected is not reused."""
    sums = shared_sums()
    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums)
    replacement = gzip.compress(gzip.decompress((SHARED_MNIST / MNIST_GZ[3]).read_bytes()),
                                compresslevel=1, mtime=1)
    mnist_server.add_file(MNIST_GZ[3], replacement)
    sums[MNIST_GZ[3]] = sha256_of(replacement)
    mnist_server.requests.clear()

    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums)

    assert [name for name, _ in mnist_server.requests] == [MNIST_GZ[3]]


# --- transient failures: retry, resume, restart ------------------------------------------


def test_500s_then_success(mnist_server, tmp_path):
    mnist_server.fail("train-labels-idx1-ubyte.gz", status=500, times=2)
    mnist_server.fail("t10k-labels-idx1-ubyte.gz", status=503, times=1)

    root = download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    assert mnist_server.count("train-labels-idx1-ubyte.gz") == 3
    assert mnist_server.count("t10k-labels-idx1-ubyte.gz") == 2
    assert MnistDataset(root, usage="train").get_dataset_size() == 7000


def test_persistent_503_names_url_status(mnist_server, tmp_path):
    mnist_server.fail("t10k-images-idx3-ubyte.gz", status=503, times=99)

    with pytest.raises(DownloadError) as caught:
        download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    message = str(caught.value)
    assert mnist_server.url + "t10k-images-idx3-ubyte.gz" in message
    assert "503" in message
    assert mnist_server.count("t10k-images-idx3-ubyte.gz") == _http.ATTEMPTS
    assert not (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").exists()
    assert not (tmp_path / "mnist" / "test" / "t10k-images-idx3-ubyte").exists()


def test_truncated_body_resumes_with_range(mnist_server, tmp_path):
    name = "train-images-idx3-ubyte.gz"
    mnist_server.truncate(name, after=300_000)

    root = download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    ranges = [header for requested, header in mnist_server.requests if requested == name]
    assert ranges == [None, "bytes=300000-"]
    assert (Path(root) / name).read_bytes() == (SHARED_MNIST / name).read_bytes()
    assert MnistDataset(root, usage="train").get_dataset_size() == 7000


def test_range_ignored_restarts_download(mnist_server, tmp_path):
    name = "train-images-idx3-ubyte.gz"
    mnist_server.truncate(name, after=200_000)
    mnist_server.ignore_range = True

    root = download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    assert mnist_server.count(name) == 2
    assert (Path(root) / name).read_bytes() == (SHARED_MNIST / name).read_bytes()


def test_dropped_connection_retried(mnist_server, tmp_path):
    mnist_server.drop("t10k-images-idx3-ubyte.gz", times=2)

    root = download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    assert mnist_server.count("t10k-images-idx3-ubyte.gz") == 3
    assert MnistDataset(root, usage="test").get_dataset_size() == 2000


def test_stale_partial_file_restarted(mnist_server, tmp_path):
    name = "train-images-idx3-ubyte.gz"
    root = tmp_path / "mnist"
    root.mkdir()
    (root / (name + ".part")).write_bytes(b"\x00" * 1000)  # left by another file's download

    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    ranges = [header for requested, header in mnist_server.requests if requested == name]
    assert ranges == ["bytes=1000-", None]
    assert (root / name).read_bytes() == (SHARED_MNIST / name).read_bytes()


# --- failures that stop the download --------------------------------------------------


def test_404_names_url_without_retry(mnist_server, tmp_path):
    mnist_server.fail("train-labels-idx1-ubyte.gz", status=404, times=99)

    with pytest.raises(DownloadError) as caught:
        download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    assert mnist_server.url + "train-labels-idx1-ubyte.gz" in str(caught.value)
    assert "404" in str(caught.value)
    assert mnist_server.count("train-labels-idx1-ubyte.gz") == 1
    assert not (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").exists()
    assert not (tmp_path / "mnist" / "train").exists()


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/octet-stream"])
def test_html_page_rejected(mnist_server, tmp_path, content_type):
    mnist_server.serve_html("t10k-labels-idx1-ubyte.gz", times=99, content_type=content_type)

    with pytest.raises(DownloadError, match="HTML") as caught:
        download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())

    assert mnist_server.url + "t10k-labels-idx1-ubyte.gz" in str(caught.value)
    assert not (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    assert not (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz.part").exists()
    assert not (tmp_path / "mnist" / "test").exists()


def test_official_checksum_mismatch_rejected(mnist_server, tmp_path):
    """The subset is not the official MNIST, so its files fail the official MD5."""
    with pytest.raises(ChecksumError) as caught:
        download_dataset("mnist", tmp_path, mirror=mnist_server.url)

    message = str(caught.value)
    assert "MD5 9fb629c4189551a2d022fa330f9573f3" in message
    assert "checksums=" in message
    assert_no_final_files(tmp_path / "mnist")
    assert not (tmp_path / "mnist").exists()


def test_wrong_sha256_rejected(mnist_server, tmp_path):
    sums = shared_sums()
    sums["train-labels-idx1-ubyte.gz"] = "0" * 64

    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte.gz"):
        download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums)

    assert not (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").exists()
    assert not (tmp_path / "mnist" / "train" / "train-labels-idx1-ubyte").exists()
    assert not (tmp_path / "mnist" / ".tinyms-manifest.json").exists()


def test_connection_failure_explains_mirror(closed_port_url, tmp_path, fast_retries):
    with pytest.raises(DownloadError) as caught:
        download_dataset("mnist", tmp_path, mirror=closed_port_url, checksums=shared_sums())

    message = str(caught.value)
    assert closed_port_url in message
    assert "mirror=" in message
    assert MIRROR_ENV in message
    assert f"into {tmp_path / 'mnist'}" in message
    assert not (tmp_path / "mnist").exists()


def test_checksums_missing_file_rejected(mnist_server, tmp_path):
    sums = shared_sums()
    del sums["t10k-images-idx3-ubyte.gz"]

    with pytest.raises(InvalidArgumentError, match="t10k-images-idx3-ubyte.gz"):
        download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums)

    assert mnist_server.requests == []


def test_malformed_sha256sums_rejected(mnist_server, tmp_path):
    url = mnist_server.add_file("BADSUMS", b"abc123  train-images-idx3-ubyte.gz\n")

    with pytest.raises(InvalidArgumentError, match="BADSUMS line 1"):
        download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=url)


def test_bad_checksum_value_rejected(tmp_path):
    with pytest.raises(InvalidArgumentError, match="SHA-256"):
        download_dataset("mnist", tmp_path, mirror="http://127.0.0.1:9/",
                         checksums={"train-images-idx3-ubyte.gz": "md5:1234"})


def test_non_idx_content_rejected(mnist_server, tmp_path):
    """A file that passes its (mirror) checksum but is not IDX data never lands."""
    sums = shared_sums()
    bogus = gzip.compress(b"\x00\x00\x00\x07" + b"\x01" * 100)
    mnist_server.add_file("t10k-labels-idx1-ubyte.gz", bogus)
    sums["t10k-labels-idx1-ubyte.gz"] = sha256_of(bogus)

    with pytest.raises(DatasetError, match="not an IDX file"):
        download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums)

    assert not (tmp_path / "mnist" / "test" / "t10k-labels-idx1-ubyte").exists()
    assert not (tmp_path / "mnist" / "test" / "t10k-labels-idx1-ubyte.part").exists()
    assert not (tmp_path / "mnist" / ".tinyms-manifest.json").exists()


def test_unknown_dataset_name(tmp_path):
    with pytest.raises(UnknownNameError, match="cifar10"):
        download_dataset("mnits", tmp_path)


def test_dataset_without_download(tmp_path):
    with pytest.raises(InvalidArgumentError, match="image_folder"):
        download_dataset("image_folder", tmp_path)


# --- archives ---------------------------------------------------------------------------


def _tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


UNSAFE_MEMBERS = {
    "absolute": [_file("/tmp/tinyms-evil.txt", b"x")],
    "dotdot": [_file("cifar-10-batches-bin/../../evil.txt", b"x")],
    "symlink_out": [_link("cifar-10-batches-bin/data_batch_1.bin", "../../../etc/passwd",
                          tarfile.SYMTYPE)],
    "symlink_absolute": [_link("cifar-10-batches-bin/test_batch.bin", "/etc/passwd",
                               tarfile.SYMTYPE)],
    "hardlink_out": [_link("cifar-10-batches-bin/test_batch.bin", "../outside.txt",
                           tarfile.LNKTYPE)],
    "device": [_link("cifar-10-batches-bin/null", "", tarfile.CHRTYPE)],
}


@pytest.mark.parametrize("case", sorted(UNSAFE_MEMBERS))
def test_unsafe_archive_rejected(file_server, tmp_path, case):
    served = tmp_path / "served"
    served.mkdir()
    archive = _tar_gz([_file("cifar-10-batches-bin/batches.meta.txt", b"cat\n"),
                       *UNSAFE_MEMBERS[case]])
    server = file_server(served)
    server.add_file("cifar-10-binary.tar.gz", archive)
    target = tmp_path / "data"

    with pytest.raises(DownloadError, match="Rejected archive"):
        download_dataset("cifar10", target, mirror=server.url,
                         checksums={"cifar-10-binary.tar.gz": sha256_of(archive)})

    root = target / "cifar10"
    assert not (target / "evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert not (target / "outside.txt").exists()
    assert not (root / "train").exists()
    assert not (root / "test").exists()
    assert not list(root.glob(".*.extract"))


def test_archive_missing_member_rejected(file_server, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    archive = _tar_gz([_file("cifar-10-batches-bin/test_batch.bin", b"\x00" * 3073),
                       _file("cifar-10-batches-bin/batches.meta.txt", b"cat\n")])
    server = file_server(served)
    server.add_file("cifar-10-binary.tar.gz", archive)

    with pytest.raises(DatasetError, match="data_batch_1.bin"):
        download_dataset("cifar10", tmp_path, mirror=server.url,
                         checksums={"cifar-10-binary.tar.gz": sha256_of(archive)})

    assert not (tmp_path / "cifar10" / "test" / "test_batch.bin").exists()
    assert not (tmp_path / "cifar10" / "train").exists()


@pytest.fixture(scope="session")
def cifar10_archive(cifar10_root, tmp_path_factory) -> Path:
    """The CIFAR-10 test fixture packed as the official archive lays it out."""
    folder = tmp_path_factory.mktemp("cifar10_archive")
    path = folder / "cifar-10-binary.tar.gz"
    with tarfile.open(path, mode="w:gz", compresslevel=1) as tar:
        for split in ("train", "test"):
            for member in sorted((cifar10_root / split).iterdir()):
                if split == "test" and member.name == "batches.meta.txt":
                    continue
                tar.add(member, arcname=f"cifar-10-batches-bin/{member.name}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "SHA256SUMS").write_text(f"{digest}  {path.name}\n")
    return folder


def test_cifar10_archive_extracted(file_server, cifar10_archive, tmp_path):
    from tinyms.data import Cifar10Dataset

    server = file_server(cifar10_archive)

    root = Path(download_dataset("cifar10", tmp_path, mirror=server.url,
                                 checksums=server.url + "SHA256SUMS"))

    assert sorted(p.name for p in (root / "train").iterdir()) == [
        "batches.meta.txt", *[f"data_batch_{i}.bin" for i in range(1, 6)]]
    assert sorted(p.name for p in (root / "test").iterdir()) == [
        "batches.meta.txt", "test_batch.bin"]
    assert not list(root.glob(".*.extract"))
    assert Cifar10Dataset(str(root), usage="train").get_dataset_size() == 50_000
    assert Cifar10Dataset(str(root), usage="test").get_dataset_size() == 10_000


# --- the packaged sample -----------------------------------------------------------------


def test_mnist_sample_offline(tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:9/unused/")  # must not apply
    monkeypatch.setenv(CHECKSUMS_ENV, "/nonexistent/SHA256SUMS")  # must not apply

    root = download_dataset("mnist_sample", tmp_path)

    assert root == str(tmp_path / "mnist_sample")
    assert MnistDataset(root, usage="train").get_dataset_size() == 3000
    assert MnistDataset(root, usage="test").get_dataset_size() == 1000


def test_mnist_sample_checksums_agree():
    import tinyms.data

    sample = Path(tinyms.data.__file__).parent / "sample" / "mnist"
    shipped = parse_sha256sums((sample / "SHA256SUMS").read_text())
    files = catalog.dataset_info("mnist_sample")["download"]["files"]

    assert sorted(shipped) == sorted(files)
    for name, spec in files.items():
        data = (sample / name).read_bytes()
        assert spec["sha256"] == shipped[name] == sha256_of(data), name
        assert spec["size"] == len(data), name
    readme = (sample / "README.md").read_text()
    assert "CC BY-SA 3.0" in readme
    assert "LeCun" in readme


def test_mnist_sample_digits_are_real_mnist():
    """The sample is the first 3,000 train and 1,000 test digits of the shared subset."""
    import tinyms.data

    sample = Path(tinyms.data.__file__).parent / "sample" / "mnist"
    for name, header, item in (("train-images-idx3-ubyte.gz", 16, 784),
                               ("t10k-labels-idx1-ubyte.gz", 8, 1)):
        ours = gzip.decompress((sample / name).read_bytes())
        theirs = gzip.decompress((SHARED_MNIST / name).read_bytes())
        count = (len(ours) - header) // item
        assert count in (3000, 1000)
        assert ours[header:] == theirs[header:header + count * item]


# --- manifest and progress -----------------------------------------------------------------


def test_manifest_records_sources(mnist_server, tmp_path):
    sums = shared_sums()
    root = Path(download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=sums))

    manifest = json.loads((root / ".tinyms-manifest.json").read_text())

    assert manifest["sources"]["test"] == {
        "t10k-images-idx3-ubyte.gz": "sha256:" + sums["t10k-images-idx3-ubyte.gz"],
        "t10k-labels-idx1-ubyte.gz": "sha256:" + sums["t10k-labels-idx1-ubyte.gz"],
    }
    assert set(manifest["files"]) == {f"train/{n}" for n in TRAIN_IDX} | \
        {f"test/{n}" for n in TEST_IDX}


def test_progress_quiet_when_not_tty(mnist_server, tmp_path, capsys):
    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())
    assert capsys.readouterr().err == ""


def test_progress_shown_on_tty(mnist_server, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    download_dataset("mnist", tmp_path, mirror=mnist_server.url, checksums=shared_sums())
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err
