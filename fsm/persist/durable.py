"""Crash-safe file writes: a durable directory entry, atomic replacement, and cleaning up what an
interrupted replacement left behind."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

_TEMP_SUFFIX = ".tmp"
T = TypeVar("T")


def fsync_directory(directory: Path) -> None:
    """Make a created, renamed or removed directory entry durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so a crash leaves the old file or the new one, never a mix;
    without ``durable`` (a file that can be made again) nothing is fsynced.

    A process killed before the rename leaves ``.<name>.<random>.tmp``; ``remove_stale_temp_files``
    removes it (``StateStore.open`` does, for its state file).
    """
    fd, temp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=path.parent)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(temp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if durable:
        fsync_directory(path.parent)


def claim_numbered(path: Path, tag: str, claim: Callable[[Path], T]) -> tuple[Path, T]:
    """The first ``<name>.<tag>-<n>`` beside ``path`` (n = 1, 2, ...) that ``claim`` creates, and what it
    returned; ``claim`` raises FileExistsError for a taken name, so nothing is ever replaced."""
    n = 1
    while True:
        target = path.with_name(f"{path.name}.{tag}-{n}")
        try:
            return target, claim(target)
        except FileExistsError:
            n += 1


def move_aside(path: Path, tag: str) -> Path:
    """Rename ``path`` to the first free ``<name>.<tag>-<n>`` (never over another file), durably."""
    target, _ = claim_numbered(path, tag, lambda free: os.link(path, free))
    os.unlink(path)
    fsync_directory(path.parent)
    return target


def remove_stale_temp_files(path: Path) -> int:
    """Delete the temp files an interrupted ``atomic_write`` of ``path`` left; how many were removed.

    Only call it when no write of ``path`` can be in progress (for a state file: under its lock).
    """
    name = re.compile(re.escape(_temp_prefix(path)) + "[A-Za-z0-9_]+" + re.escape(_TEMP_SUFFIX))
    removed = 0
    with os.scandir(path.parent) as entries:
        for entry in entries:
            if name.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    if removed:
        fsync_directory(path.parent)
    return removed
