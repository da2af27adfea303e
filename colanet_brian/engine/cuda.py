"""Brian2CUDA build configuration that works with or without a GPU on the build machine.

brian2cuda 1.0a7 out of the box wants ``nvidia-smi`` (GPU detection), a CUDA
toolkit with cuRAND, and compiles with ``-std=c++11``, which CUDA 13's
Thrust/CUB/libcu++ reject.  `configure_cuda` sets every preference this
needs, so that ``set_device("cuda_standalone")`` projects generate and
compile on a CPU-only machine (for an H100 by default) and on a GPU machine
alike:

* explicit GPU id and compute capability (``detect_gpus = False``): the
  argument, else ``$COLANET_CUDA_CC`` / ``$COLANET_CUDA_GPU``, else the
  first GPU that ``nvidia-smi`` reports, else 9.0 (H100) and GPU 0;
* explicit CUDA runtime version, read from ``nvcc --version``;
* cuRAND headers and library from the toolkit or, where the toolkit lacks
  them, from the ``nvidia-curand`` wheel (``site-packages/nvidia/cu*/``),
  with a ``libcurand.so`` symlink in a project-owned directory (the wheel
  ships only ``libcurand.so.10`` and the makefile links ``-lcurand``);
* ``-std=c++17`` for nvcc and for the host compiler;
* ``make -j<cores>`` instead of an unbounded ``make -j`` (one nvcc process
  takes about 0.5 GB; ninety at once exhaust a small machine);
* no ``-march=native`` in host code unless a GPU is present here: a
  binary built on one machine must run on the GPU machine's CPU;
* no loop-invariant optimisations: brian2cuda 1.0a7's reset/event
  templates then declare shared constants twice (a compile error).

See ``shared/notes/environment.md`` §3 for the failures each step fixes.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

try:  # importing brian2cuda registers the "cuda_standalone" device with Brian2
    import brian2cuda  # noqa: F401
except ImportError:  # reported by configure_cuda
    pass

__all__ = ["CudaConfig", "CudaUnavailableError", "configure_cuda", "cuda_signature", "restore_host_prefs",
           "detect_gpus", "gpu_available", "DEFAULT_COMPUTE_CAPABILITY"]

#: Compute capability compiled for when none is given and no GPU is visible (H100).
DEFAULT_COMPUTE_CAPABILITY = 9.0
_NVCC_FLAGS = ("-w", "-use_fast_math", "-std=c++17")
#: Shared preferences as they were before the first `configure_cuda` (see `restore_host_prefs`).
_HOST_PREFS = ("codegen.cpp.extra_compile_args_gcc", "codegen.cpp.include_dirs", "codegen.cpp.library_dirs",
               "codegen.cpp.runtime_library_dirs", "codegen.loop_invariant_optimisations",
               "devices.cpp_standalone.extra_make_args_unix")
_saved_host_prefs: dict | None = None


class CudaUnavailableError(RuntimeError):
    """brian2cuda, nvcc or cuRAND is missing: CUDA projects cannot be built here."""


@dataclass(frozen=True)
class CudaConfig:
    """What `configure_cuda` set.

    Attributes
    ----------
    compute_capability : float
        Architecture compiled for (``-arch=sm_XY``).
    gpu_id : int
        GPU the binary selects with ``cudaSetDevice``.
    gpu_name : str or None
        Name reported by ``nvidia-smi`` (``None``: no GPU visible here).
    runtime_version : float
        CUDA runtime version of the toolkit (``nvcc --version``).
    nvcc : str
        The nvcc used.
    curand_include, curand_lib : str
        Directories of ``curand.h`` and ``libcurand.so*``.
    link_dir : str or None
        Project-owned directory holding the ``libcurand.so`` symlink.
    """

    compute_capability: float
    gpu_id: int
    gpu_name: str | None
    runtime_version: float
    nvcc: str
    curand_include: str
    curand_lib: str
    link_dir: str | None

    def to_dict(self) -> dict:
        """JSON-ready copy."""
        return asdict(self)


# ---------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------
def detect_gpus(timeout: float = 20.0) -> list[tuple[str, float | None]]:
    """``[(name, compute_capability), ...]`` of the visible GPUs; empty without a working ``nvidia-smi``."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "--query-gpu=name,compute_cap", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:  # old drivers lack compute_cap: fall back to the names only
            out = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    gpus = []
    for line in out.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if not parts[0] or parts[0].startswith("No devices"):
            continue
        try:
            cc = float(parts[1]) if len(parts) > 1 else None
        except ValueError:
            cc = None
        gpus.append((parts[0], cc))
    return gpus


