"""`/tracker` commands in pull-request comments, parsed with bounded work.

A command is a line of a comment that starts with `/tracker` (a quoted `> /tracker ...` line is
not one):

    /tracker add ID [SECTION]     add a paper (one of the pull request's, or any arXiv id)
    /tracker drop ID              drop a paper the pull request lists
    /tracker move ID SECTION      move a paper to another section

ID is an arXiv id in any form `tracker.identity.parse_arxiv_id` reads (`2604.01234`,
`arXiv:2604.01234v2`, an arxiv.org URL) or an item key of the body (`doi:...`, `ref:...`);
SECTION is the rest of the line: a section id or an exact heading. Who may run them is
`tracker.publish.review`'s decision, never the comment's.

Comment text is hostile: only the first `MAX_TEXT` characters of a comment are read, only the
first `MAX_LINE` characters of a line, and only the first `MAX_COMMANDS` commands of a comment;
the rest is reported, not executed.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/tracker"
VERBS = ("add", "drop", "move")
# GitHub keeps comments to 65536 characters; a little more is read so that nothing it accepts
# is cut, and nothing longer is ever scanned.
MAX_TEXT = 70_000
MAX_LINE = 300
MAX_COMMANDS = 50

# --- user-facing text (tests assert on these) ------------------------------------------------

UNKNOWN_VERB = "unknown command (use add, drop or move)"
MISSING_ID = "no paper id given"
MISSING_SECTION = "no section given"
EXTRA_WORDS = "drop takes one paper id and nothing else"
TOO_MANY = "more than {limit} commands in one comment: the rest were not read"


@dataclass(frozen=True)
class Command:
    """One parsed command: `verb` in VERBS, the paper `target` as written, the `section` as
    written ("" when none), and the `line` it came from (shortened) for replies."""

    verb: str
    target: str
    section: str
    line: str


@dataclass(frozen=True)
class Parsed:
    """A comment's commands, the command lines that did not parse ((line, why)), and how many
    command lines were past `MAX_COMMANDS`."""

    commands: tuple[Command, ...] = ()
    invalid: tuple[tuple[str, str], ...] = ()
    skipped: int = 0

    def __bool__(self) -> bool:
        return bool(self.commands or self.invalid or self.skipped)


def parse(text: str) -> Parsed:
    """The commands in a comment's text (see the module docstring)."""
    commands: list[Command] = []
    invalid: list[tuple[str, str]] = []
    skipped = 0
    for raw in text[:MAX_TEXT].splitlines():
        line = raw.strip()[:MAX_LINE]
        words = line.split(maxsplit=1)
        if not words or words[0] != PREFIX:
            continue
        if len(commands) + len(invalid) >= MAX_COMMANDS:
            skipped += 1
            continue
        rest = words[1].split(maxsplit=2) if len(words) > 1 else []
        verb = rest[0].lower() if rest else ""
        target = rest[1] if len(rest) > 1 else ""
        section = " ".join(rest[2].split()) if len(rest) > 2 else ""
        why = _problem(verb, target, section)
        if why:
            invalid.append((line, why))
        else:
            commands.append(Command(verb, target, section, line))
    return Parsed(tuple(commands), tuple(invalid), skipped)


def _problem(verb: str, target: str, section: str) -> str | None:
    if verb not in VERBS:
        return UNKNOWN_VERB
    if not target:
        return MISSING_ID
    if verb == "move" and not section:
        return MISSING_SECTION
    if verb == "drop" and section:
        return EXTRA_WORDS
    return None
