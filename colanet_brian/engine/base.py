"""What every engine shares: backend names, recorded monitors, the block result, a quiet Brian2.

Backends
--------
``runtime``  Brian2 runtime mode, Cython code generation when it works, numpy otherwise.
``cython``   runtime mode, Cython only.
``numpy``    runtime mode, numpy only (slow, no compiler needed).
``cpp``      ``cpp_standalone``: compiled once per `NetworkShape` (`colanet_brian.engine.build`).
``cuda``     brian2cuda's ``cuda_standalone``, the same way (see `colanet_brian.engine.cuda`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["BACKENDS", "STANDALONE_BACKENDS", "MONITORS", "MONITOR_VARIABLES", "BlockResult"]

BACKENDS = ("runtime", "cython", "numpy", "cpp", "cuda")
STANDALONE_BACKENDS = ("cpp", "cuda")
#: Spike monitors a network may have (`network.CoLaNETNetwork._build_monitors`).
MONITORS = ("OUT_spikes", "OUT_scores", "L_spikes", "GATE_spikes", "Target_spikes", "R_spikes")
#: Recorded variables of event monitors, returned after ``(indices, tacts)``.
MONITOR_VARIABLES = {"OUT_scores": ("score",)}


@dataclass
class BlockResult:
    """Spikes of one block, in block-relative tacts.

    Attributes
    ----------
    out_counts : ndarray, shape (n_frames, n_copies, n_classes)
        OUT spikes attributed to each frame (an OUT spike at tact T belongs to
        the frame of the L spike one tact earlier, spec §8.2).
    out_first : ndarray, shape (n_frames, n_copies, n_classes)
        Frame-local tact of the first of those spikes (`readout.NO_SPIKE_TACT`
        where there is none), for the latency tie-break of `readout.vote`.
    out_scores : ndarray, shape (n_frames, n_copies, n_classes)
        Column score at the end of each frame (`equations.OUTPUT_SCORE_SUMMED`),
        the readout of frames without an OUT spike.
    spikes : dict
        ``{monitor: (indices, tacts)}`` for every recorded population.
    wall_time : float
        Seconds spent in the simulation of this block.
    """

    out_counts: np.ndarray
    out_first: np.ndarray
    out_scores: np.ndarray
    spikes: dict = field(default_factory=dict)
    wall_time: float = 0.0


# ---------------------------------------------------------------------------
# Brian2 device handling
# ---------------------------------------------------------------------------
def _quiet_brian():
    """Keep Brian2 from writing debug logs and scripts into /tmp on errors."""
    from brian2 import prefs

    from ..logs import quiet_brian_console

    prefs.logging.file_log = False
    prefs.logging.save_script = False
    prefs.logging.std_redirection = False
    prefs.logging.console_log_level = "WARNING"
    quiet_brian_console()  # the pref above only acts at import: brian2cuda's INFO lines stay off by default
