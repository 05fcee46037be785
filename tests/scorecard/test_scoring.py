"""The automatic hoster order's rule, as pure functions."""

from __future__ import annotations

import pytest

from apps.scorecard.scoring import (
    HALF_LIFE_HOURS,
    HosterScore,
    automatic_order,
    decay_weight,
    score_band,
    smoothed_success_rate,
)

CONFIGURED = ["VOE", "Doodstream", "Vidoza", "Filemoon"]


def score(successes: float, attempts: float, throughput: float | None = None) -> HosterScore:
    return HosterScore(weighted_attempts=attempts, weighted_successes=successes, throughput=throughput)


def test_an_attempt_counts_half_after_one_half_life():
    assert decay_weight(0) == 1.0
    assert decay_weight(HALF_LIFE_HOURS) == pytest.approx(0.5)
    assert decay_weight(2 * HALF_LIFE_HOURS) == pytest.approx(0.25)
    assert decay_weight(-5) == 1.0  # a clock a little ahead never weighs more than now


def test_the_success_rate_is_smoothed_by_one_imagined_success_and_failure():
    assert smoothed_success_rate(0, 0) == 0.5
    assert smoothed_success_rate(1, 1) == pytest.approx(2 / 3)
    assert smoothed_success_rate(0, 1) == pytest.approx(1 / 3)
    assert smoothed_success_rate(19, 20) > smoothed_success_rate(1, 1)  # one lucky download is not proof
    assert [score_band(value) for value in (0.0, 0.09, 0.1, 0.55, 0.999, 1.0)] == [0, 0, 1, 5, 9, 9]


def test_without_scores_the_configured_order_stands():
    assert automatic_order(CONFIGURED, {}) == CONFIGURED


def test_a_failing_hoster_moves_behind_a_working_one():
    scores = {"voe": score(0, 3), "doodstream": score(3, 3)}
    assert automatic_order(CONFIGURED, scores) == ["Doodstream", "VOE", "Vidoza", "Filemoon"]


def test_hosters_without_data_keep_their_configured_position():
    scores = {"voe": score(0, 2), "filemoon": score(4, 4)}
    # Doodstream and Vidoza keep positions 1 and 2; the scored ones share positions 0 and 3, best first
    assert automatic_order(CONFIGURED, scores) == ["Filemoon", "Doodstream", "Vidoza", "VOE"]


def test_within_one_score_band_the_faster_hoster_leads():
    scores = {
        "voe": score(9, 10, throughput=1_000_000),  # 10/12 = 0.83, band 8
        "doodstream": score(19, 20, throughput=5_000_000),  # 20/22 = 0.91, band 9
        "vidoza": score(18, 20, throughput=9_000_000),  # 19/22 = 0.86, band 8
        "filemoon": score(9, 10, throughput=None),  # band 8, speed unknown
    }
    assert automatic_order(CONFIGURED, scores) == ["Doodstream", "Vidoza", "VOE", "Filemoon"]


def test_equal_scores_keep_the_configured_rank_and_names_match_without_case():
    scores = {"voe": score(2, 2), "vidoza": score(2, 2)}
    assert automatic_order(["Vidoza", "VOE"], scores) == ["Vidoza", "VOE"]
    assert automatic_order(["vidoza", "voe"], {"voe": score(2, 2), "vidoza": score(0, 2)}) == ["voe", "vidoza"]
