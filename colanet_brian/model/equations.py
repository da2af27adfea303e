"""Every Brian2 string of the CoLaNET model, and nothing else.

One tact is one Brian2 time step (``dt = 1*ms``, spec §2).  The network runs
with the schedule ``start, groups, synapses, thresholds, resets, end`` (see
`SCHEDULE`), so that the order of operations of spec §5.2 holds in every
tact:

============  =====================================================================
slot          what happens (spec §5.2 step)
============  =====================================================================
start         frame clock: phase of the frame, frame start time, presentation flag
groups        L leak and stochastic stimulation (1, 2); dendrites and flags cleared;
              OUT/GATE have no memory (lambda = 0, spec §17.15); input accumulator
synapses      spikes of the previous tact arrive (KNP delay d = Brian delay d-1):
              R->L into the L dendrite, blocking, forcing, dopamine, L->OUT, ... (4)
before_thr.   L dendrite enters the soma unless blocked, floor at 0 (5, 7); blocks lifted at
              frame start (frame isolation); peak v / threshold of the frame; same-tact
              winner-take-all within each column (spec §4.5); column scores summed into OUT
thresholds    spikes (6)
resets        reset to 0; dense-spike-sequence bookkeeping of the L spike (§7.1 step 1)
after_resets  plasticity: anti-Hebbian at the spike, then dopamine, then
              resource renormalisation (8; spec §7.1-7.3)
end           the global tact counter advances
============  =====================================================================

Names of the form ``UPPER_CASE`` are equation, threshold, reset or
``on_pre``/``on_post`` strings.  Constants in ``ALL_CAPS`` inside the strings
(``FRAME_TACTS``, ``FORCE_MAX``, ...) are structural and resolved from the
namespace built by `namespace_constants`; every numeric hyperparameter is a
``(shared, constant)`` variable instead, so compiled standalone binaries can
change it through ``run_args`` without recompiling.
"""

from .params import FORCE_MODES
from .rng import SALT_INPUT, SALT_NOISE, SALT_WTA

#: Network schedule: synaptic input lands before the threshold test (spec §15.1).
SCHEDULE = ["start", "groups", "synapses", "thresholds", "resets", "end"]

#: "never" for tact-valued variables (far in the past, still an int32).
NEVER = -(10**8)

#: Sharpness of the column score ``sum_m exp(SCORE_BETA * (peak_m - 1))`` (a soft maximum of the
#: microcolumns' peak potential relative to threshold; see `OUTPUT_SCORE_SUMMED`).
SCORE_BETA = 10.0


def namespace_constants(params, n_inputs: int) -> dict:
    """Structural constants referenced by the strings of this module.

    Parameters
    ----------
    params : CoLaNETParams
        Parameter set (only its structural fields are read).
    n_inputs : int
        Number of input channels (afferents of every L neuron).
    """
    consts = dict(
        FRAME_TACTS=int(params.frame_tacts),
        PRESENT_TACTS=int(params.present_tacts),
        LABEL_TACT=int(params.label_tact),
        DOPAMINE_TACT=int(params.label_tact) + int(params.dopamine_delay) - 1,
        RESET_PER_SAMPLE=bool(params.reset_accumulator_per_sample),
        N_AFF=int(n_inputs),
        SALT_NOISE=SALT_NOISE,
        SALT_WTA=SALT_WTA,
        SALT_INPUT=SALT_INPUT,
        SCORE_BETA=SCORE_BETA,
    )
    for k, mode in enumerate(FORCE_MODES):
        consts[f"FORCE_{mode.upper()}"] = k
    return consts


