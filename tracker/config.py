"""Configuration: one typed object, loaded once, with environment overrides applied in one place.

Where it comes from, first match wins:
1. `--config PATH` or the `TRACKER_CONFIG` environment variable;
2. `tracker.yaml` in the current directory;
3. the defaults below, with paths relative to the current directory.

Relative paths in a file are relative to that file's directory. Environment overrides
(`ENV_OVERRIDES`, documented in README) are applied after the file. Secrets (the GitHub token)
come only from the environment and are never printed: `Secret` masks itself.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.errors import ConfigError, Problems, shown
from tracker.yamlio import line_of, load_yaml

CONFIG_ENV = "TRACKER_CONFIG"
DEFAULT_CONFIG_NAME = "tracker.yaml"


class Secret:
    """A string that never shows itself in repr, str or logs; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class HttpConfig:
    """How tracker talks HTTP: every source, and the GitHub client (`tracker.http`)."""

    timeout: float = 30.0  # seconds, for connect and for each read
    delay: float = 3.0  # minimum seconds between two requests to the same host
    retries: int = 4  # retries after 429, 5xx and connection errors
    backoff: float = 5.0  # first backoff in seconds, doubled on each retry
    user_agent: str = "tracker/0.1 (+https://github.com/; mailto:tracker-maintainers@example.org)"


@dataclass(frozen=True)
class ArxivConfig:
    """The arXiv API search and the daily listings."""

    categories: list[str] = field(
        default_factory=lambda: ["cs.CR", "cs.LG", "cs.CL", "cs.CV", "cs.SE", "cs.AI"]
    )
    # High-recall terms: a paper matching none of these is very unlikely to be in scope.
    query_terms: list[str] = field(
        default_factory=lambda: [
            "backdoor",
            "trojan",
            "poisoning",
            "pre-trained model",
            "foundation model",
            "fine-tuning",
            "transfer learning",
            "model supply chain",
            "model hub",
            "quantization",
            "pruning",
            "distillation",
            "model merging",
            "membership inference",
            "model extraction",
            "model stealing",
            "data extraction",
            "watermark",
            "fingerprint",
            "bit-flip",
            "fault injection",
            "deep learning compiler",
            "model converter",
            "privacy-preserving inference",
        ]
    )
    lookback_days: int = 3
    search: bool = True  # run the API search (source `arxiv-api`)
    listing: bool = True  # read the daily listing (source `arxiv-listing`)
    api_url: str = "https://export.arxiv.org/api/query"
    rss_url: str = "https://rss.arxiv.org/rss"


@dataclass(frozen=True)
class FeedConfig:
    """A conference or journal feed (RSS 2.0, Atom 1.0 or RSS 1.0/RDF)."""

    name: str
    url: str
    venue: str
    year: int | None = None


@dataclass(frozen=True)
class DblpStreamConfig:
    """A venue read from dblp: its stream and the name the catalog writes for it."""

    stream: str  # dblp's stream key: conf/uss, journals/tifs (as in dblp.org/streams/conf/uss)
    venue: str  # as papers.yaml writes it: USENIX, CCS, SP, NeurIPS ...


@dataclass(frozen=True)
class DblpConfig:
    """Source `dblp`: new volumes of the listed venues, from dblp's publication search API."""

    api_url: str = "https://dblp.org/search/publ/api"
    # The venues to read; none means the source is off.
    streams: list[DblpStreamConfig] = field(default_factory=list)
    # Volumes of years before this one are never read (0: no limit). Set it to the year tracker
    # starts watching venues: the catalog already covers what came before.
    from_year: int = 0
    # Look each dblp paper up on arXiv by its title to borrow the abstract and arXiv id.
    arxiv_lookups: bool = True


@dataclass(frozen=True)
class OpenReviewVenueConfig:
    """A venue read from OpenReview: its venue id and the name the catalog writes for it."""

    venueid: str  # accepted papers' content.venueid; `{year}` is each year of the window
    venue: str  # as papers.yaml writes it: ICLR, NeurIPS, ICML, TMLR


@dataclass(frozen=True)
class OpenReviewConfig:
    """Source `openreview`: accepted papers (with abstracts) from OpenReview's API v2."""

    api_url: str = "https://api2.openreview.net"
    # The venues to read; none means the source is off.
    venues: list[OpenReviewVenueConfig] = field(default_factory=list)


