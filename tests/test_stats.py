from gilbench.engine import stats


def test_summary_fields():
    s = stats.summarize([1.0, 2.0, 3.0, 10.0])
    assert s["median"] == 2.5 and s["min"] == 1.0 and s["max"] == 10.0 and s["n"] == 4
    assert s["mean"] == 4.0 and s["stdev"] > 0


def test_ratio_interval_brackets_the_ratio_and_excludes_one_when_separated():
    slow, fast = [2.0, 2.1, 1.9, 2.05, 1.95], [1.0, 1.05, 0.95, 1.02, 0.98]
    ratio = stats.ratio_of_medians(slow, fast)
    low, high = stats.ratio_ci95(slow, fast)
    assert low <= ratio <= high
    assert low > 1.0


def test_ratio_interval_includes_one_when_overlapping():
    a, b = [1.0, 1.2, 0.9, 1.1, 1.05], [1.1, 0.95, 1.15, 1.0, 1.02]
    low, high = stats.ratio_ci95(a, b)
    assert low < 1.0 < high


def test_wide_spread_rules():
    assert stats.is_wide(stats.summarize([1.0, 1.01, 0.99])) is None
    assert "stdev" in stats.is_wide(stats.summarize([1.0, 1.5, 0.6]))
    assert stats.is_wide(stats.summarize([1.0])) is None
