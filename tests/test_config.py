"""Configuration: file discovery, validation with file:line, environment overrides, secrets."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tracker.config import Config, Secret, load_config
from tracker.errors import ConfigError
from tracker.yamlio import load_yaml


def test_defaults_apply_without_a_file(workdir: Path) -> None:
    config = load_config(env={})
    assert config.source is None
    assert config.catalog_dir == workdir / "catalog"
    assert "cs.CR" in config.arxiv.categories and config.http.delay >= 3
    assert config.bot.max_proposals == 20


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "sub" / "tracker.yaml"
    cfg.parent.mkdir()
    cfg.write_text("catalog_dir: ../data/catalog\nhttp:\n  timeout: 5\n", "utf-8")
    config = load_config(cfg, env={})
    assert config.catalog_dir == cfg.parent / "../data/catalog"
    assert config.http.timeout == 5.0
    assert config.source == cfg


def test_config_path_comes_from_the_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.yaml"
    cfg.write_text("bot:\n  max_proposals: 5\n", "utf-8")
    assert load_config(env={"TRACKER_CONFIG": str(cfg)}).bot.max_proposals == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http:\n  timeout: soon\n", ":2: 'http.timeout' must be a number"),
        ("arxiv:\n  categories: cs.CR\n", ":2: 'arxiv.categories' must be a list"),
        ("bot:\n  max_proposals: -1\n", ":2: 'bot.max_proposals' must not be negative"),
        ("catalog_dir: catalog\ncolour: red\n", ":2: unknown setting 'colour'"),
        ("http:\n  timeout: [1\n", ": not valid YAML"),
        ("- a list\n", ":1: the configuration must be a mapping of sections"),
        (
            "feeds:\n  - name: x\n    url: https://x.org/feed\n",
            ":2: missing required setting 'feeds[0].venue'",
        ),
    ],
)
def test_invalid_settings_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "tracker.yaml"
    cfg.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg, env={})
    assert str(cfg) in str(info.value)
    assert message in str(info.value)


def test_every_invalid_setting_is_reported_with_its_line_like_the_catalog_files(
    workdir: Path,
) -> None:
    """One validation style: a file's problems are all reported, each as file:line: message."""
    cfg = workdir / "tracker.yaml"
    cfg.write_text("http:\n  timeout: soon\n  retries: -1\ncolour: red\n", "utf-8")
    result = run_cli("check")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:4] == [
        f"Error: {cfg}: 3 problem(s)",
        f"  {cfg}:2: 'http.timeout' must be a number",
        f"  {cfg}:3: 'http.retries' must not be negative",
        f"  {cfg}:4: unknown setting 'colour'",
    ]


def test_environment_overrides_endpoints_and_repository(tmp_path: Path) -> None:
    config = load_config(
        env={
            "TRACKER_ARXIV_API_URL": "http://127.0.0.1:9/api/query",
            "TRACKER_ARXIV_RSS_URL": "http://127.0.0.1:9/rss",
            "GITHUB_REPOSITORY": "owner/list",
            "GITHUB_API_URL": "http://127.0.0.1:9/api/v3",
            "GITHUB_TOKEN": "ghs_secret",
            "TRACKER_CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    assert config.arxiv.api_url == "http://127.0.0.1:9/api/query"
    assert config.arxiv.rss_url == "http://127.0.0.1:9/rss"
    assert config.bot.repository == "owner/list"
    assert config.bot.api_url == "http://127.0.0.1:9/api/v3"
    assert config.cache_dir == tmp_path / "cache"
    assert config.github_token == Secret("ghs_secret")


def test_tracker_token_wins_over_the_actions_token() -> None:
    config = load_config(env={"TRACKER_GITHUB_TOKEN": "pat", "GITHUB_TOKEN": "ghs"})
    assert config.github_token is not None and config.github_token.reveal() == "pat"


def test_the_token_never_shows_in_repr_or_str() -> None:
    config = load_config(env={"GITHUB_TOKEN": "ghs_supersecret"})
    assert "ghs_supersecret" not in repr(config)
    assert "ghs_supersecret" not in str(config.github_token)
    assert "ghs_supersecret" not in f"{config.github_token}"


def test_a_missing_config_file_is_a_usage_error(workdir: Path) -> None:
    result = run_cli("--config", "missing.yaml", "check")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "Error: configuration file not found: missing.yaml (check --config or $TRACKER_CONFIG)\n"
    )


def test_an_invalid_config_is_reported_before_any_work(workdir: Path) -> None:
    (workdir / "tracker.yaml").write_text("catalog_dir: 3\n", "utf-8")
    result = run_cli("check")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: {workdir / 'tracker.yaml'}:1: 'catalog_dir' must be a path"
    )


