"""Reading files with an error that names them, and writing files so that a failure never leaves
one half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tracker.errors import InputError, TrackerError


def read_text(path: Path, error: type[TrackerError] = InputError) -> str:
    """The UTF-8 text of `path`; a missing or unreadable file raises `error` naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {path}: {exc}") from None


def write_files(files: Mapping[Path, str]) -> None:
    """Write every file or none: all contents go to temporary files first, then each is renamed
    over its target (an atomic step per file on POSIX)."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`."""
    write_files({path: text})


def write_checkout(files: Mapping[str, str], folder: str, root: Path) -> Path:
    """Write the files under repository folder `folder` (repository path -> text, as read from
    GitHub) below `root`, all or none, and return `root`: a scratch checkout of that folder."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    write_files(
        {
            root / path[len(prefix) :]: text
            for path, text in files.items()
            if path.startswith(prefix)
        }
    )
    return root
