"""One test per CoLaNET rule, on tiny hand-built networks with noise off.

Every expectation is computed by hand from the specification
(``shared/spec/colanet.md``), not by re-running the model's own code.
Networks have 1 copy; ``sigma = 1`` so parameters are used as written.
"""

import numpy as np
import pytest
from helpers import QUIET, TinyNet

from colanet_brian.model.params import CoLaNETParams

LAM = 2.0 / 3.0  # leak for chartime 3 (spec §5.2)
THETA0 = 8.531
# Wide weight range so that single inputs can drive an L neuron; no threshold excess.
WIDE = dict(w_min=-1.0, w_max=20.0, k_theta=0.0)


def first_spike(spikes, index):
    tacts = [t for i, t in spikes if i == index]
    return tacts[0] if tacts else None


def test_leak_and_threshold_crossing_at_hand_computed_tact():
    # one input spiking every tact (rho = 1) into L0 with weight 3: v_n = 3 (1 - lam^n) / (1 - lam)
    net = TinyNet(n_inputs=1, n_classes=2, n_microcolumns=1, state_vars={"L": ["v"]}, **WIDE)
    w = np.zeros((1, 2))
    w[0, 0] = 3.0
    net.set_weights(w)
    net.run_frames([[1.0]], learning=False)
    n_cross = next(n for n in range(1, 20) if 3.0 * (1 - LAM**n) / (1 - LAM) >= THETA0)
    assert n_cross == 8
    assert first_spike(net.spikes("L"), 0) == n_cross  # input arrives at tacts 1, 2, ... (delay 1)
    v = net.trace("L", "v")[:, 0]
    expected = [3.0 * (1 - LAM**n) / (1 - LAM) for n in range(0, n_cross)]
    np.testing.assert_allclose(v[:n_cross], expected, rtol=1e-12)
    assert v[n_cross] == 0.0  # reset to 0 after the spike
    assert first_spike(net.spikes("L"), 1) is None  # the other column got no input


@pytest.mark.parametrize("k", [1, 2, 3])
def test_blocking_discards_input_for_exactly_k_tacts(k):
    # input 0 spikes once, at tact 6 (accumulator started at 0.125 with increments of 1/8);
    # it drives L0 over threshold at tact 7, which blocks its column sibling L1 for tacts 8 .. 7+k.
    net = TinyNet(n_inputs=2, n_classes=2, n_microcolumns=2, state_vars={"L": ["v"]}, wta_block=k, **WIDE)
    w = np.zeros((2, 4))
    w[0, 0] = 9.0  # input 0 -> L0: one spike fires it
    w[1, 1] = 1.0  # input 1 -> L1: sub-threshold drive every tact
    net.set_weights(w)
    net.set(**{"R.a": np.array([0.125, 0.0])})  # a = 0.125 (k + 2) reaches 1 at tact 6, exactly
    net.run_frames([[0.125, 1.0]], learning=False)
    assert [t for i, t in net.spikes("R") if i == 0] == [6]
    assert net.spikes("L") == [(0, 7)]
    v1 = net.trace("L", "v")[:, 1]
    expected, v = [], 0.0
    for tact in range(15):
        arrives = 1 <= tact <= 10  # input 1 spikes at tacts 0..9, delay 1
        blocked = 8 <= tact <= 7 + k
        v = (v * LAM if tact > 0 else 0.0) + (1.0 if arrives and not blocked else 0.0)
        expected.append(v)
    np.testing.assert_allclose(v1, expected, rtol=1e-12)


