"""The runtime engine: the network in Brian2 runtime mode (Cython or numpy code generation)."""

from __future__ import annotations

import numpy as np

from ..model.network import CoLaNETNetwork
from .base import MONITOR_VARIABLES, MONITORS, _quiet_brian


def _runtime_device(backend: str):
    from brian2 import defaultclock, ms, prefs, set_device

    _quiet_brian()
    set_device("runtime")
    prefs.codegen.target = {"runtime": "auto", "cython": "cython", "numpy": "numpy"}[backend]
    defaultclock.dt = 1 * ms


def _initial_values(net: CoLaNETNetwork, sigma: float) -> dict:
    """Initial value of every carried state variable, as ``{"Obj.var": value}``."""
    values = {f"{obj}.{var}": 0 for obj, var in net.carried_variables()}
    values.update({name: value for name, value in net.initial_state(sigma).items() if name in values})
    return values


def _parameter_values(net: CoLaNETNetwork, sigma: float, seed: int) -> dict:
    values = {f"{obj.name}.{var}": value for obj, var, value in net.parameter_items(sigma)}
    values["clock.rng_seed"] = int(seed) % (2**31)
    return values


class _RuntimeEngine:
    """Runs the network in Brian2 runtime mode; state lives in the Brian2 objects."""

    def __init__(self, net: CoLaNETNetwork):
        self.net = net
        self.read_from = {name: 0 for name in MONITORS if name in net.objects}

    def _var(self, name):
        obj, var = name.split(".")
        return self.net.objects[obj], var

    def set_values(self, values: dict):
        for name, value in values.items():
            if name.split(".")[0] not in self.net.objects:
                continue  # e.g. L_L does not exist when M = 1
            obj, var = self._var(name)
            if var not in obj.variables:
                continue
            if obj.variables[var].scalar:
                setattr(obj, var, np.asarray(value).item())
            else:
                obj.variables[var].set_value(np.asarray(value, dtype=obj.variables[var].dtype))

    def get_values(self, names) -> dict:
        out = {}
        for name in names:
            if name.split(".")[0] not in self.net.objects:
                continue
            obj, var = self._var(name)
            out[name] = np.array(obj.variables[var].get_value(), copy=True)
        return out

    def run(self, stim, labels, record_mask, n_frames, progress=None) -> dict:
        from brian2 import ms

        net = self.net
        net.stim.values[:] = stim  # the generated code reads these arrays in place
        net.label.values[:] = labels
        net.record_mask.values[:] = record_mask
        clock = net.objects["clock"]
        clock.block_tact0 = int(clock.tact[:])
        t0 = float(net.network.t / ms)
        report = None
        if progress is not None:
            def report(elapsed, completed, start, duration):  # noqa: ARG001 - Brian2's signature
                progress(completed)
        net.network.run(n_frames * net.shape.frame_tacts * ms, namespace=net.namespace,
                        report=report, report_period=1000 * ms)
        spikes = {}
        for name, start in self.read_from.items():
            mon = net.objects[name]
            i, t = np.asarray(mon.i[start:]), np.asarray(mon.t[start:] / ms)
            values = tuple(np.asarray(getattr(mon, var)[start:]) for var in MONITOR_VARIABLES.get(name, ()))
            spikes[name] = (i.astype(np.int64), np.rint(t - t0).astype(np.int64), *values)
            self.read_from[name] = mon.num_events  # SpikeMonitor and EventMonitor
        return spikes