@dataclass(frozen=True)
class ClassifierConfig:
    """The embedding model and the trained classifier."""

    # A sentence-transformers model name or path; empty means the bundled all-MiniLM-L6-v2.
    embedding_model: str = ""
    # Expected sha256 of the embedding model's weights file; empty means the manifest's.
    embedding_sha256: str = ""
    # Optional safetensors file of tensors replacing the embedding model's own (for example a
    # fine-tuned last transformer layer); `tracker train` copies it into models/ and pins it.
    embedding_replacement: Path | None = None
    # Labelled JSONL files (title, abstract, in_scope, section; .gz, .xz too) for `tracker train`.
    training_labels: list[Path] = field(default_factory=list)
    batch_size: int = 32  # texts per sentence-transformers batch
    max_seq_length: int = 256  # tokens of title+abstract embedded (used by `tracker train`)
    # The proposal rule: empty means the trained model's default (wrong1: about one wrong added
    # paper a night); wrong2 is the looser one stored beside it (more added, more wrong).
    threshold_rule: str = ""


@dataclass(frozen=True)
class BotConfig:
    """`tracker run` and publishing to GitHub."""

    repository: str = ""  # owner/name; GITHUB_REPOSITORY overrides
    api_url: str = "https://api.github.com"  # GITHUB_API_URL overrides
    base_branch: str = ""  # empty: the repository's default branch
    branch_prefix: str = "tracker/"
    label: str = "tracker"
    max_proposals: int = 20  # papers added (ticked) a night, most relevant first
    max_candidates: int = 12  # papers offered unticked a night, most relevant first
    max_open_prs: int = 3
    author_name: str = "tracker-bot"
    author_email: str = "tracker-bot@users.noreply.github.com"
    rate_limit_max_wait: float = 300.0  # wait for a rate-limit reset up to this many seconds
    # Look up catalog entries listed as `arXiv` (dblp by title, arXiv comments) and update the
    # venue of those published since.
    venue_updates: bool = True


@dataclass(frozen=True)
class ScheduleConfig:
    """`tracker schedule`: when the nightly job runs."""

    cron: str = "30 4 * * 1-5"  # after arXiv's announcement on weekdays
    timezone: str = "UTC"
    misfire_grace_time: int = 3600  # seconds


@dataclass(frozen=True)
class ListConfig:
    """One rendered list of the catalog (`lists:` in tracker.yaml)."""

    path: Path  # the Markdown file
    # Which taxonomy heading titles the sections: "zh" (`heading_zh`, the list's own headings)
    # or "en" (`heading_en`).
    headings: str = "zh"
    # A template for the text above the list: tracker writes the whole file. Without one the
    # list goes between the markers `<!-- tracker:start -->` and `<!-- tracker:end -->` in the
    # file, and every other byte of it is left alone.
    intro: Path | None = None
    # Items: "numbered" (`1. Title. Venue Year. [\[pdf\]](url)`) or "link"
    # (`- [Title](url) - Venue Year [[code]](url)`).
    style: str = "numbered"
    level: int = 2  # the Markdown heading level of the top sections


def catalog_lists(catalog_dir: Path) -> list[ListConfig]:
    """Without `lists:`, the survey's own layout: both languages rendered into the catalog
    folder, each whole file from its intro template."""
    return [
        ListConfig(catalog_dir / "README.md", "zh", catalog_dir / "templates" / "intro.zh.md"),
        ListConfig(catalog_dir / "README.en.md", "en", catalog_dir / "templates" / "intro.en.md"),
    ]