def gpu_available() -> bool:
    """Whether ``nvidia-smi`` reports at least one GPU (i.e. a CUDA binary can run here)."""
    return bool(detect_gpus())


def _require_brian2cuda():
    try:
        import brian2cuda  # noqa: F401
    except ImportError as err:
        raise CudaUnavailableError(
            f"the cuda backend needs brian2cuda ({err}); install it with "
            "`pip install 'colanet-brian[cuda]'` (brian2cuda==1.0a7, nvidia-curand)"
        ) from None


def _find_nvcc() -> str:
    """nvcc from ``$CUDA_PATH``, else ``PATH``, else ``/usr/local/cuda``."""
    candidates = []
    if os.environ.get("CUDA_PATH"):
        candidates.append(Path(os.environ["CUDA_PATH"]) / "bin" / "nvcc")
    on_path = shutil.which("nvcc")
    if on_path:
        candidates.append(Path(on_path))
    candidates.append(Path("/usr/local/cuda/bin/nvcc"))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise CudaUnavailableError(
        "the cuda backend needs the CUDA compiler nvcc, which is neither in $CUDA_PATH/bin, on PATH nor in "
        "/usr/local/cuda/bin; install a CUDA toolkit (>= 11.2) or set CUDA_PATH"
    )


def _nvcc_release(nvcc: str) -> float:
    """CUDA release of ``nvcc`` as a float (``13.0``)."""
    try:
        out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CudaUnavailableError(f"`{nvcc} --version` failed: {err}") from None
    match = re.search(r"release (\d+\.\d+)", out)
    if not match:
        raise CudaUnavailableError(f"cannot read the CUDA release from `{nvcc} --version`:\n{out}")
    return float(match.group(1))


def _toolkit_dir(nvcc: str) -> Path:
    """Toolkit root: ``$CUDA_PATH``, or the directory above nvcc's ``bin``, following a wrapper script."""
    if os.environ.get("CUDA_PATH"):
        return Path(os.environ["CUDA_PATH"])
    path = Path(nvcc).resolve()
    try:  # e.g. /usr/local/bin/nvcc: `exec /usr/local/cuda-13.0/bin/nvcc "$@"`
        head = path.read_bytes()[:4096]
        if head.startswith(b"#!"):
            match = re.search(rb"exec\s+['\"]?(/\S+?/bin/nvcc)\b", head)
            if match:
                path = Path(match.group(1).decode())
    except OSError:
        pass
    return path.parent.parent


def _find_curand(nvcc: str) -> tuple[str, str, str | None]:
    """``(include_dir, lib_dir, library_file)`` of cuRAND; ``library_file`` when no ``libcurand.so`` exists."""
    root = _toolkit_dir(nvcc)
    for sub in ("lib64", "lib", "targets/x86_64-linux/lib"):
        if (root / "include" / "curand.h").is_file() and (root / sub / "libcurand.so").exists():
            return str(root / "include"), str(root / sub), None
    try:
        import nvidia
    except ImportError:
        nvidia = None
    for base in list(getattr(nvidia, "__path__", [])):
        for header in sorted(glob.glob(os.path.join(base, "*", "include", "curand.h"))):
            pkg = os.path.dirname(os.path.dirname(header))
            libs = sorted(glob.glob(os.path.join(pkg, "lib", "libcurand.so*")))
            if libs:
                plain = [lib for lib in libs if lib.endswith("libcurand.so")]
                return os.path.dirname(header), os.path.join(pkg, "lib"), None if plain else libs[-1]
    raise CudaUnavailableError(
        f"cuRAND (curand.h, libcurand.so) is neither in the CUDA toolkit at {root} nor in an installed "
        "nvidia wheel; install it with `pip install nvidia-curand`"
    )


