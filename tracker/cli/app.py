"""The `tracker` command group (`main`) and what every command module shares: the State each
command gets, `say` (every printed line through the one sanitiser), `warn`, and the error
handling that turns TrackerError into `Error: ...` and its exit code.

The command modules import from here and register their commands on `main`;
`tracker/cli/__init__.py` imports them all, so `tracker.cli.main` has every command.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from tracker import __version__
from tracker.config import CONFIG_ENV, Config, load_config
from tracker.errors import TrackerError
from tracker.text import plain


@dataclass
class State:
    """What every command gets: the configuration, loaded on first use."""

    config_path: Path | None = None
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


def say(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print text that may hold other people's words (titles, names, messages from servers)
    through the one sanitiser: no escape sequence or bidi override reaches a terminal."""
    click.echo(plain(text, lines=True), err=err, nl=nl)


def report_error(exc: TrackerError) -> None:
    """`Error: message (hint)` on stderr, then one line per problem (unless the only problem is
    the message itself)."""
    say(f"Error: {exc}", err=True)
    if [str(p) for p in exc.problems] == [exc.message]:
        return
    for problem in exc.problems:
        say(f"  {problem}", err=True)


class TrackerGroup(click.Group):
    """Turns TrackerError into `Error: ...` and its exit code, for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            report_error(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=CONFIG_ENV,
    help=f"Configuration file (YAML). Default: ./tracker.yaml if present. Env: {CONFIG_ENV}.",
)
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """Track new papers for the survey of deep-learning model supply-chain security.

    The nightly job (`tracker run`) fetches new papers, classifies them and proposes the
    relevant ones in one pull request. The catalog commands keep the list itself in order.
    """
    ctx.obj = State(config_path=config_path)


def warn(notes: Iterable[str]) -> None:
    """`Warning: note` on stderr for each distinct note, in order."""
    for note in dict.fromkeys(notes):
        say(f"Warning: {note}", err=True)