# ---------------------------------------------------------------------------
# Frame clock (spec §2): one neuron whose shared variables all groups link to.
# ---------------------------------------------------------------------------
FRAME_CLOCK_EQS = """
tact : integer (shared)                   # global tact counter, carried from run to run
block_tact0 : integer (shared, constant)  # tact at which the current block of samples began
rng_seed : integer (shared, constant)     # key of all random streams (rng.colanet_uniform)
phase : integer (shared)                  # tact within the frame, 0 .. FRAME_TACTS-1
frame_t : second (shared)                 # block-relative mid-time of this frame, for TimedArray lookups
presenting : boolean (shared)             # inside the input presentation part of the frame
recording : boolean (shared)              # this frame's input spikes are recorded (analysis rasters)
"""

FRAME_CLOCK_UPDATE = """
phase = (tact - block_tact0) % FRAME_TACTS
frame_t = (((tact - block_tact0) // FRAME_TACTS) + 0.5) * FRAME_TACTS * dt
presenting = phase < PRESENT_TACTS
recording = record_mask(frame_t) > 0.5
"""

FRAME_CLOCK_ADVANCE = "tact += 1"

#: Variables of the frame clock that other groups link to.
CLOCK_LINKS = {
    "R": ("tact", "frame_t", "presenting", "phase", "rng_seed", "recording"),
    "L": ("tact", "phase", "rng_seed"),
    "relay": ("tact",),
    "out": ("tact", "phase"),
    "target": ("frame_t", "phase"),
}


def linked_declarations(kind: str) -> str:
    """Equation lines declaring the frame-clock variables a group links to."""
    types = dict(tact="integer", phase="integer", rng_seed="integer", frame_t="second", presenting="boolean",
                 recording="boolean")
    return "\n".join(f"{name} : {types[name]} (linked)" for name in CLOCK_LINKS[kind]) + "\n"


# ---------------------------------------------------------------------------
# Input receptors R (spec §3): rate ``rho`` per tact from a TimedArray ``stim``.
# ---------------------------------------------------------------------------
INPUT_EQS = """
rho = stim(frame_t, i % N_AFF) * int(presenting) : 1   # spike probability / accumulator increment (spec 3.1)
a : 1                                     # deterministic accumulator, kept across samples (spec 3.1)
t_arr : integer                           # tact at which this input's last spike reaches L (delay 1, spec 7.0)
r_offset : integer (shared, constant)     # ensemble index of input 0: keeps the streams when copies are split
""" + linked_declarations("R")

#: Deterministic accumulator of spec §3.1 ("fromFile" rate code of ArNI-X).
ACCUMULATOR_UPDATE = "a = a * int(not (RESET_PER_SAMPLE and phase == 0)) + rho"
ACCUMULATOR_THRESHOLD = "a >= 1"
ACCUMULATOR_RESET = """
a -= 1
t_arr = tact + 1
"""

#: Bernoulli spikes with probability rho per tact: Brian2's PoissonGroup rule
#: ``rand() < rates*dt`` with ``rates = rho/dt``, on the counter-based stream.
POISSON_THRESHOLD = "colanet_uniform(rng_seed, i + r_offset, tact, SALT_INPUT) < rho"
POISSON_RESET = "t_arr = tact + 1"


def recorded_input_event(threshold: str) -> str:
    """Custom event: an input spike of the first copy's inputs in a frame chosen for recording (same condition,
    same random number)."""
    return f"({threshold}) and recording and i < N_AFF"

