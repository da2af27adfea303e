"""Genes of the hyperparameter search (spec §10).

Every parameter with a spec §10 range (``ga`` in the field metadata of
`CoLaNETParams`) can be a gene; `gene_table` selects a subset and checks
user-given ranges.  pygad evolves *normalised* genes ``u`` in ``[0, 1]``;
`Gene.value` maps them to parameter values, uniformly over the integers
for integer parameters and in log space for parameters spanning decades.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ..model.params import CoLaNETParams, ParameterError

#: Genes with a spec §10 range that `default_genes` leaves out, and why.
NOT_BY_DEFAULT = {
    "a1": "switches on one-factor plasticity, whose meaning is not documented (spec §7.4, §17.11)",
    "gate_weight": "only used with force_mode='input' (spec §17.7)",
}


@dataclass(frozen=True)
class Gene:
    """One searched parameter and its range.

    pygad evolves a normalised value ``u`` in ``[0, 1]``; `value` maps it onto
    ``[low, high]``.

    Parameters
    ----------
    name : str
        Field of `CoLaNETParams`.
    low, high : float
        Range of the parameter (inclusive).
    integer : bool
        Integer parameter: every integer in the range gets an equal share of ``[0, 1]``.
    log : bool
        Map ``u`` in log space (needs ``0 < low``).
    """

    name: str
    low: float
    high: float
    integer: bool = False
    log: bool = False

    def value(self, u: float) -> float | int:
        """Parameter value of the normalised gene ``u`` (clipped to ``[0, 1]``).

        Floats are rounded to 6 significant digits, like the evolved values of
        spec §16, so that parameter files stay readable.
        """
        u = min(max(float(u), 0.0), 1.0)
        if self.integer:
            n = int(self.high) - int(self.low) + 1
            if self.log:
                x = math.exp(math.log(self.low - 0.5) + u * (math.log(self.high + 0.5) - math.log(self.low - 0.5)))
                return int(min(max(round(x), self.low), self.high))
            return int(self.low) + min(int(u * n), n - 1)
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return min(max(float(f"{x:.6g}"), self.low), self.high)

    def encode(self, value: float) -> float:
        """Normalised gene of a parameter value (the inverse of `value`, clipped to ``[0, 1]``)."""
        v = float(value)
        if self.integer and not self.log:
            u = (v - self.low + 0.5) / (self.high - self.low + 1)
        elif self.integer:
            lo, hi = math.log(self.low - 0.5), math.log(self.high + 0.5)
            u = (math.log(min(max(v, self.low), self.high)) - lo) / (hi - lo)
        elif self.log:
            u = (math.log(min(max(v, self.low), self.high)) - math.log(self.low)) / (
                math.log(self.high) - math.log(self.low))
        else:
            u = (v - self.low) / (self.high - self.low)
        return min(max(u, 0.0), 1.0)

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return dataclasses.asdict(self)

    def describe(self) -> str:
        """``name low..high`` with the integer / log flags."""
        flags = ", ".join(f for f, on in (("integer", self.integer), ("log", self.log)) if on)
        return f"{self.name} {self.low:g}..{self.high:g}" + (f" ({flags})" if flags else "")


def _fields() -> dict:
    return {f.name: f for f in dataclasses.fields(CoLaNETParams)}


def available_genes() -> dict[str, Gene]:
    """Every parameter with a spec §10 GA range, as a `Gene` with that range."""
    out = {}
    for name, f in _fields().items():
        ga = f.metadata.get("ga")
        if ga is not None:
            out[name] = Gene(name, float(ga[0]), float(ga[1]), bool(f.metadata.get("integer")),
                             bool(f.metadata.get("log")))
    return out


def default_genes(base: CoLaNETParams | None = None) -> list[str]:
    """Genes searched when none are named: every spec §10 gene except `NOT_BY_DEFAULT`.

    ``gate_weight`` is included when ``base.force_mode == "input"`` (the only
    mode that uses it).
    """
    base = base or CoLaNETParams()
    names = []
    for name in available_genes():
        if name == "gate_weight" and base.force_mode == "input":
            names.append(name)
        elif name not in NOT_BY_DEFAULT:
            names.append(name)
    return names


def parse_range(text: str) -> tuple[str, float, float]:
    """Parse ``NAME=LOW:HIGH`` (the ``--range`` syntax).

    Raises
    ------
    ParameterError
        If the text is not of that form or the bounds are not numbers.
    """
    if "=" not in text or ":" not in text.split("=", 1)[1]:
        raise ParameterError(f"a gene range must look like NAME=LOW:HIGH (e.g. reward=0.05:0.8), got {text!r}")
    name, bounds = text.split("=", 1)
    low, high = bounds.split(":", 1)
    try:
        return name.strip(), float(low), float(high)
    except ValueError:
        raise ParameterError(f"gene range {text!r}: LOW and HIGH must be numbers") from None


def _numeric_field(name: str, f) -> bool:
    default = f.default
    return isinstance(default, (int, float)) and not isinstance(default, bool)


def _check_gene(gene: Gene, base: CoLaNETParams) -> None:
    """Raise `ParameterError` unless ``gene`` is a usable range for ``base``."""
    name, low, high = gene.name, gene.low, gene.high
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ParameterError(f"gene {name}: the range {low}..{high} must be finite")
    if not low < high:
        raise ParameterError(f"gene {name}: the range needs low < high, got {low:g}..{high:g}")
    if gene.integer and (low != int(low) or high != int(high)):
        raise ParameterError(f"gene {name} is an integer parameter: give integer bounds, got {low:g}..{high:g}")
    if gene.log and not low > (0.5 if gene.integer else 0.0):
        raise ParameterError(f"gene {name} is searched in log space: its range must be positive, got {low:g}..{high:g}")
    for end in (low, high):
        value = int(end) if gene.integer else end
        try:
            dataclasses.replace(base, **{name: value}).validate()
        except ParameterError as err:
            raise ParameterError(f"gene {name}: the range {low:g}..{high:g} reaches an invalid value: {err}") from None


def gene_table(names=None, ranges=None, base: CoLaNETParams | None = None) -> list[Gene]:
    """Validated genes for a search.

    Parameters
    ----------
    names : sequence of str, optional
        Parameters to search (default: `default_genes`).  A parameter without a
        spec §10 range needs an explicit range in ``ranges``.
    ranges : dict or sequence, optional
        ``{name: (low, high)}`` or ``[(name, low, high), ...]`` overriding the
        spec ranges; every name must be among ``names``.
    base : CoLaNETParams, optional
        Parameters the genes modify; both ends of every range must pass its
        `CoLaNETParams.validate`.

    Returns
    -------
    list of Gene

    Raises
    ------
    ParameterError
        For an unknown or duplicated gene, a non-numeric parameter, a range
        with ``low >= high``, non-integer bounds of an integer parameter, a
        non-positive log range, or a bound that the parameters reject.
    """
    base = (base or CoLaNETParams()).validate()
    fields = _fields()
    spec = available_genes()
    names = list(default_genes(base) if names is None else names)
    if not names:
        raise ParameterError("no genes to search")
    if isinstance(ranges, dict):
        ranges = [(k, *v) for k, v in ranges.items()]
    overrides = {}
    for name, low, high in ranges or ():
        if name in overrides:
            raise ParameterError(f"two ranges for gene {name}")
        overrides[name] = (float(low), float(high))
    seen = set()
    genes = []
    for name in names:
        if name not in fields:
            raise ParameterError(f"unknown gene {name!r}; parameters with a spec §10 range: {', '.join(spec)}")
        if name in seen:
            raise ParameterError(f"gene {name} is listed twice")
        seen.add(name)
        if not _numeric_field(name, fields[name]):
            raise ParameterError(f"parameter {name} is not numeric and cannot be a gene")
        meta = fields[name].metadata
        if name in overrides:
            low, high = overrides[name]
        elif name in spec:
            low, high = spec[name].low, spec[name].high
        else:
            raise ParameterError(f"parameter {name} has no GA range in spec §10: give one with --range {name}=LOW:HIGH")
        gene = Gene(name, low, high, bool(meta.get("integer")), bool(meta.get("log")))
        _check_gene(gene, base)
        genes.append(gene)
    stray = set(overrides) - seen
    if stray:
        raise ParameterError(f"range given for {sorted(stray)}, which are not among the searched genes {names}")
    return genes