def _link_curand(library: str, link_dir: Path) -> None:
    """Create (or repoint) ``link_dir/libcurand.so`` -> ``library``, atomically."""
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / "libcurand.so"
    if link.is_symlink() and os.readlink(link) == library:
        return
    tmp = link_dir / f".libcurand.so.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(library, tmp)
    os.replace(tmp, link)


def _choose_gpu(compute_capability, gpu_id) -> tuple[float, int, str | None]:
    """Compute capability and GPU id: argument, else environment, else nvidia-smi, else defaults."""
    if gpu_id is None and os.environ.get("COLANET_CUDA_GPU"):
        gpu_id = int(os.environ["COLANET_CUDA_GPU"])
    if compute_capability is None and os.environ.get("COLANET_CUDA_CC"):
        compute_capability = float(os.environ["COLANET_CUDA_CC"])
    gpus = detect_gpus()
    gpu_id = int(gpu_id or 0)
    name = gpus[gpu_id][0] if gpu_id < len(gpus) else None
    if compute_capability is None and gpu_id < len(gpus) and gpus[gpu_id][1] is not None:
        compute_capability = gpus[gpu_id][1]
    compute_capability = float(DEFAULT_COMPUTE_CAPABILITY if compute_capability is None else compute_capability)
    if compute_capability < 5.0:
        raise ValueError(f"brian2cuda needs compute capability >= 5.0, got {compute_capability}")
    return compute_capability, gpu_id, name


def _host_flags(flags, keep_native: bool) -> list[str]:
    """Host compiler flags with ``-std=c++17`` (and without ``-march=native`` for a cross build)."""
    out = [re.sub(r"^-std=(c|gnu)\+\+\d+$", "-std=c++17", f) for f in flags]
    if not keep_native:
        out = [f for f in out if f != "-march=native"]
    if not any(f.startswith("-std=") for f in out):
        out.append("-std=c++17")
    return out


def _add_unique(pref_list, items):
    return list(pref_list) + [item for item in items if item not in pref_list]


def cuda_signature(compute_capability: float | None = None, gpu_id: int | None = None) -> dict:
    """What a CUDA build depends on beyond the network: target architecture and toolkit release.

    Meant for the build-cache key, so that a binary compiled for one GPU
    generation (or CUDA release) is not reused for another.  Sets nothing.
    """
    nvcc = _find_nvcc()
    cc, _, _ = _choose_gpu(compute_capability, gpu_id)
    return dict(compute_capability=cc, cuda=_nvcc_release(nvcc))