# ---------------------------------------------------------------------------
# Learning neurons L (spec §5.2, §7.0) with an explicit dendritic accumulator.
# ---------------------------------------------------------------------------
LEARNING_NEURON_EQS = """
v : 1                        # membrane potential, ArNI units (spec 5.2)
I_dend : 1                   # dendrite: plastic input that arrived this tact; enters v only if unblocked
theta_add : 1                # threshold excess k_theta * sum of positive afferent weights (spec 5.2)
block_until : integer        # last tact of the current blocking window (spec 5.2 step 5)
blocked = tact <= block_until : boolean
force_req : boolean          # a GATE forcing spike arrived this tact (spec 8.2)
cand : boolean               # winner-take-all candidate this tact (spec 4.5)
peak : 1                     # largest v / threshold so far in this frame (column score, readout of silent frames)
prio : 1                     # WTA priority: 2+ unconditional forcing, 1+ threshold crossing, 0 none
n_beaten : integer           # same-column candidates with a higher priority this tact
D : 1                        # dopamine received this tact (spec 7.2)
forced : boolean             # the neuron's last spike was forced (spec 7.1, 17.8)
isi_status : integer         # dense spike sequence: 0 none, 1 started, 2 continued, 3 forced (spec 7.0)
dss_break : boolean          # dopamine arrived: the next unforced spike starts a new sequence (spec 7.1)
t_last : integer             # tact of the last spike, forced or not
t_last_unf : integer         # tact of the last unforced spike
t_first : integer            # first tact of the current dense spike sequence
s : 1                        # stability (spec 6)
F : 1                        # free synaptic resource (spec 6)
F_share : 1                  # F / (N_AFF + n_silent), handed to each afferent at renormalisation
gain = clip(2.0**(-s), 0.0, 1.0) : 1   # plasticity gain g(s) = min(2^-s, 1) (spec 6)
frame_start = tact - phase : integer   # first tact of the current frame
fired_in_frame = t_last >= frame_start : boolean  # the last spike belongs to the current frame
lam : 1 (shared, constant)             # leak per tact, 1 - 1/chartime
s_stoch : 1 (shared, constant)         # stochastic stimulation amplitude
theta0 : 1 (shared, constant)          # base threshold
k_theta : 1 (shared, constant)         # threshold excess per unit positive weight
T_dop : integer (shared, constant)     # reward eligibility window (tacts)
isi_max : integer (shared, constant)   # largest gap inside a dense spike sequence
isi_signed : boolean (shared, constant)  # True: intended signed ISI test; False: KNP unsigned-underflow behaviour (17.9)
r_s : 1 (shared, constant)             # stability change per unit dopamine
s_isi : 1 (shared, constant)           # stability decrease at the start of a sequence
s_max : 1 (shared, constant)           # upper bound of s (params.UNBOUNDED: none, spec)
frame_isolation : boolean (shared, constant)  # frames independent (blocking, contributions, sequences, reward)
theta_R : 1 (shared, constant)         # renormalisation threshold on |F|
n_silent : 1 (shared, constant)        # silent synapses (spec 7.3), scaled with the width (params.width_factors)
wta_random : boolean (shared, constant)  # random same-tact WTA choice (else highest potential)
wta_exact : boolean (shared, constant)   # one winner per column and tact (else ArNI gating only, 17.12)
forced_persistent : boolean (shared, constant)  # stability rule reads "last spike forced" (17.8)
force_mode_id : integer (shared, constant)  # index into params.FORCE_MODES
plastic : boolean (shared, constant)   # plasticity on (training) or off (testing)
column : integer (constant)            # global column index: copy * n_classes + class
i_offset : integer (shared, constant)  # ensemble index of neuron 0: keeps the random streams when copies are split over processes
""" + linked_declarations("L")

#: Spec §5.2 steps 1-2 (and the frame-start reset of §5.2 / §17 [INF]); clears this tact's inputs.
LEARNING_NEURON_PRE_INPUT = """
v = v * lam * int(phase != 0) + s_stoch * colanet_uniform(rng_seed, i + i_offset, tact, SALT_NOISE)
I_dend = 0
D = 0
force_req = False
n_beaten = 0
"""

