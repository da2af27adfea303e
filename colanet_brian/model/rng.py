"""Counter-based random numbers that are identical on every Brian2 backend.

Brian2's ``rand()`` draws from a per-process generator whose state a compiled
standalone binary cannot take as a run argument, and whose streams differ
between numpy, Cython, C++ and CUDA.  CoLaNET needs noise that is
reproducible per seed, independent per copy and per neuron (spec §17.14), and
that can be re-keyed between runs of one compiled binary.  `colanet_uniform`
is a stateless hash (SplitMix64 finaliser) of ``(seed, stream, tact, salt)``:
the same arguments give the same number in numpy, Cython, C++ and CUDA code.
"""

import numpy as np
from brian2 import Function

__all__ = ["colanet_uniform", "uniform_numpy", "SALT_NOISE", "SALT_WTA", "SALT_INPUT"]

#: Salts separating the random streams of different uses.
SALT_NOISE = 1  # stochastic stimulation of L (spec §5.2 step 2)
SALT_WTA = 2  # random same-tact winner choice (spec §4.5)
SALT_INPUT = 3  # Bernoulli / Poisson input spikes (spec §3.3)

_GOLDEN = 0x9E3779B97F4A7C15
_MIX_TACT = 0xD1B54A32D192ED03
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB

_C_BODY = """
{
    unsigned long long z = ((unsigned long long)(unsigned int)seed << 32) ^ (unsigned long long)(unsigned int)salt;
    z += 0x9E3779B97F4A7C15ULL * ((unsigned long long)(unsigned int)stream + 1ULL);
    z ^= (unsigned long long)(unsigned int)tact * 0xD1B54A32D192ED03ULL;
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}
"""
_CPP = "static inline double colanet_uniform(const int seed, const int stream, const int tact, const int salt)" + _C_BODY
_CUDA = (
    "__host__ __device__ static inline double colanet_uniform(const int seed, const int stream, const int tact, "
    "const int salt)" + _C_BODY
)
_CYTHON = """
cdef double colanet_uniform(int seed, int stream, int tact, int salt):
    cdef unsigned long long z = ((<unsigned long long><unsigned int>seed) << 32) ^ (<unsigned long long><unsigned int>salt)
    z = z + 0x9E3779B97F4A7C15ULL * ((<unsigned long long><unsigned int>stream) + 1ULL)
    z = z ^ ((<unsigned long long><unsigned int>tact) * 0xD1B54A32D192ED03ULL)
    z = z + 0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    z = z ^ (z >> 31)
    return (z >> 11) * (1.0 / 9007199254740992.0)
"""


def _as_u64(x):
    # int32 -> uint32 -> uint64, the same casts as the C code
    return np.asarray(x).astype(np.int64).astype(np.uint32).astype(np.uint64)


def uniform_numpy(seed, stream, tact, salt):
    """Vectorised numpy version of `colanet_uniform`; returns floats in [0, 1)."""
    u64 = np.uint64
    with np.errstate(over="ignore"):
        z = (_as_u64(seed) << u64(32)) ^ _as_u64(salt)
        z = z + u64(_GOLDEN) * (_as_u64(stream) + u64(1))
        z = z ^ (_as_u64(tact) * u64(_MIX_TACT))
        z = z + u64(_GOLDEN)
        z = (z ^ (z >> u64(30))) * u64(_MUL1)
        z = (z ^ (z >> u64(27))) * u64(_MUL2)
        z = z ^ (z >> u64(31))
    return (z >> u64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


colanet_uniform = Function(
    uniform_numpy,
    arg_units=[1, 1, 1, 1],
    arg_types=["integer"] * 4,
    return_unit=1,
    return_type="float",
    stateless=True,
)
colanet_uniform.implementations.add_implementation("cpp", _CPP, name="colanet_uniform")
colanet_uniform.implementations.add_implementation("cython", _CYTHON, name="colanet_uniform")
try:  # brian2cuda registers the 'cuda' target only when it is importable
    colanet_uniform.implementations.add_implementation("cuda", _CUDA, name="colanet_uniform")
except Exception:  # pragma: no cover - depends on the optional brian2cuda install
    pass
