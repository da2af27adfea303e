"""colanet-brian: CoLaNET spiking columns with local plasticity, in Brian2.

A hybrid ANN-SNN image classifier after Larionov et al. (arXiv 2606.20151):
frozen pretrained features are rate-coded into spike trains and classified by
an ensemble of CoLaNET networks that learn online, in one pass, with local
plasticity only. The model follows ``shared/spec/colanet.md`` (cited as
"spec §N" throughout the code).
"""

from ._version import __version__

__all__ = ["CoLaNETClassifier", "CoLaNETParams", "MODELS_DIR", "__version__"]


def __getattr__(name):
    # Lazy exports: importing the package (``colanet --version``) must not import Brian2.
    if name == "CoLaNETClassifier":
        from .classifier import CoLaNETClassifier

        return CoLaNETClassifier
    if name == "CoLaNETParams":
        from .model.params import CoLaNETParams

        return CoLaNETParams
    if name == "MODELS_DIR":  # parameter sets shipped with the source tree (``models/`` at the repository root)
        from .model.params import MODELS_DIR

        return MODELS_DIR
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
