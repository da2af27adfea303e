"""Small hand-built CoLaNET networks for rule-level tests (runtime mode, noise off)."""

from __future__ import annotations

import numpy as np
from brian2 import SpikeMonitor, StateMonitor, ms

from colanet_brian.engine.runtime import _initial_values, _parameter_values, _runtime_device, _RuntimeEngine
from colanet_brian.model.network import CoLaNETNetwork, NetworkShape
from colanet_brian.model.params import CoLaNETParams

#: The KNP MNIST gene values of spec §16 (reward 0.30): the hand-computed expectations of the rule tests
#: use them (leak 2/3, T_syn = ISImax = 10, ...), whatever the package defaults are.
KNP_VALUES = dict(chartime=3.0, k_theta=0.218, w_min=-0.253, w_max=0.0924, d_h=-0.177, reward=0.30, T_dop=10,
                  T_syn=10, isi_max=10, r_s=0.05, n_silent=27)
#: Noise off, deterministic WTA, and parameters used exactly as written (no width calibration).
QUIET = dict(KNP_VALUES, s_stoch=0.0, wta_random=False, calibrate_width=False)


class TinyNet:
    """A CoLaNET network in runtime mode with monitors on every population.

    Parameters
    ----------
    n_inputs, n_classes : int
        Sizes.
    sigma : float
        Resource scale (1: parameters are used as given).
    state_vars : dict
        ``{group: [variables]}`` recorded every tact by StateMonitors.
    **changes
        Parameter changes; noise and random WTA are off by default.
    """

    def __init__(self, n_inputs=2, n_classes=2, sigma=1.0, block_frames=4, state_vars=None, backend="numpy",
                 **changes):
        kw = dict(QUIET, n_copies=1, n_microcolumns=2)
        kw.update(changes)
        self.params = CoLaNETParams(**kw).validate()
        _runtime_device(backend)
        self.shape = NetworkShape.from_params(self.params, n_inputs, n_classes, block_frames)
        self.net = CoLaNETNetwork(self.params, self.shape)
        self.engine = _RuntimeEngine(self.net)
        self.engine.set_values(_initial_values(self.net, sigma))
        self.engine.set_values(_parameter_values(self.net, sigma, seed=0))
        self.monitors = {}
        for name in ("R", "L", "OUT", "GATE", "Target"):
            mon = SpikeMonitor(self.net.objects[name], name=f"test_{name}_spikes")
            self.monitors[name] = mon
            self.net.network.add(mon)
        self.states = {}
        for group, variables in (state_vars or {}).items():
            mon = StateMonitor(self.net.objects[group], variables, record=True, when="end", order=200,
                               name=f"test_{group}_state")
            self.states[group] = mon
            self.net.network.add(mon)

    def obj(self, name):
        return self.net.objects[name]

    def set(self, **values):
        """Set state/parameters, e.g. ``set(**{"R_L.w": array})``."""
        self.engine.set_values({k.replace("__", "."): v for k, v in values.items()})

    def set_weights(self, w):
        """Set plastic weights [n_inputs, n_L] (and resources / thresholds consistently)."""
        p = self.params
        w = np.asarray(w, dtype=float)
        wmin, wmax = p.w_min, p.w_max
        dw = wmax - wmin
        x = w - wmin
        r = x * dw / (dw - x)
        syn = self.obj("R_L")
        order = np.argsort(syn.i[:] * self.shape.n_learning + syn.j[:])
        flat_r, flat_w = np.empty(len(order)), np.empty(len(order))
        flat_r[order], flat_w[order] = r.ravel(), w.ravel()
        self.set(R_L__r=flat_r, R_L__w=flat_w, L__theta_add=p.k_theta * np.clip(w, 0, None).sum(axis=0))

    def weights(self, var="w"):
        syn = self.obj("R_L")
        out = np.zeros((self.shape.n_inputs, self.shape.n_learning))
        out[syn.i[:], syn.j[:]] = getattr(syn, var)[:]
        return out

    def run_frames(self, rho, labels=None, learning=True, n_frames=None):
        rho = np.atleast_2d(np.asarray(rho, dtype=float))
        n = rho.shape[0]
        stim = np.zeros((self.shape.block_frames, self.shape.n_inputs))
        stim[:n] = rho
        lab = -np.ones(self.shape.block_frames)
        if labels is not None:
            lab[:n] = labels
        self.set(**{"L.plastic": learning, "Target.teach": learning})
        self.engine.run(stim, lab, np.zeros(self.shape.block_frames), n_frames or n)

    def spikes(self, name):
        """``[(index, tact), ...]`` of a population, in order of time."""
        mon = self.monitors[name]
        return list(zip(mon.i[:].tolist(), np.rint(mon.t[:] / ms).astype(int).tolist(), strict=True))

    def trace(self, group, var):
        """State variable [n_tacts, n_neurons], sampled at the end of each tact."""
        return getattr(self.states[group], var)[:].T
