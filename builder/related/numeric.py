"""SciPy's sparse matrices, imported without the NumPy submodules nothing here uses.

SciPy (1.17 here) makes a copy of the NumPy namespace for the array API
(`scipy._lib.array_api_compat.numpy`): `from numpy import *`, then every name dir(numpy) lists.
NumPy imports its public submodules (f2py, testing, random, fft, ...) only when first used, and
that copy uses them all: 205 more modules and 0.15 s of CPU in every process that works out
related lists (NumPy 2.4.6, SciPy 1.17.1). They are left out
of NumPy's `__all__` and `dir()` while SciPy loads, and load as usual when anything uses them.
"""

from __future__ import annotations

import sys


def import_sparse() -> None:
    """Import scipy.sparse (once), leaving NumPy's lazily imported submodules unimported."""
    if "scipy.sparse" in sys.modules:
        return
    import numpy

    lazy = {name for name in getattr(numpy, "__numpy_submodules__", ()) if f"numpy.{name}" not in sys.modules}
    names, listing = numpy.__all__, numpy.__dict__.get("__dir__")
    try:
        numpy.__all__ = [name for name in names if name not in lazy]
        if callable(listing):
            numpy.__dir__ = lambda: [name for name in listing() if name not in lazy]  # type: ignore[method-assign]
        import scipy.sparse  # noqa: F401
    finally:
        numpy.__all__ = names
        if callable(listing):
            numpy.__dir__ = listing  # type: ignore[method-assign]
