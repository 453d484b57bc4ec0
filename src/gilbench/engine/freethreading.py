"""Free-threaded builds (PEP 703): the two ways gilbench runs one, and noticing the GIL come back.

A free-threaded build (``Py_GIL_DISABLED``) starts with the GIL off, but turns it back on for the
whole process when it imports an extension module that has not declared it can run without it,
with a RuntimeWarning that names the module (CPython's ``_PyImport_EnableGILAndWarn``). gilbench
runs such a build as two interpreter entries, so the GIL's cost shows apart from the build's own
single-thread overhead:

- ``<version>t``: ``PYTHON_GIL`` empty, i.e. the build's default (CPython ignores an empty
  ``PYTHON*`` variable): the GIL off unless an extension turns it on, which the row's note says.
- ``<version>t+gil``: ``PYTHON_GIL=1``, the GIL forced on: the same binary as a GIL build.

Not ``PYTHON_GIL=0`` for the first: any explicit setting makes CPython skip both the re-enabling
and its warning (``_PyEval_EnableGILTransient`` returns early unless ``enable_gil`` is the
default), so the row would claim "no GIL" while running an undeclared extension unprotected, and
nothing could tell. Setting it empty (not unsetting it) also overrides a ``PYTHON_GIL`` in the
user's own environment.

Standard library only: the worker imports this inside every target interpreter.
"""

from __future__ import annotations

import re
import sys
import sysconfig
import warnings

# (suffix of the interpreter entry's name, environment it runs with), one per entry; see above.
VARIANTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("", {"PYTHON_GIL": ""}),
    ("+gil", {"PYTHON_GIL": "1"}),
)

# CPython 3.13/3.14 (Python/import.c): "The global interpreter lock (GIL) has been enabled to load
# module '%U', which has not declared that it can run safely without the GIL. To override ..."
_REENABLED = re.compile(
    r"global interpreter lock \(GIL\) has been enabled to load module '([^']+)'"
)


def reenabled_modules(text: str) -> list[str]:
    """The modules named by GIL-re-enabled warnings in ``text``, in order, without repeats."""
    return list(dict.fromkeys(_REENABLED.findall(text)))


def is_free_threaded_build() -> bool:
    """True on a free-threaded build (PEP 703: ``Py_GIL_DISABLED`` set in sysconfig)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Whether the GIL is on now (``sys._is_gil_enabled``, 3.13+); True before 3.13."""
    check = getattr(sys, "_is_gil_enabled", None)
    return check() if check else True


UNKNOWN_MODULE = "?"  # gil_reenabled_by's entry when the GIL came back without a warning naming it


class GilWatch:
    """Records, in a worker on a free-threaded build, which imports turned the GIL back on.

    Wraps ``warnings.showwarning`` (the warning is still shown) rather than catching warnings,
    which would swallow the user's own. On a GIL build it does nothing. Create it before the
    user's code is imported: what it sees starts there.
    """

    def __init__(self) -> None:
        self.active = is_free_threaded_build()
        # PYTHON_GIL / -X gil left at the build's default (sys.flags.gil is None; 3.13+)
        default = getattr(sys.flags, "gil", None) is None
        self.off_at_start = self.active and not gil_enabled()
        # on before anything of ours ran, though nothing asked for it: an import at interpreter
        # start-up (sitecustomize, a .pth file) turned it on, and its warning is already gone
        self.on_before_start = self.active and default and not self.off_at_start
        self.modules: list[str] = []
        if self.active:
            warnings.filterwarnings(
                "always",
                message=r"The global interpreter lock \(GIL\) has been enabled",
                category=RuntimeWarning,
            )
            shown = warnings.showwarning

            def showwarning(message, category, filename, lineno, file=None, line=None):
                self.modules += [
                    m for m in reenabled_modules(str(message)) if m not in self.modules
                ]
                shown(message, category, filename, lineno, file, line)

            warnings.showwarning = showwarning

    def reenabled_by(self) -> list[str] | None:
        """The modules whose import turned the GIL back on in this process, in import order
        (``[UNKNOWN_MODULE]`` when it came back without a warning naming one); None when the
        GIL was not meant to be off (a GIL build, ``PYTHON_GIL=1``) or stayed off."""
        if self.on_before_start:
            return [UNKNOWN_MODULE]
        if not self.off_at_start:
            return None
        if self.modules:
            return list(self.modules)
        return [UNKNOWN_MODULE] if gil_enabled() else None

    def note(self) -> str | None:
        """What to say on the row, or None when the GIL stayed as it started."""
        modules = self.reenabled_by()
        if modules is None:
            return None
        if self.on_before_start:
            return (
                "GIL re-enabled before gilbench's worker started (an import at interpreter "
                "start-up: sitecustomize or a .pth file): this ran with the GIL"
            )
        if modules == [UNKNOWN_MODULE]:
            return "GIL re-enabled during the run: this ran with the GIL"
        return (
            f"GIL re-enabled by importing {', '.join(modules)} (not declared "
            "free-threading-safe): this ran with the GIL"
        )


def join_notes(*notes: str | None) -> str | None:
    """The non-empty notes joined with "; ", or None when there are none."""
    text = "; ".join(n for n in notes if n)
    return text or None
