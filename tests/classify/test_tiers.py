"""The two tiers of a night (issue 10): "added" papers, then "candidate" papers one click away.
The candidate floor comes from out-of-fold scores by the targets in `tracker.classify.train`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.classify.conftest import Repo
from tracker.classify.model import Rule
from tracker.classify.result import Classification
from tracker.classify.train import (
    CANDIDATES_A_NIGHT,
    candidate_score,
    make_rule,
    night_count,
    score_for_wrong,
)
from tracker.paper import Paper


def test_a_classification_tier_agrees_with_in_scope() -> None:
    paper = Paper(title="t")
    assert Classification(paper, True, 0.9, ()).tier == "added"
    assert Classification(paper, False, 0.1, ()).tier == "out"
    assert Classification(paper, False, 0.1, (), tier="candidate").tier == "candidate"
    with pytest.raises(ValueError):
        Classification(paper, True, 0.9, (), tier="candidate")
    with pytest.raises(ValueError):
        Classification(paper, False, 0.1, (), tier="maybe")


def test_tiers_nest_on_the_score() -> None:
    rule = Rule("r", score=2.0, platt_a=1.0, platt_b=-2.0, candidate=1.0)
    score = np.array([2.5, 1.5, 0.5, 2.0, 1.0, 0.99])
    assert rule.tiers(score) == ["added", "candidate", "out", "added", "candidate", "out"]
    assert rule.candidate_threshold < rule.threshold
    assert rule.relevance(np.array([2.0]))[0] == pytest.approx(rule.threshold)


def test_a_model_without_a_candidate_tier_offers_no_candidates() -> None:
    rule = Rule("r", 2.0, 1.0, -2.0)
    assert rule.tiers(np.array([1.9, 2.0])) == ["out", "added"]
    assert rule.candidate_threshold == rule.threshold
    assert "candidate" not in rule.to_json()
    assert Rule.from_json("r", rule.to_json()) == rule


def _night_rows(n_nights: int, per_night: int, pos_scores: list[float]) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    nights, y, score = [], [], []
    for k in range(n_nights):
        nights += [f"2026-01-{k + 1:02d}"] * per_night
        y += [False] * per_night
        score += rng.uniform(-10, 0, per_night).tolist()
    nights += ["2026-01-01"] * len(pos_scores)
    y += [True] * len(pos_scores)
    score += pos_scores
    return np.array(y), np.array(score), np.array(nights, dtype=object)


def test_the_candidate_floor_keeps_95_percent_of_the_in_scope_rows() -> None:
    # 20 positives: 10 added (>= 5), 10 below; 95 % = 19 rows, so 9 of the 10 below are needed
    pos = [6.0] * 10 + [4.0, 3.0, 2.0, 1.5, 1.0, 0.8, 0.6, 0.4, 0.2, -0.5]
    y, score, _ = _night_rows(10, 100, pos)
    floor = candidate_score(y, score, np.ones(len(y)), score >= 5.0, 10.0)
    assert floor == pytest.approx(0.2)
    assert ((score >= floor) & y).sum() == 19


def test_the_candidate_floor_is_raised_to_the_average_nightly_cap() -> None:
    # the negatives are dense above the recall floor: the cap of 12 a night wins
    pos = [6.0] * 10 + [-9.9] * 10
    y, score, _ = _night_rows(3, 200, pos)
    floor = candidate_score(y, score, np.ones(len(y)), score >= 5.0, 3.0)
    assert floor is not None
    offered = ((score >= floor) & (score < 5.0)).sum()
    assert offered == int(CANDIDATES_A_NIGHT * 3)


def test_the_cap_counts_a_thinned_row_as_the_rows_it_stands_for() -> None:
    pos = [6.0] * 10 + [-9.9] * 10
    y, score, _nights = _night_rows(3, 200, pos)
    counts = np.where(y, 1.0, 4.0)  # every negative stands for four
    floor = candidate_score(y, score, counts, score >= 5.0, 3.0)
    assert floor is not None
    offered = ((score >= floor) & (score < 5.0)).sum()
    assert offered == int(CANDIDATES_A_NIGHT * 3) // 4


def test_rows_count_as_nights_of_570_papers_at_most_as_many_as_their_dates() -> None:
    nights = np.array([""] * 1140, dtype=object)
    assert night_count(nights, np.ones(1140)) == 2.0
    # two full nights
    assert night_count(np.array(["a", "b", "b"], dtype=object), np.array([570, 300, 270])) == 2.0
    # a sample of 57 papers drawn from two dates is a tenth of a night, not two nights
    assert night_count(np.array(["a", "b"] * 28 + ["a"], dtype=object), np.ones(57)) == 0.1


def test_the_added_threshold_allows_the_wrong_papers_the_rule_names() -> None:
    y, score, _nights = _night_rows(10, 500, [9.0] * 5 + [-5.0] * 5)
    ones = np.ones(len(y))
    for wrong in (1.0, 2.0, 5.0):
        t = score_for_wrong(y, score, ones, wrong * 10)
        assert ((score >= t) & ~y).sum() == int(wrong * 10)
        # and not one more: the next negative down is below the threshold
        assert np.sort(score[~y])[::-1][int(wrong * 10)] < t
    # counted rows: each negative stands for 2, so half as many may pass
    t2 = score_for_wrong(y, score, np.where(y, 1.0, 2.0), 10)
    assert ((score >= t2) & ~y).sum() == 5


def test_make_rule_calibrates_the_added_threshold_into_a_relevance() -> None:
    y, score, nights = _night_rows(10, 500, [3.0, 2.5, 2.0, 1.0, 0.5, -0.5, -1.0, -3.0])
    ones = np.ones(len(y))
    rule = make_rule("wrong1", 1.0, y, score, ones, night_count(nights, ones))
    assert ((score >= rule.score) & ~y).sum() <= 10
    added = rule.in_scope(score)
    assert (rule.relevance(score)[added] >= rule.threshold - 1e-9).all()
    assert (rule.relevance(score)[~added] <= rule.threshold).all()


def test_a_trained_model_stores_its_candidate_tier_and_classify_reports_it(trained: Repo) -> None:
    settings = json.loads((trained.models / "classifier.json").read_text("utf-8"))
    assert set(settings["rules"]) == set(settings["title_rules"]) == {"wrong1", "wrong2"}
    for rule in [*settings["rules"].values(), *settings["title_rules"].values()]:
        assert rule["candidate_relevance_threshold"] <= rule["relevance_threshold"]
    result = trained.tracker("classify", "--title", "Federated learning for traffic", "--json")
    out = json.loads(result.stdout)
    assert out["title_only"] is True
    assert out["tier"] in ("added", "candidate", "out")
