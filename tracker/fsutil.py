"""Reading files with an error that names them, and writing files so that a failure, even
SIGKILL, never leaves them half-written or mixed.

`write_files` replaces several files as one step, through a journal in their common folder:

1. each new content goes to a temporary file beside its target (`.NAME.tracker-XXXXXXXX.tmp`),
   with the target's permission bits; a symlinked target is written through its link, which
   stays a link;
2. the journal (`.tracker-journal.json`) is written atomically, listing every temporary file and
   its target: from this moment the write counts as done;
3. each temporary file is renamed over its target, then the journal is removed.

`recover` finishes a write that a killed process left after step 2 (rolls it forward) and
deletes what one left before it (temporary files, rolls it back). Every `write_files` starts
with it, and so does taking the catalog lock, so that the next command sees all of a write or
none of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
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


JOURNAL = ".tracker-journal.json"
_TMP_INFIX = ".tracker-"
# Temporary files of this module (and the older `.NAME.XXXXXXXX.tmp` form of earlier
# versions, which SIGKILL could leave in the catalog).
_TMP_NAME = re.compile(r"^\..+\.(tracker-)?[A-Za-z0-9_]{8}\.tmp$")
_JOURNAL_TMP = re.compile(r"^" + re.escape(JOURNAL) + r"\..+\.tmp$")


def write_files(files: Mapping[Path, str]) -> None:
    """Write every file or none, even if the process is killed midway (see the module
    docstring). Symlinks are written through and kept; an existing file keeps its mode, a new
    one gets the umask's."""
    if not files:
        return
    # The journal goes where the caller's paths are (the catalog folder), even when a file
    # there is a link to elsewhere: that is where `recover` looks.
    folder = Path(os.path.commonpath([str(Path(path).absolute().parent) for path in files]))
    targets = {Path(os.path.realpath(path)): text for path, text in files.items()}
    recover(folder)
    staged: list[tuple[Path, Path]] = []
    committed = False
    try:
        for target, text in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(
                prefix=f".{target.name}{_TMP_INFIX}", suffix=".tmp", dir=target.parent
            )
            staged.append((Path(name), target))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fchmod(handle.fileno(), _mode_for(target))
                os.fsync(handle.fileno())
        _write_journal(folder, staged)
        committed = True
        _apply(staged)
        _remove_journal(folder)
    finally:
        if not committed:
            for tmp, _ in staged:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()


def write_text(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`."""
    write_files({path: text})


def recover(folder: Path) -> list[str]:
    """Finish or undo an interrupted `write_files` in `folder`: a journal is rolled forward; a
    temporary file no journal lists is deleted. Returns what was done, for a note; safe to
    call when nothing is pending (returns [])."""
    done: list[str] = []
    journal = folder / JOURNAL
    if journal.is_file():
        pairs = _read_journal(journal)
        if pairs is not None:
            _apply([(tmp, target) for tmp, target in pairs if tmp.exists()])
            done.append(f"finished an interrupted write of {len(pairs)} file(s) in {folder}")
        journal.unlink()
    leftovers = _leftovers(folder)
    for path in leftovers:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    if leftovers:
        done.append(f"removed {len(leftovers)} temporary file(s) of an interrupted write")
    return done


def _leftovers(folder: Path) -> list[Path]:
    """Temporary files of ours in `folder` and its direct subfolders (catalog/templates/)."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted([*folder.glob(".*.tmp"), *folder.glob("*/.*.tmp")]):
        if path.is_file() and (_TMP_NAME.match(path.name) or _JOURNAL_TMP.match(path.name)):
            out.append(path)
    return out


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _write_journal(folder: Path, staged: list[tuple[Path, Path]]) -> None:
    data = {"version": 1, "files": [[str(tmp), str(target)] for tmp, target in staged]}
    fd, tmp = tempfile.mkstemp(prefix=f"{JOURNAL}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / JOURNAL)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _read_journal(journal: Path) -> list[tuple[Path, Path]] | None:
    """The journal's (temporary, target) pairs; None when it cannot be read (it is written
    atomically, so that means someone else's damage: nothing is rolled forward)."""
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        return [(Path(tmp), Path(target)) for tmp, target in data["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _apply(staged: list[tuple[Path, Path]]) -> None:
    for tmp, target in staged:
        os.replace(tmp, target)
    for folder in {target.parent for _, target in staged}:
        _fsync_folder(folder)


def _remove_journal(folder: Path) -> None:
    (folder / JOURNAL).unlink()
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make renames in `folder` durable (a crash of the machine, not only of the process)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def repo_path(path: Path) -> str:
    """`path`'s path inside its git repository: relative to the nearest folder holding `.git`,
    else to the working directory, else its name."""
    target = path.resolve()
    for parent in (target, *target.parents):
        if (parent / ".git").exists():
            return target.relative_to(parent).as_posix() if target != parent else ""
    try:
        return target.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return target.name