def test_one_winner_per_column_and_tact():
    # four identical microcolumns per column, identical supra-threshold drive, noise on
    net = TinyNet(n_inputs=1, n_classes=2, n_microcolumns=4, s_stoch=0.5, wta_random=True, **WIDE)
    net.set_weights(np.full((1, 8), 9.0))
    net.run_frames([[1.0], [1.0]], learning=False)
    spikes = net.spikes("L")
    per_column_tact = {}
    for i, t in spikes:
        per_column_tact.setdefault((i // 4, t), []).append(i)
    assert spikes, "the drive must make L spike"
    assert all(len(v) == 1 for v in per_column_tact.values()), per_column_tact
    for frame in (0, 1):  # the first winner blocks its siblings and keeps winning (it is never blocked) ...
        assert len({i for i, t in spikes if i < 4 and t // 15 == frame}) == 1
    # ... until the frame ends: blocks are lifted at the frame start (frame_isolation, the default)
    # without the same-tact WTA (ArNI gating only) several neurons of one column fire in the same tact
    gating = TinyNet(n_inputs=1, n_classes=2, n_microcolumns=4, s_stoch=0.5, wta_random=True, wta_exact=False,
                     **WIDE)
    gating.set_weights(np.full((1, 8), 9.0))
    gating.run_frames([[1.0]], learning=False)
    tacts = [t for i, t in gating.spikes("L") if i < 4]
    assert max(tacts.count(t) for t in set(tacts)) > 1


def test_resource_weight_map_and_inverse():
    # spec §6: the CIFAR-10 anchor's initial resource for w = 0 is its iniresource 3.192
    assert CoLaNETParams.initial_resource(-1.63411, 1.71388) == pytest.approx(3.192, abs=5e-4)
    w_min, w_max = -0.253, 0.0924
    dw = w_max - w_min
    for w in (-0.2, 0.0, 0.05, 0.09):
        r = CoLaNETParams.initial_resource(w_min, w_max, w)
        assert w_min + dw * r / (dw + r) == pytest.approx(w, abs=1e-12)
    # in the network, every weight follows its resource after learning
    net = TinyNet(n_inputs=3, n_classes=2, n_microcolumns=2, s_stoch=1.0)
    net.run_frames(np.full((4, 3), 1.0), labels=[0, 1, 0, 1])
    r, w = net.weights("r"), net.weights("w")
    p = net.params
    assert not np.allclose(r, r[0, 0]), "plasticity must have changed some resources"
    np.testing.assert_allclose(w, p.w_min + (p.w_max - p.w_min) * np.clip(r, 0, None)
                               / ((p.w_max - p.w_min) + np.clip(r, 0, None)), rtol=1e-12)
    np.testing.assert_allclose(net.obj("L").theta_add[:], p.k_theta * np.clip(w, 0, None).sum(axis=0), atol=1e-12)


@pytest.mark.parametrize("isi_signed, expected_steps", [(True, 1), (False, 10)])
def test_anti_hebbian_once_per_dense_spike_sequence(isi_signed, expected_steps):
    # input 0 (every tact) makes L0 fire at tacts 1..10: one dense spike sequence (gaps 1 < ISImax).
    # The teacher is on but no label is given: no forcing, no dopamine.
    net = TinyNet(n_inputs=2, n_classes=2, n_microcolumns=1, isi_signed=isi_signed, **WIDE)
    w = np.zeros((2, 2))
    w[0, 0] = 10.0
    net.set_weights(w)
    r_before = net.weights("r")
    net.run_frames([[1.0, 0.0]], labels=[-1])
    spikes = [t for i, t in net.spikes("L") if i == 0]
    assert spikes == list(range(1, 11))
    d_h = net.params.d_h
    dr = net.weights("r") - r_before
    assert dr[0, 0] == pytest.approx(expected_steps * d_h, rel=1e-9)  # g(s) = 1 at s = 0
    assert dr[1, 0] == 0.0  # input 1 never arrived: not a contributor
    assert np.all(dr[:, 1] == 0.0)
    # the resource taken is mirrored in the free resource F (no renormalisation yet: still inside the DSS window)
    assert net.obj("L").F[0] == pytest.approx(-expected_steps * d_h, rel=1e-9)


def _reward_setup(T_dop, T_syn=3, s0=0.0):
    """L0 (class 0) fires unforced once, at tact 7, driven by input 1; input 0 arrived at tact 1 only."""
    net = TinyNet(n_inputs=2, n_classes=2, n_microcolumns=1, T_dop=T_dop, T_syn=T_syn, **WIDE)
    w = np.zeros((2, 2))
    w[0, 0], w[1, 0] = 0.5, 9.0
    net.set_weights(w)
    net.set(**{"R.a": np.array([0.9375, 0.125]), "L.s": np.array([s0, 0.0])})
    r0 = net.weights("r")
    net.run_frames([[0.0625, 0.125]], labels=[0])
    return net, r0


def test_dopamine_potentiates_only_contributors_within_T_dop():
    net, r0 = _reward_setup(T_dop=10)
    assert [t for i, t in net.spikes("R") if i == 0] == [0]
    assert [t for i, t in net.spikes("R") if i == 1] == [6]
    assert net.spikes("L") == [(0, 7)]  # unforced, and OUT 0 fires so GATE stays silent
    assert net.spikes("GATE") == []
    p, dr = net.params, net.weights("r") - r0
    # input 1 arrived at 7 (within [7 - T_syn, 7]): anti-Hebbian d_h at the spike, reward D at tact 14
    assert dr[1, 0] == pytest.approx(p.d_h + p.reward, rel=1e-9)
    assert dr[0, 0] == 0.0  # input 0 arrived at tact 1, outside the contribution window
    # a window that ends before the dopamine arrives: the reward does not reach the synapse
    late, r0 = _reward_setup(T_dop=5)  # 14 - 7 = 7 > 5
    assert (late.weights("r") - r0)[1, 0] == pytest.approx(p.d_h, rel=1e-9)


def test_stability_up_for_unforced_reward_down_for_forced():
    p = CoLaNETParams(**{**QUIET, **WIDE})
    rsd = p.r_s * p.reward
    # unforced spike at tact 7, sequence started at 7, reward at 14: bonus max(2 - |14 - 7 - 10| / 10, -1) = 1.7
    net, _ = _reward_setup(T_dop=10, s0=0.25)
    assert net.obj("L").s[0] == pytest.approx(0.25 + rsd * 1.7, rel=1e-9)
    # forced: no input at all, label 0 -> GATE 0 fires at 12, L0 is forced at 13, dopamine at 14
    forced = TinyNet(n_inputs=1, n_classes=2, n_microcolumns=1, **WIDE)
    forced.set(**{"L.s": np.array([0.25, 0.0])})
    forced.run_frames([[0.0]], labels=[0])
    assert forced.spikes("L") == [(0, 13)]
    assert forced.obj("L").s[0] == pytest.approx(max(0.0, 0.25 - rsd), rel=1e-9)
    forced.set(**{"L.s": np.array([0.01, 0.0])})
    forced.run_frames([[0.0]], labels=[0])
    assert forced.obj("L").s[0] == 0.0  # clamped at 0 in the forced branch


def test_renormalisation_conserves_resource_minus_silent_share():
    n_in, n_silent = 5, 7
    net = TinyNet(n_inputs=n_in, n_classes=2, n_microcolumns=1, n_silent=n_silent, theta_R=1.0)
    F0 = np.array([3.0, -0.5])  # L0 above the threshold theta_R, L1 below
    net.set(**{"L.F": F0})
    r0 = net.weights("r")
    net.run_frames([[0.0] * n_in], labels=[-1])
    r1 = net.weights("r")
    np.testing.assert_allclose(r1[:, 0] - r0[:, 0], F0[0] / (n_in + n_silent), rtol=1e-12)
    np.testing.assert_allclose(r1[:, 1], r0[:, 1])
    F1 = net.obj("L").F[:]
    assert F1[0] == 0.0 and F1[1] == -0.5
    lost = (r0.sum(axis=0) + F0) - (r1.sum(axis=0) + F1)
    np.testing.assert_allclose(lost, [F0[0] * n_silent / (n_in + n_silent), 0.0], rtol=1e-12)


def test_learning_conserves_resource_plus_free_resource_without_renormalisation():
    net = TinyNet(n_inputs=4, n_classes=2, n_microcolumns=2, s_stoch=1.0, theta_R=1e9)
    total0 = net.weights("r").sum(axis=0) + net.obj("L").F[:]
    rng = np.random.default_rng(1)
    net.run_frames(rng.uniform(0, 1, (4, 4)), labels=[0, 1, 1, 0])
    total1 = net.weights("r").sum(axis=0) + net.obj("L").F[:]
    assert not np.allclose(net.obj("L").F[:], 0.0)
    np.testing.assert_allclose(total1, total0, rtol=1e-12)


@pytest.mark.parametrize("label, fires, expect_gate", [(0, 0, False), (1, 0, True), (1, None, True)])
def test_gate_forces_the_correct_column_only_when_its_out_stayed_silent(label, fires, expect_gate):
    net = TinyNet(n_inputs=1, n_classes=2, n_microcolumns=2, **WIDE)
    w = np.zeros((1, 4))
    if fires is not None:
        w[0, fires * 2] = 9.0  # microcolumn 0 of column `fires` fires at tact 1
    net.set_weights(w)
    net.run_frames([[1.0]], labels=[label])
    gate = net.spikes("GATE")
    if expect_gate:
        assert gate == [(label, 12)]
        forced = [(i, t) for i, t in net.spikes("L") if t == 13]
        assert len(forced) == 1 and forced[0][0] // 2 == label  # one microcolumn of the label's column
        assert net.obj("L").forced[forced[0][0]]
    else:
        assert gate == []
        assert all(t <= 10 for _, t in net.spikes("L"))


def test_teacher_timing_of_a_training_frame_tact_by_tact():
    # spec §8.2: Target at 11, GATE at 12 (miss), forced L at 13, dopamine at 14, no vote from the forced spike
    net = TinyNet(n_inputs=1, n_classes=2, n_microcolumns=2, state_vars={"L": ["v", "D"]}, **WIDE)
    net.run_frames([[0.0], [0.0]], labels=[1, 0])
    assert net.spikes("Target") == [(1, 11), (0, 26)]
    assert net.spikes("GATE") == [(1, 12), (0, 27)]
    assert [t for _, t in net.spikes("L")] == [13, 28]
    assert net.spikes("OUT") == []  # GATE -> OUT blocks tacts 13..15
    D = net.trace("L", "D")
    nonzero = sorted({(t, i) for t, i in zip(*np.nonzero(D), strict=True)})
    assert nonzero == [(14, 2), (14, 3), (29, 0), (29, 1)]  # all L of the label's column, delay 3
    np.testing.assert_allclose(D[14, 2:], net.params.reward)


def test_out_votes_one_tact_after_the_winning_l_spike():
    net = TinyNet(n_inputs=1, n_classes=2, n_microcolumns=2, **WIDE)
    w = np.zeros((1, 4))
    w[0, 3] = 9.0  # column 1, microcolumn 1
    net.set_weights(w)
    net.run_frames([[0.125]], learning=False)  # accumulator 1/8: spikes at tact 7 only (a reaches 1.0)
    assert net.spikes("L") == [(3, 8)]
    assert net.spikes("OUT") == [(1, 9)]
