"""What 2017 drivers use that today's libraries dropped, put back without importing them early.

- `from sklearn.externals import joblib` (scikit-learn removed it in 0.23): served by `joblib`.
- `DataFrame.as_matrix()` (pandas removed it in 1.0): the frame's values, added when pandas loads.
Both are looked up only when the driver asks for them, so a driver that uses neither library
imports neither."""

import importlib
import importlib.abc
import importlib.util
import sys


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a module under the old name a library dropped. It sits last on sys.meta_path, so it
    is asked only when the library itself has no such module."""

    def __init__(self, old, new):
        self._old = old
        self._new = new

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self._old or importlib.util.find_spec(self._new) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(self._new)
        self._spec = module.__spec__
        return module

    def exec_module(self, module):
        # The import system stamped the old name's spec on the module: give it back its own.
        module.__spec__ = self._spec


def _add_as_matrix(pandas):
    frame = getattr(pandas, "DataFrame", None)
    if frame is not None and not hasattr(frame, "as_matrix"):
        frame.as_matrix = lambda self, columns=None: (self[columns] if columns is not None else self).values


class _AfterPandasLoads(importlib.abc.MetaPathFinder):
    """Finds pandas as usual, and adds as_matrix() once its module has run; then steps aside."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "pandas":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("pandas")
        if spec is None or spec.loader is None:
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            _add_as_matrix(module)

        spec.loader.exec_module = exec_module
        return spec


_installed = False


def install():
    """Idempotent: the scoring server installs it before loading a driver, and importing
    `azureml` installs it too (so a 2017 driver runs the same on your own machine)."""
    global _installed
    if _installed:
        return
    _installed = True
    sys.meta_path.append(_Alias("sklearn.externals.joblib", "joblib"))
    if "pandas" in sys.modules:
        _add_as_matrix(sys.modules["pandas"])
    else:
        sys.meta_path.insert(0, _AfterPandasLoads())
