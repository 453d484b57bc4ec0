"""From rows to advice: classification, scaling, recommendation, and the verdict across
interpreters. Pure functions."""

from __future__ import annotations

from gilbench.analysis.interpreters import cross_interpreter
from gilbench.analysis.recommend import recommend_all
from gilbench.analysis.scaling import scaling_all
from gilbench.engine.results import Document


def analyse(doc: Document) -> None:
    """Set ``doc``'s recommendations (``recommend.recommend_all``, each classified knowing its
    interpreter) and scaling (``scaling.scaling_all``) from its rows so far, on
    ``doc.environment["usable_cores"]``; with two interpreters or more, also the JSON's
    ``cross_interpreter`` list (``interpreters.cross_interpreter`` on the same usable cores,
    as dicts in ``doc.extra``; the key is absent otherwise). The analysis step a ``Session``
    is given by its callers (``gilbench run``, ``bench``)."""
    cores = doc.environment["usable_cores"]
    doc.recommendations = list(
        recommend_all(doc.results, cores=cores, interpreters=doc.interpreters)
    )
    doc.scaling = list(scaling_all(doc.results, cores=cores))
    if len(doc.interpreters) >= 2:
        entries = cross_interpreter(doc.results, doc.interpreters, cores=cores)
        doc.extra["cross_interpreter"] = [e.to_dict() for e in entries]
    else:
        doc.extra.pop("cross_interpreter", None)