#: Spec §5.2 steps 5 and 7, then the WTA candidacy and priority of spec §4.5 / §8.2.  With frame
#: isolation a block that reaches into a new frame (a forced spike at tact 13, a late winner) is
#: lifted at its first tact; it runs after the synapses slot, so a block delivered then is lifted too.
LEARNING_NEURON_INTEGRATE = """
block_until = block_until - int(frame_isolation and phase == 0 and block_until >= tact) * (block_until - tact + 1)
v = clip(v + I_dend * int(not blocked), 0.0, inf)
peak = clip(v / (theta0 + theta_add), peak * int(phase != 0), inf)
unconditional = force_req and force_mode_id != FORCE_INPUT
cand = unconditional or (not blocked and v >= theta0 + theta_add)
by_potential = (unconditional and force_mode_id == FORCE_MAX) or (not unconditional and not wta_random)
prio = int(cand) * (1 + int(unconditional) + 0.5 * (int(by_potential) * v / (1 + v) + int(not by_potential) * colanet_uniform(rng_seed, i + i_offset, tact, SALT_WTA)))
"""

#: Custom event of WTA candidates (evaluated before the threshold).
LEARNING_NEURON_CANDIDATE_EVENT = "cand"

#: A candidate spikes if no sibling beats it (exact WTA), if WTA is gating only, or if every forced L fires.
LEARNING_NEURON_THRESHOLD = (
    "cand and (n_beaten == 0 or not wta_exact or (force_req and force_mode_id == FORCE_ALL))"
)

#: Reset and dense-spike-sequence classification of spec §7.1 step 1-2.
LEARNING_NEURON_RESET = """
forced = force_req
cont = not forced and not dss_break and isi_signed and (isi_status == 1 or isi_status == 2) and tact - t_last_unf < isi_max and (t_last_unf >= frame_start or not frame_isolation)
isi_status = 3 * int(forced) + 2 * int(cont) + int(not forced and not cont)
t_first = int(isi_status == 1) * tact + int(isi_status != 1) * t_first
s = s - s_isi * int(plastic and isi_status == 1)
t_last_unf = int(forced) * t_last_unf + int(not forced) * tact
dss_break = dss_break and forced
t_last = tact
v = 0
"""

#: Dopamine event (spec §7.2): positive reward, or punishment of an unforced neuron.
LEARNING_NEURON_DOPAMINE_EVENT = "plastic and (D > 0 or (D < 0 and isi_status != 3))"
#: The part of it that changes synapses: only if the last spike is at most T_dop tacts old.
LEARNING_NEURON_DOPAMINE_SYNAPSE_EVENT = (
    LEARNING_NEURON_DOPAMINE_EVENT + " and tact - t_last <= T_dop and (fired_in_frame or not frame_isolation)"
)

#: Stability update of spec §7.2 step 2 (no lower clamp in the unforced branch, as specified), bounded
#: above by ``s_max``.  With frame isolation a neuron that did not fire in this frame counts as never
#: having fired (factor -1), whatever it did in earlier frames.
LEARNING_NEURON_ON_DOPAMINE = """
fired_here = fired_in_frame or not frame_isolation
forced_branch = D < 0 or (forced_persistent and forced and fired_here) or (not forced_persistent and force_req)
bonus = int(fired_here) * clip(2.0 - abs(1.0 * (tact - t_first - isi_max)) / isi_max, -1.0, inf) - int(not fired_here)
s = clip(int(forced_branch) * clip(s - r_s * D, 0.0, inf) + int(not forced_branch) * (s + r_s * D * bonus), -inf, s_max)
dss_break = True
"""

#: Renormalisation event of spec §7.3: outside a dense sequence and |F| >= theta_R.
LEARNING_NEURON_RENORM_EVENT = "plastic and abs(F) >= theta_R and (isi_status == 3 or tact - t_last_unf > isi_max)"
LEARNING_NEURON_ON_RENORM = """
F_share = F / (N_AFF + n_silent)
F = 0
"""

