"""Votes, ties and silent frames (spec §8.3, §9, §17.16), against hand-made counts."""

import numpy as np
import pytest

from colanet_brian.model.readout import (
    NO_SPIKE,
    NO_SPIKE_TACT,
    ensemble_predictions,
    silent_fraction,
    tie_fraction,
    vote,
)

N = NO_SPIKE_TACT


def test_vote_takes_the_largest_count_and_marks_silent_frames():
    counts = np.array([[0, 3, 1], [0, 0, 0], [2, 0, 5]])
    first = np.array([[N, 4, 2], [N, N, N], [3, N, 2]])
    for rule in ("lowest", "latency"):
        np.testing.assert_array_equal(vote(counts, first, rule), [1, NO_SPIKE, 2])


def test_ties_go_to_the_lowest_index_or_to_the_earliest_first_spike():
    counts = np.array([[2, 2, 0], [0, 3, 3], [1, 1, 1]])
    first = np.array([[6, 3, N], [N, 5, 5], [9, 4, 4]])
    np.testing.assert_array_equal(vote(counts, first, "lowest"), [0, 1, 0])
    # latency: class 1 spiked first; equal latencies fall back to the lowest index
    np.testing.assert_array_equal(vote(counts, first, "latency"), [1, 1, 1])
    # a class that did not reach the top count never wins on latency
    np.testing.assert_array_equal(vote(np.array([[3, 1]]), np.array([[9, 1]]), "latency"), [0])


def test_latency_rule_needs_first_spikes_and_rejects_unknown_rules():
    with pytest.raises(ValueError, match="first-spike"):
        vote(np.array([[1, 1]]), None, "latency")
    with pytest.raises(ValueError, match="unknown tie_break"):
        vote(np.array([[1, 1]]), None, "random")


def test_ensemble_pools_counts_and_takes_the_earliest_first_spike_over_copies():
    # one sample, 2 copies, 3 classes: pooled counts [2, 2, 1]; first spikes min over copies [5, 3, 2]
    counts = np.array([[[2, 0, 1], [0, 2, 0]]])
    first = np.array([[[5, N, 2], [N, 3, N]]])
    assert ensemble_predictions(counts, first=first, tie_break="lowest")[0] == 0
    assert ensemble_predictions(counts, first=first, tie_break="latency")[0] == 1
    assert ensemble_predictions(counts, copies=[1], first=first, tie_break="latency")[0] == 1


def test_tie_and_silent_fractions():
    counts = np.array([[1, 1, 0], [0, 0, 0], [3, 1, 0], [2, 2, 2]])
    assert tie_fraction(counts) == pytest.approx(2 / 4)  # silent frames are not ties
    assert silent_fraction(counts) == pytest.approx(1 / 4)


def test_silent_frames_go_to_the_best_score_and_spikes_still_decide_the_rest():
    counts = np.array([[0, 0, 0], [0, 2, 0], [0, 0, 0]])
    scores = np.array([[0.1, 0.7, 0.2], [0.9, 0.1, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(vote(counts, scores=scores), [1, 1, NO_SPIKE])
    # the ensemble sums the copies' scores where no copy spiked
    pooled_counts = np.zeros((1, 2, 2), dtype=int)
    pooled_scores = np.array([[[0.5, 0.1], [0.0, 0.45]]])
    assert ensemble_predictions(pooled_counts, scores=pooled_scores)[0] == 1  # summed scores 0.5 < 0.55


def test_column_score_is_the_soft_maximum_of_peak_potential_over_threshold():
    # One frame, no spike anywhere: input 0 (every tact, weight 1) drives L0 below threshold; v peaks at
    # tact 10: (1 - lam^10) / (1 - lam).  score(column 0) = exp(beta (peak0 - 1)) + exp(beta (0 - 1)) for its
    # two microcolumns; column 1 gets no input: 2 exp(-beta).  Recorded at the frame's last tact (14).
    from brian2 import ms
    from helpers import TinyNet

    from colanet_brian.model.equations import SCORE_BETA

    lam, theta0 = 2.0 / 3.0, 8.531
    net = TinyNet(n_inputs=1, n_classes=2, n_microcolumns=2, w_min=-1.0, w_max=20.0, k_theta=0.0)
    w = np.zeros((1, 4))
    w[0, 0] = 1.0
    net.set_weights(w)
    net.run_frames([[1.0]], learning=False)
    assert net.spikes("L") == []
    mon = net.obj("OUT_scores")
    np.testing.assert_array_equal(np.rint(mon.t[:] / ms), [14, 14])  # one score per column, last tact
    peak = (1 - lam**10) / (1 - lam) / theta0
    expected = [np.exp(SCORE_BETA * (peak - 1)) + np.exp(-SCORE_BETA), 2 * np.exp(-SCORE_BETA)]
    order = np.argsort(mon.i[:])
    np.testing.assert_allclose(np.asarray(mon.score[:])[order], expected, rtol=1e-12)