@dataclass(frozen=True)
class Config:
    """Everything tracker is configured with."""

    catalog_dir: Path = Path("catalog")
    models_dir: Path = Path("models")
    cache_dir: Path = Path(".cache/tracker")
    http: HttpConfig = field(default_factory=HttpConfig)
    arxiv: ArxivConfig = field(default_factory=ArxivConfig)
    feeds: list[FeedConfig] = field(default_factory=list)
    dblp: DblpConfig = field(default_factory=DblpConfig)
    openreview: OpenReviewConfig = field(default_factory=OpenReviewConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    bot: BotConfig = field(default_factory=BotConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    # The rendered lists; none given: `catalog_lists(catalog_dir)`. `tracker init` writes one,
    # between markers in the repository's README.
    lists: list[ListConfig] = field(default_factory=list)
    # From the environment only (GITHUB_TOKEN or TRACKER_GITHUB_TOKEN); never in a file.
    github_token: Secret | None = field(default=None, repr=False)
    # Where this configuration was read from, for messages; None for the defaults.
    source: Path | None = None


# Environment variable -> (section, field). Applied after the file, in `load_config`.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "TRACKER_ARXIV_API_URL": ("arxiv", "api_url"),
    "TRACKER_ARXIV_RSS_URL": ("arxiv", "rss_url"),
    "TRACKER_DBLP_API_URL": ("dblp", "api_url"),
    "TRACKER_OPENREVIEW_API_URL": ("openreview", "api_url"),
    "TRACKER_CACHE_DIR": ("", "cache_dir"),
    "GITHUB_REPOSITORY": ("bot", "repository"),
    "GITHUB_API_URL": ("bot", "api_url"),
}
TOKEN_ENV = ("TRACKER_GITHUB_TOKEN", "GITHUB_TOKEN")


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load the configuration (see the module docstring for the search order).

    Raises ConfigError naming the file and line of each invalid value (`tracker.errors.Problems`).
    """
    env = os.environ if env is None else env
    explicit = path or env.get(CONFIG_ENV) or None
    if explicit:
        file: Path | None = Path(explicit)
        if not file.is_file():  # type: ignore[union-attr]
            raise ConfigError(
                f"configuration file not found: {file}",
                hint=f"check --config or ${CONFIG_ENV}",
            )
    else:
        candidate = Path.cwd() / DEFAULT_CONFIG_NAME
        file = candidate if candidate.is_file() else None

    if file is None:
        config = Config()
        base = Path.cwd()
    else:
        config = _read_file(file)
        base = file.resolve().parent
    config = _apply_env(config, env)
    return _resolve_paths(config, base)


def _read_file(file: Path) -> Config:
    data = load_yaml(file, ConfigError)
    if data is None:
        data = {}
    problems = Problems(str(file))
    if not isinstance(data, Mapping):
        problems.add(1, "the configuration must be a mapping of sections")
        problems.raise_if_any(ConfigError)
    config = _build(Config, data, problems, "")
    _check_lists(config, data, problems)
    _check_cron(config, data, problems)
    _check_timezone(config, data, problems)
    problems.raise_if_any(ConfigError)
    return dataclasses.replace(config, source=file)


def _check_cron(config: Config, data: Mapping[str, Any], problems: Problems) -> None:
    """`schedule.cron`, when the file sets it, is checked as the file is read, not when the
    daemon starts."""
    section = data.get("schedule") or {}
    if not isinstance(section, Mapping) or "cron" not in section:
        return
    problem = cron_problem(config.schedule.cron)
    if problem:
        problems.add(
            _line(section, "cron"),
            f"schedule.cron: {config.schedule.cron!r} is not a crontab expression ({problem})",
            hint="five fields: minute hour day-of-month month day-of-week, e.g. '30 4 * * 1-5'",
        )


# (name, lowest, highest, names) of crontab's five fields; day of week 0 and 7 are Sunday.
_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    (
        "month",
        1,
        12,
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)


def cron_problem(expr: str) -> str | None:
    """What is wrong with a five-field crontab expression (numbers, names, `*`, ranges,
    lists, steps), or None. Read without APScheduler, which `tracker schedule` uses to run it."""
    fields = expr.split()
    if len(fields) != len(_CRON_FIELDS):
        return f"expected 5 fields, got {len(fields)}"
    for text, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            base, _, step = part.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                return f"{name}: bad step {part!r}"
            if base == "*":
                continue
            ends = base.split("-")
            if len(ends) > 2 or not all(ends):
                return f"{name}: cannot read {part!r}"
            values = []
            for end in ends:
                if end.isdigit():
                    values.append(int(end))
                elif end.lower() in names:
                    values.append(names.index(end.lower()) + (1 if name == "month" else 0))
                else:
                    return f"{name}: cannot read {end!r}"
            if any(not low <= v <= high for v in values):
                return f"{name} {base} is out of {low}-{high}"
            if len(values) == 2 and values[0] > values[1]:
                return f"{name}: range {base} runs backwards"
    return None


LIST_HEADINGS = ("zh", "en")
LIST_STYLES = ("numbered", "link")


def _check_lists(config: Config, data: Mapping[str, Any], problems: Problems) -> None:
    items = data.get("lists") or []
    for i, out in enumerate(config.lists):
        item = items[i] if i < len(items) else {}
        for name, value, allowed in (
            ("headings", out.headings, LIST_HEADINGS),
            ("style", out.style, LIST_STYLES),
        ):
            if value not in allowed:
                problems.add(
                    _line(item, name),
                    f"'lists[{i}].{name}' must be one of {', '.join(allowed)}, not {value!r}",
                )
        if not 1 <= out.level <= 6:
            problems.add(_line(item, "level"), f"'lists[{i}].level' must be 1-6")


def _check_timezone(config: Config, data: Mapping[str, Any], problems: Problems) -> None:
    """`schedule.timezone` is checked as the file is read: `run` and `schedule --once` gave a
    traceback for a name the time zone database does not know."""
    section = data.get("schedule") or {}
    if not isinstance(section, Mapping) or not isinstance(section.get("timezone"), str):
        return
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = config.schedule.timezone
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(
            _line(section, "timezone"),
            f"schedule.timezone: unknown time zone {shown(name)}",
            hint="an IANA name such as 'UTC', 'Europe/Berlin' or 'Asia/Shanghai'",
        )


# What a setting that failed its check turns into: left out, so its default stays (the
# problem is reported anyway, with every other one of the file).
_INVALID: Any = object()


def _build(cls: type, data: Mapping[str, Any], problems: Problems, prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name not in ("github_token", "source")}
    values: dict[str, Any] = {}
    for key, value in data.items():
        line = _line(data, key)
        if key not in names:
            known = ", ".join(sorted(names))
            problems.add(line, f"unknown setting '{prefix}{key}'", hint=f"known: {known}")
            continue
        converted = _convert(hints[key], value, problems, f"{prefix}{key}", line)
        if converted is not _INVALID:
            values[key] = converted
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
        and f.name not in values
    ]
    for name in missing:
        if name not in data:  # present but invalid: reported already
            problems.add(_line(data, None), f"missing required setting '{prefix}{name}'")
    if missing:
        return _INVALID  # cannot be built without them; the problems say why
    return cls(**values)


def _convert(tp: Any, value: Any, problems: Problems, name: str, line: int) -> Any:
    def invalid(message: str) -> Any:
        problems.add(line, f"'{name}' {message}")
        return _INVALID

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [t for t in typing.get_args(tp) if t is not type(None)]
        if value is None:
            return None
        return _convert(options[0], value, problems, name, line)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            return invalid("must be a mapping")
        return _build(tp, value, problems, f"{name}.")  # type: ignore[arg-type]
    if origin is list:
        (item_type,) = typing.get_args(tp)
        if not isinstance(value, list):
            return invalid("must be a list")
        items = [
            _convert(item_type, item, problems, f"{name}[{i}]", _line(value, i))
            for i, item in enumerate(value)
        ]
        return [item for item in items if item is not _INVALID]
    if tp is Path:
        if not isinstance(value, str) or not value:
            return invalid("must be a path")
        return Path(value)
    if tp is bool:
        if not isinstance(value, bool):
            return invalid("must be true or false")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return invalid("must be a number")
        if value < 0:
            return invalid("must not be negative")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return invalid("must be a whole number")
        if value < 0:
            return invalid("must not be negative")
        return value
    if tp is str:
        if not isinstance(value, str):
            return invalid("must be a string")
        return value
    return invalid("has an unsupported type")  # pragma: no cover


def _line(container: Any, key: Any) -> int:
    return line_of(container, key) or 1


def _apply_env(config: Config, env: Mapping[str, str]) -> Config:
    for var, (section, name) in ENV_OVERRIDES.items():
        value = env.get(var)
        if not value:
            continue
        if section:
            part = dataclasses.replace(getattr(config, section), **{name: value})
            config = dataclasses.replace(config, **{section: part})
        else:
            current = getattr(config, name)
            new: Any = Path(value) if isinstance(current, Path) else value
            config = dataclasses.replace(config, **{name: new})
    for var in TOKEN_ENV:
        if env.get(var):
            config = dataclasses.replace(config, github_token=Secret(env[var]))
            break
    return config


def _resolve_paths(config: Config, base: Path) -> Config:
    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else base / p

    classifier = dataclasses.replace(
        config.classifier,
        training_labels=[resolve(p) for p in config.classifier.training_labels],
        embedding_replacement=resolve(config.classifier.embedding_replacement)
        if config.classifier.embedding_replacement
        else None,
    )
    lists = [
        dataclasses.replace(
            out, path=resolve(out.path), intro=resolve(out.intro) if out.intro else None
        )
        for out in config.lists
    ] or catalog_lists(resolve(config.catalog_dir))
    return dataclasses.replace(
        config,
        lists=lists,
        catalog_dir=resolve(config.catalog_dir),
        models_dir=resolve(config.models_dir),
        cache_dir=resolve(config.cache_dir),
        classifier=classifier,
    )
