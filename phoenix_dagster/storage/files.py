"""Files replaced whole: written to a temporary file beside the target, flushed to disk, then
renamed over it, and the rename itself flushed, so a reader — and a machine that lost power —
sees the old file or the new one, never half of one (nor an empty one: without the file's fsync
a crash after the rename can leave the new name on a file whose data never reached the disk)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def fsync_file(path: str | os.PathLike) -> None:
    """The file's data and size on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    """The folder's entries (a rename, a new or removed file) on disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Rename the written `tmp` over `path`: its data first on disk, then the rename."""
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)


def move_durably(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Move a file between folders of one filesystem, both folders' entries on disk."""
    os.replace(source, target)
    fsync_dir(Path(target).parent)
    fsync_dir(Path(source).parent)


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    """`write(temporary path)` fills the file; it then replaces `path` durably (a failed write
    leaves `path` as it was and no temporary file behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=f"{path.suffix}.tmp")
    os.close(handle)
    try:
        write(Path(tmp))
        replace_durably(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
