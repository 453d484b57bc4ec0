"""From rows to advice: classification, scaling and recommendation. Pure functions."""

from __future__ import annotations

from gilbench.analysis.recommend import recommend_all
from gilbench.analysis.scaling import scaling_all
from gilbench.engine.results import Document


def analyse(doc: Document) -> None:
    """Set ``doc``'s recommendations (``recommend.recommend_all``) and scaling
    (``scaling.scaling_all``) from its rows so far, on ``doc.environment["usable_cores"]``.
    The analysis step a ``Session`` is given by its callers (``gilbench run``, ``bench``)."""
    cores = doc.environment["usable_cores"]
    doc.recommendations = list(recommend_all(doc.results, cores=cores))
    doc.scaling = list(scaling_all(doc.results, cores=cores))
