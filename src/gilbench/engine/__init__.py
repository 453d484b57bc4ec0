"""The measurement engine: trial isolation, repeats, metrics, statistics. It never prints."""