# ---------------------------------------------------------------------------
# Plastic R -> L synapses (spec §6, §7).
# ---------------------------------------------------------------------------
PLASTIC_SYNAPSE_EQS = """
r : 1                       # synaptic resource (spec 6)
w : 1                       # weight w(r) (spec 6), kept in step with r
contrib : boolean           # input arrived within T_syn before the neuron's last spike (spec 7.1 step 3)
hebb_done : boolean         # anti-Hebbian step already applied in this dense sequence (spec 7.1 step 5)
w_min : 1 (shared, constant)
dw : 1 (shared, constant)             # w_max - w_min
d_h : 1 (shared, constant)            # anti-Hebbian step (< 0)
T_syn : integer (shared, constant)    # contribution window (tacts)
"""

#: Spec §6: saturating weight of a resource; the threshold excess follows the weight change.
WEIGHT_FROM_RESOURCE = """
w_old = w
w = w_min + dw * clip(r, 0.0, inf) / (dw + clip(r, 0.0, inf))
theta_add_post += k_theta_post * (clip(w, 0.0, inf) - clip(w_old, 0.0, inf))
"""

#: A resource change ``dr`` taken from (or returned to) the neuron's free resource F.
RESOURCE_STEP = """
r += dr
F_post -= dr
""" + WEIGHT_FROM_RESOURCE

#: An input spike arriving at the L dendrite (spec §5.2 step 4): the hot path, one add.
PLASTIC_SYNAPSE_ON_PRE = "I_dend_post += w"

#: One-factor plasticity of spec §7.4 (only compiled in when params.a1 != 0).
ONE_FACTOR_EQS = """
a1 : 1 (shared, constant)             # one-factor resource change per arrival
a1_period : integer (shared, constant)
t_1f : integer                        # tact of the last one-factor change
"""
ONE_FACTOR_ON_PRE = (
    """
do_1f = plastic_post and tact_post + 1 - t_1f >= a1_period
dr = a1 * int(do_1f)
t_1f = int(do_1f) * (tact_post + 1) + int(not do_1f) * t_1f
"""
    + RESOURCE_STEP
)

#: Spec §7.1 steps 3-5 at an L spike: contribution flags, then anti-Hebbian once per dense sequence.
#: With frame isolation only arrivals of the current frame contribute (an early spike with T_syn = 10
#: would otherwise credit the previous image's late inputs).
PLASTIC_SYNAPSE_ON_POST = (
    """
had = t_last_post - T_syn <= t_arr_pre and t_arr_pre <= t_last_post and (t_arr_pre >= frame_start_post or not frame_isolation_post)
contrib = had or (contrib and isi_status_post == 2)
hebb_done = hebb_done and isi_status_post == 2
hebb = plastic_post and not forced_post and contrib and not hebb_done
dr = d_h * gain_post * int(hebb)
hebb_done = hebb_done or hebb
"""
    + RESOURCE_STEP
)

#: Spec §7.2 step 1: the reward potentiates the synapses that contributed to the last spike.
PLASTIC_SYNAPSE_ON_DOPAMINE = "dr = D_post * gain_post * int(contrib)\n" + RESOURCE_STEP

#: Spec §7.3: the free resource is spread over the afferents (the silent share is lost).
PLASTIC_SYNAPSE_ON_RENORM = "r += F_share_post\n" + WEIGHT_FROM_RESOURCE

# ---------------------------------------------------------------------------
# OUT and GATE (spec §4.2): memoryless relays that can be blocked.
# ---------------------------------------------------------------------------
RELAY_NEURON_EQS = """
v : 1                             # input of this tact (lambda = 0, spec 17.15)
block_until : integer             # last tact of the current blocking window
blocked = tact <= block_until : boolean
theta0 : 1 (shared, constant)
column : integer (constant)       # global column index: copy * n_classes + class
""" + linked_declarations("relay")
RELAY_NEURON_PRE_INPUT = "v = 0"

