"""From rows to advice: classification, scaling and recommendation. Pure functions."""