# ---------------------------------------------------------------------------
def configure_cuda(build_dir=None, compute_capability: float | None = None, gpu_id: int | None = None) -> CudaConfig:
    """Set the brian2cuda preferences for building a ``cuda_standalone`` project here.

    Call it after ``set_device("cuda_standalone", ...)`` and before
    ``device.build``.  It can be called repeatedly: every preference list is
    rebuilt, never appended to twice.

    Parameters
    ----------
    build_dir : path, optional
        Project directory; the ``libcurand.so`` symlink goes into the sibling
        directory ``<build_dir>/../cuda_libs`` (default: ``$COLANET_CACHE``'s
        ``cuda_libs``), which this project owns.
    compute_capability : float, optional
        Architecture to compile for (e.g. ``9.0`` for H100, ``8.0`` for A100).
        Default: ``$COLANET_CUDA_CC``, else the GPU that ``nvidia-smi``
        reports, else `DEFAULT_COMPUTE_CAPABILITY`.
    gpu_id : int, optional
        GPU the binary uses (default ``$COLANET_CUDA_GPU`` or 0; respects
        ``CUDA_VISIBLE_DEVICES`` at run time).

    Returns
    -------
    CudaConfig
        The values chosen.

    Raises
    ------
    CudaUnavailableError
        If brian2cuda, nvcc or cuRAND cannot be found.
    """
    _require_brian2cuda()
    from brian2 import prefs

    nvcc = _find_nvcc()
    runtime_version = _nvcc_release(nvcc)
    cc, gpu_id, gpu_name = _choose_gpu(compute_capability, gpu_id)
    include_dir, lib_dir, library = _find_curand(nvcc)
    link_dir = None
    if library is not None:
        if build_dir is not None:
            link_dir = Path(build_dir).resolve().parent / "cuda_libs"
        else:
            from .cache import default_cache_dir

            link_dir = default_cache_dir() / "cuda_libs"
        _link_curand(library, link_dir)

    global _saved_host_prefs
    if _saved_host_prefs is None:
        _saved_host_prefs = {name: _copy(prefs[name]) for name in _HOST_PREFS}
    backend = prefs.devices.cuda_standalone.cuda_backend
    backend.detect_gpus = False
    backend.gpu_id = gpu_id
    backend.compute_capability = cc
    backend.cuda_runtime_version = runtime_version
    backend.cuda_path = str(Path(nvcc).parent.parent)
    backend.extra_compile_args_nvcc = list(_NVCC_FLAGS)  # a fresh list: brian2cuda edits it in place
    # brian2cuda 1.0a7's event/reset templates declare the shared constants read by loop-invariant
    # ("scalar") code a second time in the vector code: `"isi_max" has already been declared`
    prefs.codegen.loop_invariant_optimisations = False
    # Brian2's default `make -j` starts ~90 nvcc processes at once (~0.5 GB each): bound it
    prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{max(1, os.cpu_count() or 1)}"]
    prefs.codegen.cpp.extra_compile_args_gcc = _host_flags(prefs.codegen.cpp.extra_compile_args_gcc,
                                                           keep_native=gpu_name is not None)
    prefs.codegen.cpp.include_dirs = _add_unique(prefs.codegen.cpp.include_dirs, [include_dir])
    libs = [str(link_dir)] if link_dir else []
    prefs.codegen.cpp.library_dirs = _add_unique(prefs.codegen.cpp.library_dirs, libs + [lib_dir])
    prefs.codegen.cpp.runtime_library_dirs = _add_unique(prefs.codegen.cpp.runtime_library_dirs, [lib_dir])
    _reset_brian2cuda_detection()
    return CudaConfig(cc, gpu_id, gpu_name, runtime_version, nvcc, include_dir, lib_dir,
                      None if link_dir is None else str(link_dir))


def restore_host_prefs() -> None:
    """Undo `configure_cuda`'s changes to preferences that other backends share.

    ``prefs.codegen.cpp.*``, ``prefs.codegen.loop_invariant_optimisations``
    and the make arguments also drive ``cpp_standalone`` and the Cython
    runtime: call this after a CUDA build so that a later C++ build in the
    same process gets ``-std=c++11 -march=native``, loop-invariant
    optimisations and no cuRAND paths again.
    """
    global _saved_host_prefs
    if _saved_host_prefs is None:
        return
    from brian2 import prefs

    for name, value in _saved_host_prefs.items():
        prefs[name] = _copy(value)
    _saved_host_prefs = None


def _copy(value):
    return list(value) if isinstance(value, list) else value


def _reset_brian2cuda_detection():
    """Forget brian2cuda's cached toolkit/GPU detection so that the new preferences apply."""
    try:
        from brian2cuda.utils import gputools
    except ImportError:  # pragma: no cover - checked by _require_brian2cuda
        return
    gputools.reset_cuda_installation()
    gputools.reset_gpu_selection()