#: OUT neurons also hold the column score, read out once per frame at its last tact.
OUTPUT_NEURON_EQS = RELAY_NEURON_EQS.replace(linked_declarations("relay"), linked_declarations("out")) + """
score : 1                         # sum over the column's L of exp(SCORE_BETA * (peak - 1)), summed by L_OUT
"""
#: Custom event that records the column score (an EventMonitor on OUT reads ``score``).
OUTPUT_SCORE_EVENT = "phase == FRAME_TACTS - 1"
RELAY_NEURON_THRESHOLD = "v >= theta0 and not blocked"
RELAY_NEURON_RESET = "v = 0"

# ---------------------------------------------------------------------------
# Target (label) receptors (spec §8.1): one spike of the label's neuron at LABEL_TACT.
# ---------------------------------------------------------------------------
TARGET_EQS = """
teach : boolean (shared, constant)   # the teacher is active (training)
""" + linked_declarations("target")
TARGET_THRESHOLD = "teach and phase == LABEL_TACT and abs(label(frame_t) - i) < 0.5"

#: The label spike as the dopamine synapses see it: the same neuron, ``dopamine_delay - 1`` tacts later.
#: This is the Target -> L delay of spec §4.3 (KNP delay d = d-1 tacts here) written as a delayed event
#: of the deterministic label receptor instead of a synaptic delay.  Exactly equivalent (the label spike
#: is a fixed function of the frame, and params.validate keeps it inside the frame), and it leaves every
#: pathway of the network without delay: brian2cuda 1.0a7's circular eventspaces assume thresholds run
#: before synapses, so a delayed pathway next to an undelayed one from the same group (Target -> GATE)
#: delivers at the wrong tact under this module's SCHEDULE.
TARGET_DOPAMINE_EVENT = "teach and phase == DOPAMINE_TACT and abs(label(frame_t) - i) < 0.5"

# ---------------------------------------------------------------------------
# Fixed synapses (spec §4.3).
# ---------------------------------------------------------------------------
#: Excitatory link with one shared weight (L->OUT, Target->GATE).
EXCITATORY_SYNAPSE_EQS = "w_fix : 1 (shared, constant)"

#: L -> OUT also carries the column score: how close the column's microcolumns came to firing in this
#: frame.  Spec §17.16 suggests reading L potentials for ties; here they answer frames without any spike.
OUTPUT_SCORE_SUMMED = "score_post = exp(SCORE_BETA * (peak_pre - 1.0)) : 1 (summed)"
EXCITATORY_SYNAPSE_ON_PRE = "v_post += w_fix"

#: Gating (blocking) link: blocks the target's input for ``block_len`` tacts, the arrival tact included.
BLOCKING_SYNAPSE_EQS = "block_len : integer (shared, constant)"
BLOCKING_SYNAPSE_ON_PRE = """
block_new = tact_post + block_len - 1
block_until_post = block_until_post + int(block_new > block_until_post) * (block_new - block_until_post)
"""

#: L -> L within a column: gating (block) and same-tact WTA.  ``lower`` (i < j) breaks exact priority
#: ties towards the lower index; it is stored because brian2cuda's kernels cannot name ``i``/``j`` there.
WTA_SYNAPSE_EQS = BLOCKING_SYNAPSE_EQS + "\nlower : boolean (constant)  # presynaptic index below postsynaptic"
#: Same-tact WTA among the candidates of one column (spec §4.5): count who beats whom.
WTA_SYNAPSE_ON_CANDIDATE = "n_beaten_post += int(prio_pre > prio_post or (prio_pre == prio_post and lower))"

#: Dopamine link Target -> L (spec §4.3 row 3).
DOPAMINE_SYNAPSE_EQS = "reward : 1 (shared, constant)"
DOPAMINE_SYNAPSE_ON_PRE = "D_post += reward"

#: GATE -> L teacher forcing (spec §8.2, §17.7).
FORCING_SYNAPSE_EQS = "gate_weight : 1 (shared, constant)"
FORCING_SYNAPSE_ON_PRE = """
force_req_post = True
I_dend_post += gate_weight * int(force_mode_id_post == FORCE_INPUT)
"""
