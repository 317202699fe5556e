"""Real faults for tests: `tracker` in a child process, SIGKILLed at an exact point.

The child runs the real command line (`tracker.cli.main`) with one interpreter audit hook
(`sys.addaudithook`, the interpreter's own instrumentation: nothing is patched) that sends the
process SIGKILL just before a chosen file operation: the rename onto a named file, or the
creation of a named temporary file. What the kernel leaves on disk is exactly what a power
cut of the process leaves there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

_CHILD = """
import os, signal, sys
event_name, target = sys.argv[1], sys.argv[2]
count = int(sys.argv[3])
seen = 0
def hook(event, args):
    global seen
    if event != event_name:
        return
    name = os.path.basename(str(args[1] if event == "os.rename" else args[0]))
    if name == target or (target.endswith("*") and name.startswith(target[:-1])):
        seen += 1
        if seen == count:
            os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(hook)
from tracker.cli import main
main(sys.argv[4:], prog_name="tracker")
"""


@dataclass(frozen=True)
class KillPoint:
    """Where the child dies: just before the `count`-th rename onto `name` ("os.rename"), or
    the `count`-th opening of a file whose name is `name` (or starts with it, `name*`)."""

    event: str
    name: str
    count: int = 1

    @classmethod
    def before_rename_onto(cls, name: str, count: int = 1) -> KillPoint:
        return cls("os.rename", name, count)

    @classmethod
    def before_opening(cls, name: str, count: int = 1) -> KillPoint:
        return cls("open", name, count)


def _command(point: KillPoint | None, args: Sequence[str]) -> list[str]:
    event, name, count = (point.event, point.name, point.count) if point else ("-", "-", 0)
    return [sys.executable, "-c", _CHILD, event, name, str(count), *args]


def _env(env: Mapping[str, str] | None) -> dict[str, str]:
    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [child_env.get("PYTHONPATH")])]
    )
    return child_env


def tracker_process(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """`tracker ARGS` started in a child process in `cwd` (not killed), stdout and stderr
    piped."""
    return subprocess.Popen(
        _command(None, args),
        cwd=cwd,
        env=_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def tracker_killed_at(
    point: KillPoint | None,
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `tracker ARGS` in a child process in `cwd`, killed at `point` (None: not killed)."""
    return subprocess.run(
        _command(point, args),
        cwd=cwd,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def was_killed(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == -signal.SIGKILL
