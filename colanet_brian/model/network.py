"""Build the CoLaNET populations and connections as one Brian2 `Network`.

Populations (spec §4.2, "new CoLaNET" of §4.2/§4.3) for ``K`` classes, ``M``
microcolumns and ``C`` independent copies (spec §9, §17.13):

========  ==========  =====================================================
name      size        role
========  ==========  =====================================================
clock     1           frame clock (spec §2); every group links to it
R         N_in        input receptors, rate-coded features (spec §3); C*N_in with per-copy input streams
Target    K           label receptors (spec §8.1), shared by all copies
L         C*K*M       learning neurons; neuron ``c*K*M + k*M + m``
OUT       C*K         output / vote neurons; neuron ``c*K + k``; column score
GATE      C*K         teacher gates
========  ==========  =====================================================

Connections (spec §4.3; KNP delay ``d`` is a Brian2 delay of ``d-1`` tacts
because spikes are emitted after the synapses slot, see `equations.SCHEDULE`):

=============  =================================  =========  =====
name           pattern                            type       delay
=============  =================================  =========  =====
R_L            all-to-all (per copy), plastic     signal     1
L_L            within column, no self             gating+WTA 1 / 0
L_OUT          column k of copy c -> OUT c*K+k    excitatory 1
OUT_GATE       one-to-one                         gating     1
GATE_OUT       one-to-one                         gating     1
Target_GATE    class k -> GATE k of every copy    excitatory 1
GATE_L         GATE c*K+k -> its column's L       forcing    1
Target_L       class k -> column k of every copy  dopamine   3 (*)
=============  =================================  =========  =====

(*) realised as a delayed event of Target (``equations.TARGET_DOPAMINE_EVENT``),
so that no pathway carries a synaptic delay.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np
from brian2 import (
    EventMonitor,
    Network,
    NeuronGroup,
    SpikeMonitor,
    Synapses,
    TimedArray,
    linked_var,
    ms,
)

from . import equations as eq
from .params import CoLaNETParams
from .rng import colanet_uniform

__all__ = ["NetworkShape", "CoLaNETNetwork", "CARRIED_STATE", "per_copy_phases"]

#: State that carries from one run (block of samples) to the next.  Everything
#: else is either a parameter or cleared at the start of every tact.
CARRIED_STATE = {
    "clock": ("tact",),
    "R": ("a", "t_arr"),
    "L": (
        "v", "theta_add", "block_until", "forced", "isi_status", "dss_break",
        "t_last", "t_last_unf", "t_first", "s", "F",
    ),
    "OUT": ("block_until",),
    "GATE": ("block_until",),
    "R_L": ("r", "w", "contrib", "hebb_done"),
}
#: Carried only when one-factor plasticity is compiled in.
ONE_FACTOR_STATE = ("t_1f",)
#: Tact stamps that start at `equations.NEVER` (no spike, arrival or block yet).
NEVER_STAMPS = ("R.t_arr", "L.block_until", "L.t_last", "L.t_last_unf", "L.t_first", "OUT.block_until",
                "GATE.block_until", "R_L.t_1f")
#: The learned state that a trained model file holds.
LEARNED_STATE = {"L": ("theta_add", "s", "F"), "R_L": ("r", "w")}


@dataclass(frozen=True)
class NetworkShape:
    """Everything that changes the generated code; a compiled binary serves one shape.

    Hyperparameters that are ``(shared, constant)`` Brian2 variables are not
    part of the shape: compiled runs change them through ``run_args``.
    """

    n_inputs: int
    n_classes: int
    n_microcolumns: int
    n_copies: int
    block_frames: int
    frame_tacts: int
    present_tacts: int
    label_tact: int
    dopamine_delay: int
    encoding: str
    reset_accumulator_per_sample: bool
    one_factor: bool
    record_spikes: bool
    per_copy_inputs: bool = False

    @classmethod
    def from_params(cls, params: CoLaNETParams, n_inputs, n_classes, block_frames, record_spikes=False):
        """Shape of the network that `params` describes for this data."""
        return cls(
            n_inputs=int(n_inputs),
            n_classes=int(n_classes),
            n_microcolumns=int(params.n_microcolumns),
            n_copies=int(params.n_copies),
            block_frames=int(block_frames),
            frame_tacts=int(params.frame_tacts),
            present_tacts=int(params.present_tacts),
            label_tact=int(params.label_tact),
            dopamine_delay=int(params.dopamine_delay),
            encoding=params.encoding,
            reset_accumulator_per_sample=bool(params.reset_accumulator_per_sample),
            one_factor=params.a1 != 0,
            record_spikes=bool(record_spikes),
            per_copy_inputs=params.input_streams == "per_copy",
        )

    @property
    def n_columns(self) -> int:
        """Columns over all copies (= OUT and GATE neurons)."""
        return self.n_copies * self.n_classes

    @property
    def n_receptors(self) -> int:
        """Input neurons R: one block of ``n_inputs`` per copy with per-copy input streams, else one."""
        return self.n_inputs * (self.n_copies if self.per_copy_inputs else 1)

    @property
    def n_learning(self) -> int:
        """L neurons over all copies."""
        return self.n_columns * self.n_microcolumns

    def key(self) -> str:
        """Short stable hash, used to name cached standalone builds."""
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def per_copy_phases(n_copies: int, n_inputs: int) -> np.ndarray:
    """Initial accumulator values of per-copy input streams: copy 0 starts at 0 (as a shared input), copy c
    of the ensemble at ``frac(c * (phi + n * sqrt 2))`` for input n, so that the copies' deterministic
    spike trains are offset from each other (a low-discrepancy spread, no random numbers).  Computed
    for the whole ensemble; split binaries receive their slice (`engine.split`)."""
    c = np.arange(n_copies)[:, None]
    n = np.arange(n_inputs)[None, :]
    return np.mod(c * (0.6180339887498949 + n * np.sqrt(2.0)), 1.0).ravel()


class CoLaNETNetwork:
    """The Brian2 objects of one CoLaNET ensemble, built for one `NetworkShape`.

    Parameters
    ----------
    params : CoLaNETParams
        Hyperparameters; structural fields define the shape, the others are
        written into the ``(shared, constant)`` variables by `set_parameters`.
    shape : NetworkShape
        Sizes and structural switches.

    Attributes
    ----------
    network : brian2.Network
        All objects, with the CoLaNET schedule (`equations.SCHEDULE`).
    objects : dict
        Brian2 objects by name (``"L"``, ``"R_L"``, ``"OUT_spikes"``, ...).
    stim, label : brian2.TimedArray
        Per-frame input rates ``[block_frames, n_inputs]`` and labels
        ``[block_frames]`` (``-1``: no label).
    namespace : dict
        Namespace to pass to ``Network.run``.
    """

    def __init__(self, params: CoLaNETParams, shape: NetworkShape):
        self.params = params
        self.shape = shape
        frame_dt = shape.frame_tacts * ms
        self.stim = TimedArray(np.zeros((shape.block_frames, shape.n_inputs)), dt=frame_dt, name="stim")
        self.label = TimedArray(-np.ones(shape.block_frames), dt=frame_dt, name="label")
        self.record_mask = TimedArray(np.zeros(shape.block_frames), dt=frame_dt, name="record_mask")
        self.namespace = dict(eq.namespace_constants(params, shape.n_inputs))
        self.namespace.update(stim=self.stim, label=self.label, record_mask=self.record_mask,
                              colanet_uniform=colanet_uniform)
        self.objects = {}
        self._build_groups()
        self._build_synapses()
        self._build_monitors()
        self.network = Network(*self.objects.values(), name="colanet")
        self.network.schedule = list(eq.SCHEDULE)

    # ------------------------------------------------------------------
    def _add(self, obj):
        self.objects[obj.name] = obj
        return obj

    def _link(self, group, kind):
        clock = self.objects["clock"]
        for name in eq.CLOCK_LINKS[kind]:
            setattr(group, name, linked_var(clock, name))

    def _build_groups(self):
        s = self.shape
        clock = self._add(NeuronGroup(1, eq.FRAME_CLOCK_EQS, name="clock"))
        clock.run_regularly(eq.FRAME_CLOCK_UPDATE, when="start", order=0, name="clock_update")
        clock.run_regularly(eq.FRAME_CLOCK_ADVANCE, when="end", order=100, name="clock_advance")

        if s.encoding == "accumulator":
            threshold, reset = eq.ACCUMULATOR_THRESHOLD, eq.ACCUMULATOR_RESET
        else:
            threshold, reset = eq.POISSON_THRESHOLD, eq.POISSON_RESET
        events = {"rec": eq.recorded_input_event(threshold)} if s.record_spikes else None
        R = NeuronGroup(s.n_receptors, eq.INPUT_EQS, threshold=threshold, reset=reset, events=events, name="R")
        if s.encoding == "accumulator":
            R.run_regularly(eq.ACCUMULATOR_UPDATE, when="groups", name="R_accumulate")
        # The reset records the arrival tact of this spike (t_arr = tact + 1).  It runs at the end of the
        # tact, after L's plasticity has read the previous arrival, so a spike in this tact cannot hide
        # the arrival that made L fire (spec §7.1 step 3).
        R.resetter["spike"].when = "end"
        self._add(R)
        self._link(R, "R")

        target = self._add(NeuronGroup(s.n_classes, eq.TARGET_EQS, threshold=eq.TARGET_THRESHOLD, reset="",
                                       events={"dopa": eq.TARGET_DOPAMINE_EVENT}, name="Target"))
        self._link(target, "target")

        L = NeuronGroup(
            s.n_learning,
            eq.LEARNING_NEURON_EQS,
            threshold=eq.LEARNING_NEURON_THRESHOLD,
            reset=eq.LEARNING_NEURON_RESET,
            events={
                "cand": eq.LEARNING_NEURON_CANDIDATE_EVENT,
                "dopa": eq.LEARNING_NEURON_DOPAMINE_EVENT,
                "dopa_syn": eq.LEARNING_NEURON_DOPAMINE_SYNAPSE_EVENT,
                "renorm": eq.LEARNING_NEURON_RENORM_EVENT,
            },
            name="L",
        )
        self._add(L)
        self._link(L, "L")
        L.run_regularly(eq.LEARNING_NEURON_PRE_INPUT, when="groups", name="L_pre_input")
        L.run_regularly(eq.LEARNING_NEURON_INTEGRATE, when="before_thresholds", order=0, name="L_integrate")
        L.thresholder["cand"].when = "before_thresholds"
        L.thresholder["cand"].order = 1
        # plasticity order of spec §5.2 step 8: anti-Hebbian (R_L.post, order 0) -> dopamine -> renormalisation
        for order, event in ((1, "dopa"), (2, "dopa_syn"), (5, "renorm")):
            L.thresholder[event].when = "after_resets"
            L.thresholder[event].order = order
        L.run_on_event("dopa", eq.LEARNING_NEURON_ON_DOPAMINE, when="after_resets", order=4)
        L.run_on_event("renorm", eq.LEARNING_NEURON_ON_RENORM, when="after_resets", order=6)
        L.column = np.arange(s.n_learning) // s.n_microcolumns

        for name, model, kind, events in (("OUT", eq.OUTPUT_NEURON_EQS, "out", {"score": eq.OUTPUT_SCORE_EVENT}),
                                          ("GATE", eq.RELAY_NEURON_EQS, "relay", None)):
            relay = self._add(NeuronGroup(s.n_columns, model, threshold=eq.RELAY_NEURON_THRESHOLD,
                                          reset=eq.RELAY_NEURON_RESET, events=events, name=name))
            self._link(relay, kind)
            relay.run_regularly(eq.RELAY_NEURON_PRE_INPUT, when="groups", name=f"{name}_pre_input")
            relay.column = np.arange(s.n_columns)

    def _synapses(self, source, target, name, model, on_pre, i, j, **kwds):
        syn = Synapses(self.objects[source], self.objects[target], model=model, on_pre=on_pre, name=name, **kwds)
        syn.connect(i=np.asarray(i, dtype=np.int32), j=np.asarray(j, dtype=np.int32))
        return self._add(syn)

    def _build_synapses(self):
        s = self.shape
        M, K = s.n_microcolumns, s.n_classes
        l_idx = np.arange(s.n_learning)
        col_idx = np.arange(s.n_columns)
        l_col = l_idx // M

        model, on_pre = eq.PLASTIC_SYNAPSE_EQS, eq.PLASTIC_SYNAPSE_ON_PRE
        if s.one_factor:
            model, on_pre = model + eq.ONE_FACTOR_EQS, on_pre + "\n" + eq.ONE_FACTOR_ON_PRE
        R_L = Synapses(
            self.objects["R"], self.objects["L"], model=model,
            on_pre={"pre": on_pre},
            on_post={
                "post": eq.PLASTIC_SYNAPSE_ON_POST,
                "dopa": eq.PLASTIC_SYNAPSE_ON_DOPAMINE,
                "renorm": eq.PLASTIC_SYNAPSE_ON_RENORM,
            },
            on_event={"pre": "spike", "post": "spike", "dopa": "dopa_syn", "renorm": "renorm"},
            name="R_L",
        )
        # presynaptic-major over the features: synapse n * C*K*M + j joins feature n to L neuron j in every
        # layout, so weights read the same with shared or per-copy inputs (one spike reads contiguous weights)
        if s.per_copy_inputs:
            copy_of = np.arange(s.n_learning) // (s.n_classes * M)
            pre = (np.arange(s.n_inputs)[:, None] + s.n_inputs * copy_of[None, :]).ravel()
            R_L.connect(i=pre.astype(np.int32), j=np.tile(np.arange(s.n_learning, dtype=np.int32), s.n_inputs))
        else:
            R_L.connect()
        for order, pathway in ((0, R_L.post), (3, R_L.dopa), (7, R_L.renorm)):
            pathway.when = "after_resets"
            pathway.order = order
        self._add(R_L)

        if M > 1:
            a, b = np.meshgrid(np.arange(M), np.arange(M), indexing="ij")
            keep = a != b
            first = np.arange(s.n_columns)[:, None] * M  # first L neuron of every column
            pre, post = (first + a[keep][None, :]).ravel(), (first + b[keep][None, :]).ravel()
            L_L = self._synapses(
                "L", "L", "L_L", eq.WTA_SYNAPSE_EQS,
                {"pre": eq.BLOCKING_SYNAPSE_ON_PRE, "wta": eq.WTA_SYNAPSE_ON_CANDIDATE},
                pre, post, on_event={"pre": "spike", "wta": "cand"},
            )
            L_L.lower = pre < post
            L_L.wta.when = "before_thresholds"
            L_L.wta.order = 2
        L_OUT = self._synapses("L", "OUT", "L_OUT", eq.EXCITATORY_SYNAPSE_EQS + "\n" + eq.OUTPUT_SCORE_SUMMED,
                               eq.EXCITATORY_SYNAPSE_ON_PRE, l_idx, l_col)
        # sum the scores after L's integration step (order 0-2 of before_thresholds), so the last tact counts
        L_OUT.summed_updaters["score_post"].when = "before_thresholds"
        L_OUT.summed_updaters["score_post"].order = 10
        self._synapses("OUT", "GATE", "OUT_GATE", eq.BLOCKING_SYNAPSE_EQS, eq.BLOCKING_SYNAPSE_ON_PRE, col_idx, col_idx)
        self._synapses("GATE", "OUT", "GATE_OUT", eq.BLOCKING_SYNAPSE_EQS, eq.BLOCKING_SYNAPSE_ON_PRE, col_idx, col_idx)
        self._synapses("Target", "GATE", "Target_GATE", eq.EXCITATORY_SYNAPSE_EQS, eq.EXCITATORY_SYNAPSE_ON_PRE,
                       col_idx % K, col_idx)
        self._synapses("GATE", "L", "GATE_L", eq.FORCING_SYNAPSE_EQS, eq.FORCING_SYNAPSE_ON_PRE, l_col, l_idx)
        # the dopamine delay is in Target's delayed 'dopa' event (equations.TARGET_DOPAMINE_EVENT)
        self._synapses("Target", "L", "Target_L", eq.DOPAMINE_SYNAPSE_EQS, eq.DOPAMINE_SYNAPSE_ON_PRE,
                       l_col % K, l_idx, on_event={"pre": "dopa"})

    def _build_monitors(self):
        self._add(SpikeMonitor(self.objects["OUT"], name="OUT_spikes"))
        self._add(EventMonitor(self.objects["OUT"], "score", variables=["score"], name="OUT_scores"))
        if self.shape.record_spikes:  # every L, GATE and Target spike; R spikes of the frames in record_mask
            for name in ("L", "GATE", "Target"):
                self._add(SpikeMonitor(self.objects[name], name=f"{name}_spikes"))
            self._add(EventMonitor(self.objects["R"], "rec", name="R_spikes"))

    # ------------------------------------------------------------------
    def parameter_items(self, sigma: float):
        """``(object, variable, value)`` for every ``(shared, constant)`` hyperparameter.

        Parameters
        ----------
        sigma : float
            Resource-unit scale factor (`CoLaNETParams.sigma`).
        """
        for obj_name, values in self.params.brian_values(sigma, self.shape.n_inputs).items():
            obj = self.objects.get(obj_name)
            if obj is None:  # e.g. L_L does not exist for M = 1
                continue
            for var, value in values.items():
                if var in obj.variables:
                    yield obj, var, value

    def initial_state(self, sigma: float) -> dict:
        """Fresh state: every plastic weight at ``w_init`` (spec §6), every tact stamp "never".

        The one home of initial values: every engine starts from these
        (carried variables not listed here start at 0).
        """
        p = self.params
        w_min, w_max, w0 = p.w_min * sigma, p.w_max * sigma, p.w_init * sigma
        n_syn = self.shape.n_inputs * self.shape.n_learning
        theta = p.k_theta * p.width_factors(sigma, self.shape.n_inputs)[0] * self.shape.n_inputs * max(w0, 0.0)
        state = {name: eq.NEVER for name in NEVER_STAMPS}
        if self.shape.per_copy_inputs:
            state["R.a"] = per_copy_phases(self.shape.n_copies, self.shape.n_inputs)
        state.update({
            "R_L.r": np.full(n_syn, CoLaNETParams.initial_resource(w_min, w_max, w0)),
            "R_L.w": np.full(n_syn, w0),
            "L.theta_add": np.full(self.shape.n_learning, theta),
        })
        return state

    def carried_variables(self):
        """``(object_name, variable)`` pairs of the state carried between runs."""
        for obj_name, names in CARRIED_STATE.items():
            for var in names:
                yield obj_name, var
        if self.shape.one_factor:
            for var in ONE_FACTOR_STATE:
                yield "R_L", var