def test_help_explains_every_command() -> None:
    result = run_cli("--help")
    assert result.exit_code == 0
    for command in ("import", "render", "check"):
        assert command in result.stdout
    assert "TRACKER_CONFIG" in result.stdout


def _settings(cls: type = Config, prefix: str = "") -> dict[str, object]:
    """Every setting's dotted name and its default (a section's fields, not the section)."""
    hints = typing.get_type_hints(cls)
    out: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        if f.name in ("github_token", "source"):
            continue
        if dataclasses.is_dataclass(hints[f.name]):
            out.update(_settings(hints[f.name], f"{prefix}{f.name}."))
        elif f.default_factory is not dataclasses.MISSING:
            out[prefix + f.name] = f.default_factory()
        else:
            out[prefix + f.name] = f.default
    return out


def test_default_config_matches_committed_file_defaults() -> None:
    # Loading the committed tracker.yaml changes no default it does not name.
    repo = Path(__file__).resolve().parent.parent
    committed = load_config(repo / "tracker.yaml", env={})
    defaults = Config()
    assert committed.arxiv == defaults.arxiv
    assert committed.http == defaults.http


def test_every_key_of_tracker_yaml_is_a_setting_that_differs_from_its_default() -> None:
    """tracker.yaml holds this repository's choices, never a silent copy of a default."""
    repo = Path(__file__).resolve().parent.parent
    load_config(repo / "tracker.yaml", env={})  # an unknown setting would be an error
    raw = load_yaml(repo / "tracker.yaml")
    settings = _settings()
    named = [
        f"{section}.{key}" if isinstance(values, dict) else section
        for section, values in raw.items()
        for key in (values if isinstance(values, dict) else [None])
    ]
    assert named, "tracker.yaml names no setting"
    committed = load_config(repo / "tracker.yaml", env={})
    for name in named:
        assert name in settings, f"tracker.yaml: {name} is not a setting"
        section, _, key = name.rpartition(".")
        value = getattr(getattr(committed, section) if section else committed, key)
        assert value != settings[name], f"tracker.yaml: {name} repeats its default"


def test_readme_documents_every_setting() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    missing = [name for name in _settings() if f"`{name}`" not in readme]
    assert missing == []


def test_venue_source_urls_have_environment_overrides(workdir: Path) -> None:
    env = {
        "TRACKER_DBLP_API_URL": "http://127.0.0.1:9/search/publ/api",
        "TRACKER_OPENREVIEW_API_URL": "http://127.0.0.1:9",
    }
    config = load_config(env=env)
    assert config.dblp.api_url == env["TRACKER_DBLP_API_URL"]
    assert config.openreview.api_url == env["TRACKER_OPENREVIEW_API_URL"]


def test_committed_venue_lists_name_venues_as_the_catalog_writes_them() -> None:
    repo = Path(__file__).resolve().parent.parent
    committed = load_config(repo / "tracker.yaml", env={})
    names = {s.venue for s in committed.dblp.streams}
    catalog = (repo / "catalog" / "papers.yaml").read_text("utf-8")
    for venue in ("USENIX", "CCS", "SP", "NDSS", "NeurIPS", "EMNLP", "CVPR", "ACL", "ICSE"):
        assert f"venue: {venue}\n" in catalog and venue in names
    assert {"ICLR", "ICML", "NAACL", "ICCV", "ECCV", "ASE", "ISSTA", "FSE"} <= names
    assert {v.venue for v in committed.openreview.venues} == {"ICLR", "NeurIPS", "ICML", "TMLR"}
    # Source defaults stay off: a configuration without these sections reads only arXiv.
    assert Config().dblp.streams == [] and Config().openreview.venues == []


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", ""])
@pytest.mark.parametrize("command", [("run", "--dry-run"), ("schedule", "--once"), ("check",)])
def test_a_bad_schedule_timezone_is_a_file_line_error_at_load(
    workdir: Path, zone: str, command: tuple[str, ...]
) -> None:
    """Issue 11, case 7: `run` and `schedule --once` gave a traceback (exit 1)."""
    (workdir / "tracker.yaml").write_text(
        f"schedule:\n  cron: '30 4 * * 1-5'\n  timezone: '{zone}'\n", "utf-8"
    )

    result = run_cli(*command)

    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(
        f"Error: {workdir / 'tracker.yaml'}:3: schedule.timezone: unknown time zone {zone!r}"
    )
