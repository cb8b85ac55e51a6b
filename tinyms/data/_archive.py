"""Unpacking of downloaded files: safe tar extraction, gunzip and IDX checks.

Nothing here touches the network or renames files into place: the caller
writes to temporary names and renames them once a whole split is ready.
"""

from __future__ import annotations

import gzip
import logging
import shutil
import struct
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from tinyms.errors import DatasetError, DownloadError

__all__ = ["safe_extract_tar", "gunzip_file", "check_idx_file", "TMP_SUFFIX"]

logger = logging.getLogger(__name__)

TMP_SUFFIX = ".part"
_CHUNK = 1 << 20
_IDX_MAGIC = {2049: 1, 2051: 3}  # labels: 1 dimension, images: 3 dimensions


def _unsafe_reason(member: tarfile.TarInfo, dest: Path) -> str | None:
    """Return why extracting ``member`` under ``dest`` is unsafe, or None when it is safe."""
    name = member.name
    if name.startswith(("/", "\\")) or PurePosixPath(name).is_absolute() or ":" in name[:3]:
        return "it has an absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "its path contains '..'"
    target = (dest / name).resolve()
    if not target.is_relative_to(dest):
        return "its path resolves outside the destination"

    if member.issym():
        link = member.linkname
        if link.startswith(("/", "\\")) or PurePosixPath(link).is_absolute():
            return f"it is a symbolic link to the absolute path {link!r}"
        resolved = (dest / PurePosixPath(name).parent / link).resolve()
        if not resolved.is_relative_to(dest):
            return f"it is a symbolic link to {link!r}, outside the destination"
    elif member.islnk():
        resolved = (dest / member.linkname).resolve()
        if PurePosixPath(member.linkname).is_absolute() or not resolved.is_relative_to(dest):
            return f"it is a hard link to {member.linkname!r}, outside the destination"
    elif not (member.isfile() or member.isdir()):
        return "it is a device, FIFO or other special file"
    return None


def safe_extract_tar(archive: Path, dest: Path) -> list[Path]:
    """Extract the regular files and folders of a tar archive into ``dest``.

    Every member is checked before anything is written. An absolute path, a
    ``..`` component, a symbolic or hard link that points outside ``dest``, or a
    special file rejects the whole archive. Links that stay inside are checked
    but not created, since a dataset needs only its regular files.

    Returns:
        The paths of the regular files written.

    Raises:
        DownloadError: The archive cannot be read or has an unsafe member.
    """
    dest.mkdir(parents=True, exist_ok=True)
    dest = dest.resolve()
    written: list[Path] = []
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                reason = _unsafe_reason(member, dest)
                if reason:
                    raise DownloadError(
                        f"Rejected archive {archive.name}: member {member.name!r} is unsafe "
                        f"because {reason}. The file is not the expected dataset archive; "
                        "delete it and check the URL, the mirror or the checksums."
                    )
            for member in members:
                target = dest / member.name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    with source, open(target, "wb") as handle:
                        shutil.copyfileobj(source, handle, _CHUNK)
                    written.append(target)
                else:
                    logger.debug("Skipping link %s in %s", member.name, archive.name)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise DownloadError(
            f"Cannot read {archive.name} as a tar archive ({err}). Delete it and download again."
        ) from err
    return written


def gunzip_file(source: Path, target: Path) -> None:
    """Decompress ``source`` (gzip) into ``target``; a failure deletes ``target``.

    The caller passes a temporary name as ``target`` and renames it when the
    content is checked.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with gzip.open(source, "rb") as reader, open(target, "wb") as writer:
            shutil.copyfileobj(reader, writer, _CHUNK)
    except (OSError, EOFError, zlib.error) as err:
        target.unlink(missing_ok=True)
        raise DownloadError(
            f"Cannot decompress {source.name} as gzip ({err}). Delete it and download again."
        ) from err


def check_idx_file(path: Path, name: str | None = None) -> None:
    """Check that ``path`` is an IDX label (magic 2049) or image (2051) file of full length.

    Raises:
        DatasetError: The header is not an IDX header or the length does not match it.
    """
    name = name or str(path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        header = handle.read(16)
    magic = struct.unpack(">I", header[:4])[0] if len(header) >= 4 else None
    if magic not in _IDX_MAGIC:
        raise DatasetError(
            f"{name} is not an IDX file: its magic number is {magic!r}, expected 2049 "
            "(labels) or 2051 (images). The download is not MNIST data."
        )
    dims = _IDX_MAGIC[magic]
    if len(header) < 4 + 4 * dims:
        raise DatasetError(f"{name} is truncated: its IDX header is incomplete.")
    shape = struct.unpack(f">{dims}I", header[4:4 + 4 * dims])
    expected = 4 + 4 * dims
    count = 1
    for extent in shape:
        count *= extent
    expected += count
    if size != expected:
        raise DatasetError(
            f"{name} has {size} bytes, but its IDX header {shape} implies {expected}. "
            "The file is truncated or corrupt; delete the dataset folder and download again."
        )
