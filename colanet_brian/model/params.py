"""All CoLaNET hyperparameters in one validated, JSON-serialisable object.

Every field carries its specification section, its meaning and, where the
specification lists one, the genetic-algorithm range of spec §10.  Default
values of the plasticity, neuron and input genes are those `colanet evolve`
found on digits (``models/ga_digits.json``; on Fashion-MNIST pixels they beat
the KNP MNIST set of spec §16 by 4-9 points, README "Accuracy").  The open gaps of
spec §17 are resolved as the specification recommends, each as a named field,
and the package's departures from the spec (``frame_isolation``, ``s_max``,
``tie_break``, ``silent_readout``, ``calibrate_width``, ``input_centering``,
``input_normalization``, ``input_streams``)
are each one named parameter away from the spec's behaviour
(``models/knp_mnist.json`` has the spec's behaviour and KNP values throughout).

Weights, resources and every quantity in resource units (``w_min``,
``w_max``, ``d_h``, ``reward``, ``theta_R``, ``a1``) are given in *KNP MNIST
units*, i.e. for an input that delivers about ``reference_drive`` (102.5)
input spikes per tact, like MNIST pixels coded with S = 255.  At build time
they are multiplied by ``weight_scale`` (sigma); with ``weight_scale="auto"``
sigma is ``reference_drive`` divided by the mean number of input spikes per
presentation tact of the training set, so one parameter set serves 64 pixels
and 1536 EfficientNet features alike.  ``r_s`` is divided by sigma so that the
dimensionless stability step ``r_s * D`` does not change.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CoLaNETParams",
    "ParameterError",
    "FORCE_MODES",
    "ENCODINGS",
    "TIE_BREAKS",
    "SILENT_READOUTS",
    "INPUT_NORMALIZATIONS",
    "INPUT_STREAMS",
    "load_params",
    "param_info",
]

#: Parameter sets shipped with the source tree (``models/`` at the repository root).
MODELS_DIR = Path(__file__).resolve().parent.parent.parent / "models"

#: How a GATE spike forces its column (spec §8.2, §17.7); see `CoLaNETParams.force_mode`.
FORCE_MODES = ("max", "rand", "all", "input")
#: Readout rules for tied OUT counts (spec §8.3, §17.16); see `CoLaNETParams.tie_break`.
TIE_BREAKS = ("lowest", "latency")
#: Readout of frames without any OUT spike (spec §8.3); see `CoLaNETParams.silent_readout`.
SILENT_READOUTS = ("none", "score")
#: Per-sample scaling before the rate code; see `CoLaNETParams.input_normalization`.
INPUT_NORMALIZATIONS = ("none", "l1")
#: Input groups: one for the whole ensemble or one per copy; see `CoLaNETParams.input_streams`.
INPUT_STREAMS = ("shared", "per_copy")
#: Rate codes of spec §3 / §17.4.
ENCODINGS = ("accumulator", "poisson")


#: Stand-in for "no bound" in compiled parameters (JSON has no infinity; None means unbounded).
UNBOUNDED = 1e30


class ParameterError(ValueError):
    """An impossible or inconsistent parameter value."""


def _p(default, section, doc, *, ga=None, integer=False, log=False, brian=None, scaled=None):
    """Declare one parameter field with its documentation metadata.

    Parameters
    ----------
    default
        Default value.
    section : str
        Section of ``shared/spec/colanet.md`` that defines the parameter.
    doc : str
        One-line meaning.
    ga : tuple, optional
        ``(low, high)`` search range of spec §10.
    integer : bool
        Whether the parameter is an integer.
    log : bool
        Whether the GA samples the gene in log space.
    brian : str, optional
        ``"L"``, ``"syn"``, ``"relay"`` or ``"target"``: the Brian2 group that
        holds it as a ``(shared, constant)`` variable, so that compiled
        standalone runs can change it through ``run_args``.
    scaled : str, optional
        ``"weight"`` if it is multiplied by sigma, ``"inverse"`` if divided.
    """
    meta = dict(section=section, doc=doc, ga=ga, integer=integer, log=log, brian=brian, scaled=scaled)
    return field(default=default, metadata=meta)


@dataclass
class CoLaNETParams:
    """Hyperparameters of one CoLaNET ensemble (spec §§2-10, §16, §17).

    Use `CoLaNETParams.from_json` / `to_json` to read and write the JSON files
    under ``models/``; `validate` raises `ParameterError` naming the field.
    """

    # --- structure (spec §4.4, §9) -------------------------------------
    n_microcolumns: int = _p(10, "4.4", "microcolumns (L neurons) per class column, M", ga=(3, 40), integer=True)
    n_copies: int = _p(15, "9", "independent CoLaNET copies in the ensemble", integer=True)

    # --- frame (spec §2, §8.2, §17.3, §17.6) ---------------------------
    frame_tacts: int = _p(15, "2", "tacts per sample (presentation + silence)", integer=True)
    present_tacts: int = _p(10, "2", "tacts of input presentation at the start of each frame", integer=True)
    label_tact: int = _p(11, "8.1", "local tact of the Target (label) spike", integer=True)

    # --- input coding (spec §3, §17.4, §17.5) --------------------------
    encoding: str = _p("accumulator", "3.1", "rate code: deterministic accumulator or Bernoulli/Poisson")
    input_streams: str = _p(
        "shared", "9", "one input group for all copies ('shared', spec §9) or one per copy ('per_copy'; departure: "
        "independent Poisson draws, or accumulator phases, per copy decorrelate the ensemble)",
    )
    saturation: float | None = _p(
        None, "3.4", "saturation level S (features >= S give one spike per tact); None = percentile of training features",
    )
    saturation_percentile: float = _p(90.4791, "3.4", "percentile of positive training features used for S", ga=(90.0, 100.0))
    input_centering: str = _p(
        "none", "3.4", "subtract each feature's training mean before rate coding ('mean'; departure for dense "
        "features) or not ('none', spec)",
    )
    input_normalization: str = _p(
        "l1", "3.4", "scale each sample so that its positive feature mass equals the training mean ('l1'; "
        "departure: faint samples drive L as much as bright ones) or not ('none', spec)",
    )
    reset_accumulator_per_sample: bool = _p(False, "3.1", "reset the accumulator at every frame start (ArNI default: no)")

    # --- L neuron (spec §5.2) ------------------------------------------
    theta0: float = _p(8.531, "5.2", "base firing threshold (ArNI units)", brian=("L.theta0", "OUT.theta0", "GATE.theta0"))
    chartime: float = _p(2.01057, "5.2", "membrane characteristic time tau in tacts; leak lambda = 1 - 1/tau", ga=(2, 10), integer=False)
    s_stoch: float = _p(2.61861, "5.2", "stochastic stimulation: U[0, s_stoch) added to v every tact", ga=(0.0, 3.0), brian=("L.s_stoch",))
    k_theta: float = _p(0.268535, "5.2", "threshold excess per unit of summed positive weight", ga=(0.0, 0.3), brian=("L.k_theta",))

    # --- resources and weights (spec §6) --------------------------------
    w_min: float = _p(-1.16287, "6", "weight at zero resource (KNP MNIST units)", ga=(-2.5, -0.05), brian=("R_L.w_min",), scaled="weight")
    w_max: float = _p(0.498126, "6", "weight as resource -> infinity (KNP MNIST units)", ga=(0.02, 2.5), log=True, scaled="weight")
    w_init: float = _p(0.0, "6", "initial weight of every plastic synapse (sets the initial resource r0)")
    weight_scale: float | str = _p(
        "auto", "17.2", "sigma: factor on every resource-unit quantity; 'auto' = reference_drive / input spikes per tact",
    )
    reference_drive: float = _p(102.5, "17.2", "input spikes per tact for which the resource-unit values are tuned (MNIST)")
    reference_inputs: int = _p(784, "17.2", "input width for which n_silent is given (MNIST)", integer=True)
    reference_rate: float = _p(0.3, "17.2", "mean input rate per tact for which k_theta is given (pixels)")
    calibrate_width: bool = _p(
        False, "17.2", "scale k_theta by mean input rate / reference_rate and n_silent by n_inputs / reference_inputs "
        "(departure; False: the values as written, spec; see width_factors)",
    )

    # --- plasticity (spec §7) -------------------------------------------
    d_h: float = _p(-0.56769, "7.1", "anti-Hebbian resource step per dense spike sequence (< 0)", ga=(-0.6, 0.0), brian=("R_L.d_h",), scaled="weight")
    reward: float = _p(0.721427, "7.2", "dopamine D delivered by Target -> L (above |d_h|, see module docstring)", ga=(0.01, 1.0), log=True, brian=("Target_L.reward",), scaled="weight")
    T_dop: int = _p(16, "7.2", "reward eligibility window after the neuron's last spike (tacts)", ga=(5, 20), integer=True, brian=("L.T_dop",))
    T_syn: int = _p(6, "7.1", "contribution window: inputs that arrived this many tacts before a spike", ga=(5, 15), integer=True, brian=("R_L.T_syn",))
    isi_max: int = _p(5, "7.0", "largest gap inside a dense spike sequence (maxTSSISI)", ga=(5, 15), integer=True, brian=("L.isi_max",))
    r_s: float = _p(0.264292, "7.2", "stability change per unit dopamine", ga=(0.0, 0.3), brian=("L.r_s",), scaled="inverse")
    s_isi: float = _p(0.0, "7.1", "stability decrease when a dense spike sequence starts", brian=("L.s_isi",))
    s_max: float | None = _p(
        4.0, "6, 7.2", "upper bound of the stability s, so the plasticity gain stays >= 2^-s_max (departure; None: "
        "unbounded, spec)", ga=(1.0, 10.0),
    )
    theta_R: float = _p(1.0, "7.3, 17.10", "free-resource threshold for renormalisation (KNP MNIST units)", brian=("L.theta_R",), scaled="weight")
    n_silent: int = _p(56, "7.3", "silent synapses absorbing part of the renormalised resource (at reference_inputs, see calibrate_width)", ga=(0, 60), integer=True, brian=("L.n_silent",))
    a1: float = _p(0.0, "7.4, 17.11", "one-factor resource change per presynaptic arrival (0 = off)", ga=(-1e-3, 0.0), scaled="weight")
    a1_period: int = _p(10, "7.4", "one-factor plasticity applies at most once per this many tacts per synapse", integer=True)

    # --- circuit (spec §4.3, §4.5, §8.2, §17.7, §17.12) -----------------
    wta_block: int = _p(10, "4.5", "tacts a winning L spike blocks its column siblings", integer=True, brian=("L_L.block_len",))
    wta_exact: bool = _p(True, "4.5, 17.12", "one winner per column and tact (False: ArNI gating only, siblings blocked from the next tact)", brian=("L.wta_exact",))
    wta_random: bool = _p(True, "4.5, 17.12", "break same-tact WTA ties at random (False: highest potential, then lowest index)", brian=("L.wta_random",))
    force_mode: str = _p("max", "8.2, 17.7", "GATE forcing: 'max' highest-potential L, 'rand' random L, 'all' every L, 'input' plain input of gate_weight")
    gate_weight: float = _p(10.0, "4.3, 17.7", "GATE -> L weight used when force_mode='input' (bias 3 or forcing 10)", ga=(3.0, 15.0), brian=("GATE_L.gate_weight",))
    strong_weight: float = _p(10.0, "4.3", "weight of the fixed supra-threshold links (L->OUT, Target->GATE)", brian=("L_OUT.w_fix", "Target_GATE.w_fix"))
    out_gate_block: int = _p(10, "4.3", "tacts an OUT spike blocks its GATE", integer=True, brian=("OUT_GATE.block_len",))
    gate_out_block: int = _p(3, "4.3", "tacts a GATE spike blocks its OUT (no votes from forced spikes)", integer=True, brian=("GATE_OUT.block_len",))
    dopamine_delay: int = _p(3, "4.3", "Target -> L dopamine delay (tacts)", integer=True)

    forced_persistent: bool = _p(True, "7.2, 17.8", "stability rule tests 'last spike was forced' (False: KNP's transient flag)", brian=("L.forced_persistent",))
    isi_signed: bool = _p(True, "7.1, 17.9", "intended signed ISI test (False: KNP's unsigned underflow, no sequence ever continues)", brian=("L.isi_signed",))
    frame_isolation: bool = _p(
        True, "2, 7.1, 7.2", "frames are independent: L blocking cleared at frame start; contributions, dense spike "
        "sequences and reward eligibility from the current frame only (departure; False: spec)",
        brian=("L.frame_isolation",),
    )

    # --- readout (spec §8.3, §17.16) ------------------------------------
    tie_break: str = _p(
        "latency", "8.3, 17.16", "rule for tied OUT counts: 'latency' earliest first OUT spike, then lowest index "
        "(departure); 'lowest' class index (KNP, spec)",
    )
    silent_readout: str = _p(
        "score", "8.3, 17.16", "frames without OUT spikes: 'score' the column whose L came closest to threshold "
        "(departure); 'none' counted as wrong (spec)",
    )

    # ------------------------------------------------------------------
    def validate(self, n_inputs: int | None = None) -> CoLaNETParams:
        """Check every value; raise `ParameterError` naming the bad field.

        Parameters
        ----------
        n_inputs : int, optional
            Input width, for checks that depend on it.

        Returns
        -------
        CoLaNETParams
            ``self``, to allow chaining.
        """
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ParameterError(f"{f.name} must be finite, got {value!r}")
        self._check_structure()
        self._check_weights()
        self._check_plasticity()
        if n_inputs is not None and n_inputs < 1:
            raise ParameterError(f"need at least one input feature, got {n_inputs}")
        return self

    def _check_structure(self):
        for name in ("n_microcolumns", "n_copies", "frame_tacts", "present_tacts"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.present_tacts > self.frame_tacts:
            raise ParameterError(f"present_tacts ({self.present_tacts}) exceeds frame_tacts ({self.frame_tacts})")
        if not self.present_tacts <= self.label_tact < self.frame_tacts - 1:
            raise ParameterError(
                f"label_tact ({self.label_tact}) must lie in the silent part of the frame and leave one tact for "
                f"GATE forcing: {self.present_tacts} <= label_tact < {self.frame_tacts - 1}"
            )
        if self.encoding not in ENCODINGS:
            raise ParameterError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        if self.input_streams not in INPUT_STREAMS:
            raise ParameterError(f"input_streams must be one of {INPUT_STREAMS}, got {self.input_streams!r}")
        if self.force_mode not in FORCE_MODES:
            raise ParameterError(f"force_mode must be one of {FORCE_MODES}, got {self.force_mode!r}")
        if self.tie_break not in TIE_BREAKS:
            raise ParameterError(f"tie_break must be one of {TIE_BREAKS}, got {self.tie_break!r}")
        if self.input_centering not in ("none", "mean"):
            raise ParameterError(f"input_centering must be 'none' or 'mean', got {self.input_centering!r}")
        if self.input_normalization not in INPUT_NORMALIZATIONS:
            raise ParameterError(f"input_normalization must be one of {INPUT_NORMALIZATIONS}, "
                                 f"got {self.input_normalization!r}")
        if self.silent_readout not in SILENT_READOUTS:
            raise ParameterError(f"silent_readout must be one of {SILENT_READOUTS}, got {self.silent_readout!r}")
        if self.reference_inputs < 1:
            raise ParameterError(f"reference_inputs must be >= 1, got {self.reference_inputs!r}")
        if not self.reference_rate > 0:
            raise ParameterError(f"reference_rate must be > 0, got {self.reference_rate!r}")
        if self.saturation is not None and not self.saturation > 0:
            raise ParameterError(f"saturation must be > 0 (or null for the percentile rule), got {self.saturation!r}")
        if not 0 < self.saturation_percentile <= 100:
            raise ParameterError(f"saturation_percentile must be in (0, 100], got {self.saturation_percentile!r}")

    def _check_weights(self):
        if not self.w_min < 0 < self.w_max:
            raise ParameterError(f"need w_min < 0 < w_max, got w_min={self.w_min}, w_max={self.w_max}")
        if not self.w_min <= self.w_init < self.w_max:
            raise ParameterError(f"w_init must lie in [w_min, w_max) = [{self.w_min}, {self.w_max}), got {self.w_init}")
        if self.weight_scale != "auto":
            try:
                sigma = float(self.weight_scale)
            except (TypeError, ValueError):
                raise ParameterError(f"weight_scale must be 'auto' or a positive number, got {self.weight_scale!r}") from None
            if not (math.isfinite(sigma) and sigma > 0):
                raise ParameterError(f"weight_scale must be positive and finite, got {self.weight_scale!r}")
        if not self.reference_drive > 0:
            raise ParameterError(f"reference_drive must be > 0, got {self.reference_drive}")

    def _check_plasticity(self):
        if self.chartime < 1:
            raise ParameterError(f"chartime must be >= 1 tact (lambda = 1 - 1/chartime >= 0), got {self.chartime}")
        checks = {
            "s_stoch": self.s_stoch >= 0,
            "k_theta": self.k_theta >= 0,
            "d_h": self.d_h <= 0,
            "reward": self.reward >= 0,
            "r_s": self.r_s >= 0,
            "theta_R": self.theta_R > 0,
            "n_silent": self.n_silent >= 0,
            "T_dop": self.T_dop >= 0,
            "T_syn": self.T_syn >= 0,
            "isi_max": self.isi_max >= 1,
            "s_max": self.s_max is None or self.s_max >= 0,
            "wta_block": self.wta_block >= 0,
            "out_gate_block": self.out_gate_block >= 0,
            "gate_out_block": self.gate_out_block >= 0,
            "dopamine_delay": self.dopamine_delay >= 1,
            "a1_period": self.a1_period >= 1,
            "theta0": self.theta0 > 0,
            "strong_weight": self.strong_weight >= self.theta0,
        }
        rules = {
            "d_h": "<= 0 (anti-Hebbian)",
            "theta_R": "> 0",
            "isi_max": ">= 1",
            "dopamine_delay": ">= 1",
            "a1_period": ">= 1",
            "theta0": "> 0",
            "strong_weight": f">= theta0 ({self.theta0}) so one spike fires the target",
        }
        for name, ok in checks.items():
            if not ok:
                raise ParameterError(f"{name} must be {rules.get(name, '>= 0')}, got {getattr(self, name)!r}")
        if self.frame_tacts <= self.label_tact + self.dopamine_delay:
            raise ParameterError(
                f"the dopamine (label_tact {self.label_tact} + dopamine_delay {self.dopamine_delay}) must arrive "
                f"inside the frame of {self.frame_tacts} tacts"
            )

    # ------------------------------------------------------------------
    @property
    def lam(self) -> float:
        """Leak factor per tact, lambda = 1 - 1/chartime (spec §5.2)."""
        return 1.0 - 1.0 / self.chartime

    @staticmethod
    def initial_resource(w_min: float, w_max: float, w: float = 0.0) -> float:
        """Resource r that maps to weight ``w`` (inverse map of spec §6).

        For the ArNI CIFAR-10 anchor (w_min=-1.63411, w_max=1.71388, w=0) this
        is 3.192, the anchor's ``iniresource``.
        """
        dw = w_max - w_min
        x = w - w_min
        if not 0 <= x < dw:
            raise ParameterError(f"weight {w} outside [w_min, w_max) = [{w_min}, {w_max})")
        return x * dw / (dw - x)

    def sigma(self, input_spikes_per_tact: float | None = None) -> float:
        """Resource-unit scale factor sigma (see module docstring).

        Parameters
        ----------
        input_spikes_per_tact : float, optional
            Mean number of input spikes per presentation tact of the training
            set; required when ``weight_scale == "auto"``.
        """
        if self.weight_scale != "auto":
            return float(self.weight_scale)
        if input_spikes_per_tact is None or not input_spikes_per_tact > 0:
            raise ParameterError(
                "weight_scale='auto' needs a positive mean input drive (input spikes per tact); "
                f"got {input_spikes_per_tact!r}: are all features <= 0?"
            )
        return self.reference_drive / float(input_spikes_per_tact)

    def width_factors(self, sigma: float, n_inputs: int | None) -> tuple[float, float]:
        """Factors on ``k_theta`` and ``n_silent`` for this input (``calibrate_width``).

        The threshold excess ``k_theta * sum(w > 0)`` sums over *all* afferents,
        while the drive per tact sums only over the inputs that spike, about
        ``mean rate * n_inputs * w``.  With ``weight_scale='auto'`` the mean
        rate per input is ``reference_drive / (sigma * n_inputs)``; the factor
        ``mean rate / reference_rate`` keeps the excess in the same proportion
        to the drive as for inputs at ``reference_rate`` (pixels of digits and
        Fashion-MNIST: about 0.3).  Sparse or dense ANN features have mean rates
        of 0.04-0.1, where the uncalibrated excess outgrows the drive and
        trained neurons fall silent.  ``n_silent`` (spec §7.3) drains
        ``n_silent / (n_inputs + n_silent)`` of the freed resource: scaling it
        by ``n_inputs / reference_inputs`` keeps that share at every width.

        Returns
        -------
        k_theta_factor, n_silent_factor : float
            Both 1 when ``calibrate_width`` is off, ``weight_scale`` is a
            number (the drive is then unknown here) or ``n_inputs`` is unknown.
        """
        if not self.calibrate_width or n_inputs is None or self.weight_scale != "auto":
            return 1.0, 1.0
        mean_rate = self.reference_drive / (sigma * n_inputs)
        return mean_rate / self.reference_rate, n_inputs / self.reference_inputs

    def brian_values(self, sigma: float, n_inputs: int | None = None) -> dict[str, dict[str, float]]:
        """Values of the ``(shared, constant)`` Brian2 parameters, per object.

        Parameters
        ----------
        sigma : float
            Resource-unit scale factor (see `sigma`).
        n_inputs : int, optional
            Input width, for `width_factors` (without it: no width calibration).

        Returns
        -------
        dict
            ``{object_name: {variable: value}}`` in simulation units, for the
            objects named in `colanet_brian.model.network` (``"L"``, ``"R_L"``, ...).
        """
        out: dict[str, dict[str, float]] = {}
        for f in dataclasses.fields(self):
            targets = f.metadata.get("brian") or ()
            value = getattr(self, f.name)
            if f.metadata["scaled"] == "weight":
                value = value * sigma
            elif f.metadata["scaled"] == "inverse":
                value = value / sigma
            for target in targets:
                obj, var = target.split(".")
                out.setdefault(obj, {})[var] = value
        w_min, w_max = self.w_min * sigma, self.w_max * sigma
        out["R_L"]["dw"] = w_max - w_min
        out["L"]["lam"] = self.lam
        out["L"]["force_mode_id"] = FORCE_MODES.index(self.force_mode)
        out["L"]["s_max"] = UNBOUNDED if self.s_max is None else float(self.s_max)
        k_factor, silent_factor = self.width_factors(sigma, n_inputs)
        out["L"]["k_theta"] = self.k_theta * k_factor
        out["L"]["n_silent"] = self.n_silent * silent_factor
        if self.a1 != 0:
            out["R_L"]["a1"] = self.a1 * sigma
            out["R_L"]["a1_period"] = self.a1_period
        return out

    # ------------------------------------------------------------------
    def replace(self, **changes) -> CoLaNETParams:
        """Return a validated copy with some fields changed."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ParameterError(f"unknown parameter(s): {sorted(unknown)}")
        return dataclasses.replace(self, **changes).validate()

    def to_dict(self) -> dict:
        """Plain ``dict`` of all fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CoLaNETParams:
        """Build from a ``dict``; unknown keys are an error, missing keys take defaults."""
        data = {k: v for k, v in data.items() if not k.startswith("_")}  # "_comment" keys document files
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ParameterError(f"unknown parameter(s): {sorted(unknown)}")
        params = cls(**data)
        for f in dataclasses.fields(cls):
            if f.metadata.get("integer") and isinstance(getattr(params, f.name), float):
                value = getattr(params, f.name)
                if value != int(value):
                    raise ParameterError(f"{f.name} must be an integer, got {value!r}")
                setattr(params, f.name, int(value))
        return params.validate()

    def to_json(self, path: str | Path) -> None:
        """Write the parameters to a JSON file, atomically."""
        _atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_json(cls, path: str | Path) -> CoLaNETParams:
        """Read parameters from a JSON file written by `to_json` (or by hand)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"parameter file not found: {path}")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ParameterError(f"{path} is not valid JSON: {err}") from None
        if isinstance(data, dict) and "params" in data and isinstance(data["params"], dict):
            data = data["params"]  # accept a results.json too
        return cls.from_dict(data)


def load_params(spec: str | Path | None) -> CoLaNETParams:
    """Load parameters from a file path or a named set in ``models/``.

    Parameters
    ----------
    spec : str or path or None
        ``None`` for the defaults, a JSON path, or the stem of a file in the
        package's ``models/`` directory (e.g. ``"knp_mnist"``).
    """
    if spec is None:
        return CoLaNETParams().validate()
    path = Path(spec)
    if path.suffix != ".json" and not path.exists():
        candidate = MODELS_DIR / f"{spec}.json"
        if candidate.is_file():
            path = candidate
        else:
            known = sorted(p.stem for p in MODELS_DIR.glob("*.json"))
            raise FileNotFoundError(f"no parameter file {spec!r}; named sets: {known}")
    return CoLaNETParams.from_json(path)


def _atomic_write_text(path: str | Path, text: str) -> None:
    # the model imports nothing else of the package: a local copy of `provenance.atomic_write_text`
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def param_info() -> list[dict]:
    """Documentation table of every parameter: name, default, section, meaning, GA range."""
    rows = []
    for f in dataclasses.fields(CoLaNETParams):
        rows.append(dict(name=f.name, default=f.default, **f.metadata))
    return rows
