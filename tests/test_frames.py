"""Frame isolation and the stability bound (departures from the spec, each one parameter away).

Hand-computed expectations on tiny networks (noise off, 1 copy, sigma = 1), as
in ``test_rules.py``.  Each test runs the same frames with the spec's
behaviour (``frame_isolation=False`` / ``s_max=None``) and with the default,
and checks both against the value worked out by hand.
"""

import numpy as np
import pytest
from helpers import TinyNet

LAM = 2.0 / 3.0
WIDE = dict(w_min=-1.0, w_max=20.0, k_theta=0.0)


@pytest.mark.parametrize("isolation", [False, True])
def test_blocking_from_a_late_winner_ends_at_the_frame_start(isolation):
    # input 0 spikes once at tact 9 (accumulator -0.25 + 0.125 (t+1) reaches 1 at t = 9), arrives at 10
    # and fires L0, which blocks its sibling L1 for tacts 11..20.  Frame 1 (tacts 15..29) drives L1 with
    # weight 1 every tact from 16.  Spec: input discarded until tact 20; isolated frames: from the start.
    net = TinyNet(n_inputs=2, n_classes=2, n_microcolumns=2, state_vars={"L": ["v"]},
                  frame_isolation=isolation, **WIDE)
    w = np.zeros((2, 4))
    w[0, 0], w[1, 1] = 9.0, 1.0
    net.set_weights(w)
    net.set(**{"R.a": np.array([-0.25, 0.0])})
    net.run_frames([[0.125, 0.0], [0.0, 1.0]], learning=False)
    assert net.spikes("L") == [(0, 10)]
    first_input = 16 if isolation else 21
    v1, v = net.trace("L", "v")[:, 1], 0.0
    expected = []
    for tact in range(30):
        v = 0.0 if tact % 15 == 0 else v * LAM
        v += 1.0 if first_input <= tact <= 25 else 0.0
        expected.append(v)
    np.testing.assert_allclose(v1, expected, rtol=1e-12)


@pytest.mark.parametrize("isolation, expected_contributors", [(False, [0, 1]), (True, [1])])
def test_only_inputs_of_the_current_frame_contribute(isolation, expected_contributors):
    # input 0 (weight 0.5, sub-threshold) arrives at tact 10 of frame 0; input 1 (weight 9) arrives at
    # tact 16 and fires L0.  T_syn = 10: the window [6, 16] holds both arrivals, but tact 10 belongs to
    # the previous image.  Every contributor loses d_h once (anti-Hebbian, no teacher).
    net = TinyNet(n_inputs=2, n_classes=2, n_microcolumns=1, frame_isolation=isolation, T_syn=10, **WIDE)
    w = np.zeros((2, 2))
    w[0, 0], w[1, 0] = 0.5, 9.0
    net.set_weights(w)
    net.set(**{"R.a": np.array([-0.25, 0.0])})
    r0 = net.weights("r")
    net.run_frames([[0.125, 0.0], [0.0, 1.0]], labels=[-1, -1])
    assert [t for i, t in net.spikes("R") if i == 0] == [9]
    assert [t for i, t in net.spikes("L")][0] == 16
    dr = (net.weights("r") - r0)[:, 0]
    expected = np.zeros(2)
    expected[expected_contributors] = net.params.d_h
    np.testing.assert_allclose(dr, expected, rtol=1e-12)


@pytest.mark.parametrize("isolation", [False, True])
def test_reward_reaches_only_neurons_that_fired_in_the_rewarded_frame(isolation):
    # L0 (column 0) fires unforced at tact 7 of frame 0 (input 1, weight 9); frame 0 has no label.
    # In frame 1 L1 (column 0) fires on input 2, so OUT 0 votes and no forcing happens; the label 0
    # brings dopamine to column 0 at tact 29.  T_dop = 25 covers 29 - 7 = 22: the spec rewards L0's
    # frame-0 contributors (+D) and raises its stability by r_s D (2 - |29 - 7 - 10| / 10);
    # isolated frames treat L0 as not having fired: no resource change, stability -r_s D.
    net = TinyNet(n_inputs=3, n_classes=2, n_microcolumns=2, T_dop=25, frame_isolation=isolation, **WIDE)
    w = np.zeros((3, 4))
    w[1, 0], w[2, 1] = 9.0, 9.0
    net.set_weights(w)
    net.set(**{"R.a": np.array([0.0, 0.125, 0.0]), "L.s": np.array([0.5, 0.0, 0.0, 0.0])})
    r0 = net.weights("r")
    net.run_frames([[0.0, 0.125, 0.0], [0.0, 0.0, 1.0]], labels=[-1, 0])
    l0 = [t for i, t in net.spikes("L") if i == 0]
    assert l0 == [7]
    assert net.spikes("GATE") == []
    p = net.params
    gain = 2.0 ** -0.5  # g(s) at s = 0.5 when the anti-Hebbian step and the reward act
    reward = 0.0 if isolation else p.reward * gain
    assert (net.weights("r") - r0)[1, 0] == pytest.approx(p.d_h * gain + reward, rel=1e-12)
    factor = -1.0 if isolation else 2.0 - abs(29 - 7 - 10) / 10
    assert net.obj("L").s[0] == pytest.approx(0.5 + p.r_s * p.reward * factor, rel=1e-12)


@pytest.mark.parametrize("s_max, expected", [(None, 3.99 + 0.05 * 0.30 * 1.7), (4.0, 4.0)])
def test_stability_is_bounded_by_s_max(s_max, expected):
    # the unforced reward of test_rules._reward_setup: spike at 7, reward at 14, factor 2 - 3/10 = 1.7
    net = TinyNet(n_inputs=2, n_classes=2, n_microcolumns=1, T_dop=10, T_syn=3, s_max=s_max, **WIDE)
    w = np.zeros((2, 2))
    w[0, 0], w[1, 0] = 0.5, 9.0
    net.set_weights(w)
    net.set(**{"R.a": np.array([0.9375, 0.125]), "L.s": np.array([3.99, 0.0])})
    net.run_frames([[0.0625, 0.125]], labels=[0])
    assert net.spikes("L") == [(0, 7)]
    assert net.obj("L").s[0] == pytest.approx(expected, rel=1e-12)
