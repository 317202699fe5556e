"""One writer at a time on a catalog folder, and no half-finished write seen by anyone.

Every command that reads the local catalog to write it back (`run --dry-run`, `import`,
`render`; `review` and a publishing run work in scratch checkouts) holds `catalog_lock` from
the read to the write: a second one waits for the first to finish
and then reads what the first wrote, so two runs at once never lose a night. The lock is an
`fcntl.flock` on `.tracker.lock` in the catalog folder: the kernel releases it when its
process ends, however it ends, so a killed run never leaves a stale lock behind.

Taking the lock also finishes (or undoes) a write that a killed process left behind
(`tracker.fsutil.recover`); `settle` does the same for readers when no writer is at work.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tracker.errors import CatalogError
from tracker.fsutil import recover

LOCK_FILE = ".tracker.lock"
# How long a command waits for another one to finish with the catalog. A night's run takes
# minutes (arXiv asks for 3 s between requests); longer than this means something is stuck.
LOCK_WAIT = 1800.0
_POLL = 0.2
WAITING = "Waiting for another tracker process (pid {pid}) to finish with {folder} ..."

# Folders this process holds the lock of (the lock is re-entrant within a process).
_held: dict[Path, int] = {}


def _key(root: Path) -> Path:
    return Path(os.path.realpath(root))


@contextlib.contextmanager
def catalog_lock(
    root: Path,
    *,
    wait: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> Iterator[list[str]]:
    """Hold the catalog folder `root` for writing; yields notes about an interrupted write
    that was finished or undone. Waits up to `wait` seconds (default `LOCK_WAIT`) for another
    process (telling `notify` once), then raises CatalogError naming it."""
    wait = LOCK_WAIT if wait is None else wait
    key = _key(root)
    if key in _held:
        _held[key] += 1
        try:
            yield []
        finally:
            _held[key] -= 1
        return
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, root, wait, notify)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[key] = 1
        try:
            yield recover(root)
        finally:
            del _held[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def settle(root: Path) -> list[str]:
    """For readers: finish or undo an interrupted write in `root` if no process is writing
    there now (if one is, it finishes its own write). Returns notes."""
    key = _key(root)
    if key in _held:
        return []
    path = root / LOCK_FILE
    if not root.is_dir():
        return []
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return []  # a read-only checkout: nobody can have written there
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []
        try:
            return recover(root)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, root: Path, wait: float, notify: Callable[[str], None] | None) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    holder = _holder(fd)
    if notify is not None:
        notify(WAITING.format(pid=holder, folder=root))
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise CatalogError(
                    f"{root} is in use by another tracker process (pid {_holder(fd)}) "
                    f"for more than {wait:.0f} s; nothing was read or written",
                    hint="let it finish, or stop it, then run this command again",
                ) from None
            time.sleep(_POLL)


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
    except OSError:
        return "unknown"
