"""``download_dataset``: fetch, verify and unpack a dataset from the catalog.

The catalog (``tinyms/catalog/datasets.yaml``) gives each dataset's official
base URL, its files with sizes and checksums, and the files each split folder
must hold. A dataset root ``<local_path>/<name>`` ends up as::

    <name>/
        train/                  the training split, in the format MindSpore reads
        test/                   the test split
        <downloaded files>      kept, so a later call can rebuild a split offline
        .tinyms-manifest.json   size and SHA-256 of every unpacked file

A split counts as present only when every file of it matches the manifest and
was unpacked from files with the checksums that this call expects.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

from tinyms import catalog
from tinyms.errors import ChecksumError, DatasetError, DownloadError, InvalidArgumentError

from ._archive import TMP_SUFFIX, check_idx_file, gunzip_file, safe_extract_tar
from ._http import ConnectionFailedError, fetch, fetch_bytes, is_url

__all__ = [
    "download_dataset",
    "downloadable_datasets",
    "parse_sha256sums",
    "MIRROR_ENV",
    "CHECKSUMS_ENV",
]

logger = logging.getLogger(__name__)

MIRROR_ENV = "TINYMS_DATASET_MIRROR"
"""Environment variable whose value replaces the official base URL when ``mirror`` is None."""
CHECKSUMS_ENV = "TINYMS_DATASET_CHECKSUMS"
"""Environment variable with the path or URL of a SHA256SUMS file, used as ``checksums``
when that argument is None and a mirror is in use."""

MANIFEST_NAME = ".tinyms-manifest.json"
_PACKAGE_PREFIX = "package:"
_SPLITS = ("train", "test")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")

PathLike = Union[str, "os.PathLike[str]"]
Checksums = Union[Mapping[str, str], PathLike, None]


class _Expected:
    """The checksum (and, for official files, the size) a downloaded file must match."""

    def __init__(self, algorithm: str, digest: str, size: int | None, source: str):
        self.algorithm = algorithm
        self.digest = digest.lower()
        self.size = size
        self.source = source

    @property
    def tag(self) -> str:
        return f"{self.algorithm}:{self.digest}"


def downloadable_datasets() -> list[str]:
    """Return the catalog names that ``download_dataset`` accepts."""
    return [name for name in catalog.names("dataset") if "download" in catalog.dataset_info(name)]


def parse_sha256sums(text: str, where: str = "SHA256SUMS") -> dict[str, str]:
    """Parse ``sha256sum`` output (``<hex>  <name>`` or ``<hex> *<name>`` lines).

    Blank lines and lines starting with ``#`` are skipped; the folder part of a
    name is dropped.

    Raises:
        InvalidArgumentError: A line is not a 64-digit hex digest and a file name.
    """
    table: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not _SHA256.match(parts[0]):
            raise InvalidArgumentError(
                f"{where} line {number} is invalid: {line!r}. "
                "Expected '<64 hex digits>  <file name>'."
            )
        name = parts[1].strip().lstrip("*").replace("\\", "/").rsplit("/", 1)[-1]
        table[name] = parts[0].lower()
    return table


def _load_checksums(checksums: Checksums) -> dict[str, str]:
    if isinstance(checksums, Mapping):
        table = {}
        for name, digest in checksums.items():
            if not isinstance(digest, str) or not _SHA256.match(digest):
                raise InvalidArgumentError(
                    f"checksums[{name!r}] = {digest!r} is not a SHA-256 digest: "
                    "expected 64 hexadecimal digits."
                )
            table[str(name)] = digest.lower()
        return table
    if isinstance(checksums, (str, os.PathLike)):
        location = os.fspath(checksums)
        raw = fetch_bytes(location)
        return parse_sha256sums(raw.decode("utf-8", errors="replace"), where=location)
    raise InvalidArgumentError(
        f"checksums={checksums!r} ({type(checksums).__name__}) is invalid: expected a mapping "
        "of file name to SHA-256, or the path or URL of a SHA256SUMS file."
    )


def _expected_checksums(name: str, files: Mapping[str, Any], needed: list[str],
                        checksums: Checksums) -> dict[str, _Expected]:
    if checksums is None:
        result = {}
        for file_name in needed:
            spec = files[file_name]
            algorithm = "sha256" if spec.get("sha256") else "md5"
            result[file_name] = _Expected(algorithm, spec[algorithm], spec.get("size"),
                                          "the dataset catalog")
        return result

    table = _load_checksums(checksums)
    missing = [file_name for file_name in needed if file_name not in table]
    if missing:
        raise InvalidArgumentError(
            f"checksums has no SHA-256 for {', '.join(missing)} (dataset {name!r}); it lists "
            f"{', '.join(sorted(table)) or 'no files'}. Add a line for each file the "
            "mirror serves."
        )
    return {file_name: _Expected("sha256", table[file_name], None, "checksums")
            for file_name in needed}


def _sources(download: Mapping[str, Any], mirror: PathLike | None,
             checksums: Checksums) -> tuple[list[str], Checksums]:
    """Return the base locations to try in order, and the checksums to expect.

    The environment variables apply only to datasets fetched from the network,
    never to files shipped inside the package.
    """
    base = str(download["base_url"])
    if base.startswith(_PACKAGE_PREFIX):
        # Files shipped inside tinyms.data, such as the MNIST sample.
        packaged = Path(__file__).parent / base[len(_PACKAGE_PREFIX):]
        return ([os.fspath(mirror)] if mirror is not None else [str(packaged)]), checksums
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or None
        if mirror:
            logger.info("Using the mirror %s from %s", mirror, MIRROR_ENV)
    if mirror is None:
        return [base, *download.get("mirrors", [])], checksums
    if checksums is None and os.environ.get(CHECKSUMS_ENV):
        checksums = os.environ[CHECKSUMS_ENV]
        logger.info("Using the checksums %s from %s", checksums, CHECKSUMS_ENV)
    return [os.fspath(mirror)], checksums


def _join(base: str, file_name: str) -> str:
    if is_url(base) or base.startswith("file://"):
        return base.rstrip("/") + "/" + urllib.parse.quote(file_name)
    return str(Path(base).expanduser() / file_name)


def _digest(path: Path, algorithm: str) -> str:
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def _matches(path: Path, expected: _Expected) -> tuple[bool, str]:
    if expected.size is not None and path.stat().st_size != expected.size:
        return False, f"{path.stat().st_size} bytes instead of {expected.size}"
    actual = _digest(path, expected.algorithm)
    if actual != expected.digest:
        return False, f"{expected.algorithm.upper()} {actual} instead of {expected.digest}"
    return True, ""


def _connection_hint(name: str, file_name: str, root: Path) -> str:
    return (
        f" To download without this host, pass mirror='<base URL or folder>' to "
        f"download_dataset (or set {MIRROR_ENV}), with checksums='<path or URL of "
        "SHA256SUMS>' if the mirror serves other files than the official ones. Or copy "
        f"{file_name} into {root} and call download_dataset({name!r}, ...) again: files "
        "already there are verified and used."
    )


def _fetch_verified(location: str, part: Path, expected: _Expected, file_name: str) -> None:
    """Fetch ``location`` into ``part`` and check it; restart once if a resumed file fails."""
    resumed = part.exists() and part.stat().st_size > 0
    if resumed and expected.size is not None and part.stat().st_size > expected.size:
        part.unlink()
        resumed = False
    if not (resumed and expected.size is not None and part.stat().st_size == expected.size):
        fetch(location, part, file_name)

    ok, problem = _matches(part, expected)
    if not ok and resumed:
        logger.warning("Resumed %s fails its checksum (%s); downloading it again from the start",
                       file_name, problem)
        part.unlink()
        fetch(location, part, file_name)
        ok, problem = _matches(part, expected)
    if not ok:
        part.unlink()
        raise ChecksumError(
            f"{file_name} from {location} fails its checksum: got {problem}; expected "
            f"{expected.algorithm.upper()} {expected.digest} from {expected.source}. The file "
            "was deleted. If the mirror serves other files than the official ones, pass "
            "checksums= with their SHA-256 values."
        )


def _obtain(name: str, file_name: str, root: Path, sources: list[str],
            expected: _Expected) -> Path:
    """Return the verified file ``root/file_name``, reusing a copy on disk or fetching one."""
    final = root / file_name
    if final.is_file():
        ok, problem = _matches(final, expected)
        if ok:
            logger.info("Using %s, already on disk and verified", final)
            return final
        logger.warning("%s on disk fails its checksum (%s); fetching it again", final, problem)
        final.unlink()

    part = root / (file_name + TMP_SUFFIX)
    errors: list[tuple[str, DownloadError]] = []
    try:
        for base in sources:
            location = _join(base, file_name)
            try:
                _fetch_verified(location, part, expected, file_name)
            except DownloadError as err:
                logger.warning("Fetching %s failed: %s", location, err)
                errors.append((location, err))
                continue
            os.replace(part, final)
            logger.info("Fetched %s from %s", file_name, location)
            return final
    finally:
        if part.exists() and part.stat().st_size == 0:
            part.unlink()

    last = errors[-1][1]
    message = str(last) if len(errors) == 1 else (
        f"Fetching {file_name} failed from every source: "
        + " ".join(f"[{location}] {err}" for location, err in errors)
    )
    if any(isinstance(err, ConnectionFailedError) for _, err in errors):
        message += _connection_hint(name, file_name, root)
    raise type(last)(message) from last


class _Manifest:
    """The record of unpacked files (size, SHA-256) and the checksums of their sources."""

    def __init__(self, root: Path):
        self.path = root / MANIFEST_NAME
        self.files: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, str]] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.files = dict(data.get("files", {}))
            self.sources = dict(data.get("sources", {}))
        except (OSError, ValueError, AttributeError):
            pass

    def record(self, root: Path, path: Path) -> None:
        key = path.relative_to(root).as_posix()
        self.files[key] = {"size": path.stat().st_size, "sha256": _digest(path, "sha256")}

    def split_complete(self, root: Path, split: str, names: list[str],
                       sources: dict[str, str]) -> bool:
        if self.sources.get(split) != sources:
            return False
        for file_name in names:
            key = f"{split}/{file_name}"
            path = root / key
            entry = self.files.get(key)
            if entry is None or not path.is_file() or path.stat().st_size != entry["size"]:
                return False
            if _digest(path, "sha256") != entry["sha256"]:
                logger.warning("%s changed since it was unpacked; unpacking it again", path)
                return False
        return True

    def save(self) -> None:
        part = self.path.with_name(self.path.name + TMP_SUFFIX)
        data = {"files": self.files, "sources": self.sources}
        part.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(part, self.path)


def _split_files(layout: Mapping[str, list[str]], split: str) -> list[str]:
    return [*layout[split], *layout.get("shared", [])]


def _source_files(files: Mapping[str, Any], layout: Mapping[str, list[str]],
                  split: str) -> list[str]:
    """Return the downloaded files that one split is unpacked from."""
    result = []
    for file_name, spec in files.items():
        if spec["unpack"] == "gzip":
            if file_name.removesuffix(".gz") in layout[split]:
                result.append(file_name)
        else:  # an archive contains every split
            result.append(file_name)
    return result


def _unpack_gzip(file_name: str, archive: Path, root: Path, layout: Mapping[str, list[str]],
                 splits: list[str], is_idx: bool, placed: list[tuple[Path, Path]]) -> None:
    """Decompress one .gz file to a temporary name; append ``(temporary, final)`` to ``placed``."""
    output = file_name.removesuffix(".gz")
    for split in splits:
        if output in layout[split]:
            target = root / split / output
            part = target.with_name(target.name + TMP_SUFFIX)
            placed.append((part, target))
            gunzip_file(archive, part)
            if is_idx:
                check_idx_file(part, output)


def _unpack_tar(file_name: str, archive: Path, root: Path, layout: Mapping[str, list[str]],
                splits: list[str], placed: list[tuple[Path, Path]]) -> None:
    """Extract one archive and copy each split's files to temporary names beside their
    final ones; append ``(temporary, final)`` pairs to ``placed``."""
    staging = root / f".{file_name}.extract"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        written = safe_extract_tar(archive, staging)
        by_name: dict[str, list[Path]] = {}
        for path in written:
            by_name.setdefault(path.name, []).append(path)

        for split in splits:
            for output in _split_files(layout, split):
                found = by_name.get(output, [])
                if len(found) != 1:
                    problem = "no file" if not found else f"{len(found)} files"
                    raise DatasetError(
                        f"{file_name} contains {problem} named {output}; expected exactly one. "
                        "The archive is not the expected dataset archive."
                    )
                target = root / split / output
                part = target.with_name(target.name + TMP_SUFFIX)
                target.parent.mkdir(parents=True, exist_ok=True)
                placed.append((part, target))
                shutil.copyfile(found[0], part)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_empty_dirs(root: Path, created: bool) -> None:
    for split in _SPLITS:
        folder = root / split
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if created and root.is_dir() and not any(root.iterdir()):
        root.rmdir()


def download_dataset(name: str, local_path: PathLike = ".", mirror: PathLike | None = None,
                     checksums: Checksums = None) -> str:
    """Download, verify and unpack a dataset; return its root ``<local_path>/<name>``.

    The root contains ``train/`` and ``test/`` in the format MindSpore's readers take
    (MNIST: the four uncompressed IDX files; CIFAR: the binary batches), so
    ``MnistDataset(download_dataset('mnist'))`` works as written. Splits already
    present and verified are kept, missing ones are completed. Files are fetched
    to a temporary name beside their final one and renamed once they match their
    checksum. An interrupted transfer resumes with an HTTP Range request, and
    transient errors are retried with backoff. A tqdm progress bar shows on a
    terminal.

    Args:
        name: A catalog dataset name: ``'mnist'``, ``'cifar10'``, ``'cifar100'`` or
            ``'mnist_sample'`` (4,000 MNIST digits shipped with tinyms, no network).
        local_path: The folder to create ``<name>/`` in. Default: the current folder.
        mirror: A base URL (``https://host/mnist/``) or local folder to fetch the files
            from in place of the official base URL. Default: the ``TINYMS_DATASET_MIRROR``
            environment variable, else the official URL and its known mirrors.
        checksums: For a mirror that serves other files than the official ones: a
            mapping of file name to SHA-256, or the path or URL of a ``SHA256SUMS``
            file. Default: with a mirror, the ``TINYMS_DATASET_CHECKSUMS`` environment
            variable if set; else the official checksums in the catalog (MD5 where the
            publisher gives only MD5).

    Returns:
        The dataset root as a string.

    Raises:
        UnknownNameError: ``name`` is not a catalog dataset.
        InvalidArgumentError: ``name`` has no download, or ``checksums`` is invalid or
            lacks a file.
        ChecksumError: A file does not match its checksum (it is deleted).
        DownloadError: A connection failure (the message says how to use a mirror or
            local files), an HTTP error (naming URL and status), an HTML page in
            place of a file, or an unsafe or unreadable archive.
        DatasetError: An unpacked file is not in the expected format.

    Example:
        >>> from tinyms.data import download_dataset, MnistDataset
        >>> root = download_dataset('mnist_sample', local_path='/tmp/data')
        >>> train = MnistDataset(root, usage='train', shuffle=True)
    """
    info = catalog.dataset_info(name)
    if "download" not in info:
        raise InvalidArgumentError(
            f"Dataset {name!r} has no download. Datasets that download_dataset fetches: "
            f"{', '.join(downloadable_datasets())}. Load your own folder with get_dataset."
        )
    download, layout = info["download"], info["layout"]
    files: Mapping[str, Any] = download["files"]
    root = Path(local_path).expanduser() / name
    if root.exists() and not root.is_dir():
        raise DatasetError(
            f"{root} exists and is not a folder; move it or pick another local_path."
        )

    splits = [split for split in _SPLITS if split in layout]
    needed_by_split = {split: _source_files(files, layout, split) for split in splits}
    all_needed = sorted({f for names in needed_by_split.values() for f in names})
    sources, checksums = _sources(download, mirror, checksums)
    expected = _expected_checksums(name, files, all_needed, checksums)
    source_tags = {split: {f: expected[f].tag for f in needed_by_split[split]} for split in splits}

    manifest = _Manifest(root)
    missing = [split for split in splits
               if not manifest.split_complete(root, split, _split_files(layout, split),
                                              source_tags[split])]
    if not missing:
        logger.info("Dataset %s is already complete in %s", name, root)
        return str(root)
    logger.info("Preparing the %s split(s) of %s in %s", ", ".join(missing), name, root)

    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    is_idx = info.get("loader") == "mnist"
    placed: list[tuple[Path, Path]] = []
    try:
        # Fetch every file first, then unpack to temporary names, then rename: a
        # failure at any step leaves no split half-replaced.
        to_fetch = [f for f in all_needed if any(f in needed_by_split[s] for s in missing)]
        fetched = {f: _obtain(name, f, root, sources, expected[f]) for f in to_fetch}
        for file_name, path in fetched.items():
            if files[file_name]["unpack"] == "gzip":
                _unpack_gzip(file_name, path, root, layout, missing, is_idx, placed)
            else:
                _unpack_tar(file_name, path, root, layout, missing, placed)
        for part, target in placed:
            os.replace(part, target)
            manifest.record(root, target)
        for split in missing:
            manifest.sources[split] = source_tags[split]
        manifest.save()
    except BaseException:
        for part, _ in placed:
            part.unlink(missing_ok=True)
        _remove_empty_dirs(root, created)
        raise
    logger.info("Dataset %s is ready in %s", name, root)
    return str(root)
