"""Recommendation and classification, from rows built by hand (no processes, no timing)."""

from gilbench.analysis.recommend import classify, recommend
from gilbench.engine import limits, stats
from gilbench.engine.results import Row
from gilbench.engine.rows import row_warnings

SEQ = [1.00, 1.01, 0.99, 1.02, 0.98]


def row(
    strategy,
    workers,
    samples,
    base=SEQ,
    tasks=4,
    cpu_util=1.0,
    contention=None,
    hold=None,
    run_queue=None,
):
    """A measured row, its derived numbers computed the way the session does."""
    r = Row(
        "w",
        strategy,
        workers,
        tasks,
        "3.11",
        samples_s=list(samples),
        wall_s=stats.summarize(samples),
        cpu_util=cpu_util,
        gil_contention=contention,
        gil_hold_ms=hold,
        run_queue_s=run_queue,
    )
    r.cpu_s = cpu_util * r.wall_s["median"]
    r.speedup = stats.ratio_of_medians(base, samples)
    r.speedup_ci95 = list(stats.ratio_ci95(base, samples))
    r.efficiency = r.speedup / workers
    return r


def scaled(samples, factor):
    return [s * factor for s in samples]


def test_a_significant_lead_of_10_percent_wins():
    rows = [
        row("sequential", 1, SEQ),
        row("threads", 2, scaled(SEQ, 1.02), contention=0.8),
        row("processes", 2, scaled(SEQ, 0.52)),
    ]
    rec = recommend(rows, cores=2)
    assert (rec.strategy, rec.workers) == ("processes", 2)
    assert rec.speedup > 1.9


def test_a_lead_under_10_percent_loses_to_the_simpler_strategy():
    rows = [
        row("sequential", 1, SEQ),
        row("threads", 4, scaled(SEQ, 0.26)),
        row("asyncio", 4, scaled(SEQ, 0.25)),
    ]
    rec = recommend(rows)
    assert rec.strategy == "threads"  # asyncio is 4% faster: not worth the difference


def test_an_insignificant_lead_loses_to_the_simpler_strategy():
    # A 25% lead on medians, but the samples spread so wide the interval includes "no faster".
    noisy = [0.45, 0.80, 0.60, 1.05, 1.10]
    rows = [row("sequential", 1, SEQ), row("processes", 2, noisy)]
    assert rows[1].speedup >= 1.1 and rows[1].speedup_ci95[0] <= 1.0
    assert recommend(rows).strategy == "sequential"


def test_fewer_workers_win_when_more_do_not_help():
    rows = [
        row("sequential", 1, SEQ),
        row("processes", 2, scaled(SEQ, 0.51)),
        row("processes", 4, scaled(SEQ, 0.50)),
    ]
    rec = recommend(rows, cores=2)
    assert (rec.strategy, rec.workers) == ("processes", 2)


def test_dispatch_dominated_tasks_stay_sequential():
    tiny = [0.00010, 0.00011, 0.00010, 0.00012, 0.00010]  # 100 tasks of ~1 µs
    rows = [
        row("sequential", 1, tiny, base=tiny, tasks=100),
        row("threads", 4, scaled(tiny, 6), base=tiny, tasks=100),
        row("processes", 4, scaled(tiny, 40), base=tiny, tasks=100),
    ]
    rec = recommend(rows)
    assert rec.strategy == "sequential" and rec.speedup == 1.0
    assert "1 µs" in rec.why and "processes x4 0.03x" in rec.why


def test_why_is_one_sentence_with_the_numbers_and_is_deterministic():
    rows = [
        row("sequential", 1, SEQ, contention=0.83),
        row("threads", 2, scaled(SEQ, 1.05), contention=0.48),
        row("processes", 2, scaled(SEQ, 0.52)),
    ]
    rec = recommend(rows, cores=2)
    assert rec.why.startswith("processes x2 1.92x (95% CI ")
    assert "on 2 cores" in rec.why and "threads 0.95x (GIL contention 0.48)" in rec.why
    assert "\n" not in rec.why and rec.why.count(". ") == 0
    assert recommend(rows, cores=2) == rec


def _cpu_rows(
    seq_util=1.0, contention=None, hold=None, threads_speedup=None, threads_util=1.0, run_queue=None
):
    rows = [
        row(
            "sequential",
            1,
            SEQ,
            cpu_util=seq_util,
            contention=contention,
            hold=hold,
            run_queue=run_queue,
        )
    ]
    if threads_speedup:
        rows.append(row("threads", 2, scaled(SEQ, 1 / threads_speedup), cpu_util=threads_util))
    return rows


def test_classification_follows_the_measurements():
    assert classify(_cpu_rows(seq_util=0.03, contention=0.001)) == "io"
    assert classify(_cpu_rows(seq_util=0.55)) == "mixed"
    # Python bytecode: busy core, GIL busy, handed over every ~5 ms switch interval.
    assert classify(_cpu_rows(contention=0.83, hold=4.8, threads_speedup=0.97)) == "cpu-python"
    # C code releasing the GIL: the GIL sits free while a core is busy (no second core needed)...
    assert classify(_cpu_rows(contention=0.004, hold=0.0)) == "cpu-native-releases-gil"
    # ...or, when only part of the work releases it, threads run in parallel.
    assert (
        classify(_cpu_rows(contention=0.45, hold=1.0, threads_speedup=1.6, threads_util=1.6))
        == "cpu-native-releases-gil"
    )
    assert classify(_cpu_rows(contention=0.45, hold=1.0, threads_speedup=1.05)) == "cpu-python"
    # A threads "speedup" over a sequential run starved by other load does not outvote the GIL.
    assert classify(_cpu_rows(contention=0.83, hold=4.8, threads_speedup=1.5)) == "cpu-python"
    # C code holding the GIL: the knock waits a whole call (here 130 ms), not a switch interval.
    assert (
        classify(_cpu_rows(contention=0.992, hold=130.0, threads_speedup=1.0))
        == "cpu-native-holds-gil"
    )
    # Without a contention measurement, only threads can tell.
    assert classify(_cpu_rows(threads_speedup=1.0)) == "cpu-python"


def test_a_loaded_machine_does_not_turn_cpu_work_into_waiting():
    # Half the pass spent waiting for a core that another process had: CPU/wall 0.5, yet busy.
    assert classify(_cpu_rows(seq_util=0.5, contention=0.83, hold=4.8)) == "mixed"
    assert (
        classify(_cpu_rows(seq_util=0.5, contention=0.83, hold=4.8, run_queue=0.5)) == "cpu-python"
    )


def test_no_sequential_row_no_verdict():
    assert recommend([row("threads", 2, SEQ)]) is None
    assert classify([row("threads", 2, SEQ)]) is None


def test_free_threaded_cpu_work_is_its_own_type_whatever_threads_did():
    ft = {"label": "3.13.1t", "free_threaded_build": True, "gil_enabled": False}
    ft_with_gil = {**ft, "label": "3.13.1t+gil", "gil_enabled": True}
    # No GIL, so no contention figure; threads ran 1.9x: on a GIL build, C code releasing it.
    rows = _cpu_rows(threads_speedup=1.9, threads_util=1.9)
    assert classify(rows) == "cpu-native-releases-gil"
    assert classify(rows, ft) == "cpu-free-threaded"
    assert classify(rows, ft_with_gil) == "cpu-native-releases-gil"  # judged like any GIL build
    assert classify(_cpu_rows(threads_speedup=1.0), ft) == "cpu-free-threaded"
    assert classify(_cpu_rows(seq_util=0.55), ft) == "mixed"
    assert recommend(rows, interpreter=ft).classification == "cpu-free-threaded"


# -- physically impossible rows (issue 13) ----------------------------------------------------


def test_a_speedup_above_the_workers_is_flagged_and_not_recommended():
    # The RANSAC: threads 3.3x with 2 workers on 2 cores, asyncio likewise.
    rows = [
        row("sequential", 1, SEQ),
        row("threads", 2, scaled(SEQ, 0.30)),
        row("asyncio", 2, scaled(SEQ, 0.30)),
    ]
    (flag,) = limits.flags(rows[1], rows[0], cores=2)
    assert flag.code == "impossible-speedup" and "physical limit of 2x" in flag.reason
    rec = recommend(rows, cores=2)
    assert rec.strategy == "sequential"
    assert not rec.decided and rec.why.startswith("inconclusive after 5 samples")
    assert "threads x2 vs sequential 3.33x" in rec.why and "past a physical limit" in rec.why
    assert "threads x2 3.33x left out: above the physical limit of 2x" in rec.why
    assert "nothing beats sequential" not in rec.why


def test_a_speedup_at_the_cores_is_not_flagged():
    rows = [row("sequential", 1, SEQ), row("processes", 2, scaled(SEQ, 0.526))]
    assert 1.85 < rows[1].speedup < 1.95
    assert limits.flags(rows[1], rows[0], cores=2) == []
    assert recommend(rows, cores=2).strategy == "processes"


def test_the_cores_limit_holds_for_cpu_work_only():
    # 8 processes on 2 cores: 7x is impossible for CPU-bound work, fine for tasks that wait.
    busy = [row("sequential", 1, SEQ), row("processes", 8, scaled(SEQ, 1 / 7))]
    (flag,) = limits.flags(busy[1], busy[0], cores=2)
    assert flag.code == "impossible-speedup" and "2x on 2 usable cores" in flag.reason
    waiting = [row("sequential", 1, SEQ, cpu_util=0.02), row("processes", 8, scaled(SEQ, 1 / 7))]
    assert limits.flags(waiting[1], waiting[0], cores=2) == []
    assert recommend(waiting, cores=2).strategy == "processes"


def test_an_interval_wider_than_its_speedup_is_flagged():
    noisy = [0.30, 0.55, 0.70, 1.10, 1.60]
    rows = [row("sequential", 1, SEQ), row("processes", 2, noisy)]
    low, high = rows[1].speedup_ci95
    assert high - low > rows[1].speedup
    codes = [f.code for f in limits.flags(rows[1], rows[0], cores=2)]
    assert codes == ["wide-interval"]
    assert "processes x2" in recommend(rows, cores=2).why


def test_cpu_above_the_cores_is_flagged():
    rows = [row("sequential", 1, SEQ), row("processes", 2, scaled(SEQ, 0.55), cpu_util=2.6)]
    (flag,) = limits.flags(rows[1], rows[0], cores=2)
    assert flag.code == "impossible-cpu" and "CPU/wall 2.60" in flag.reason
    rec = recommend(rows, cores=2)
    assert rec.strategy == "sequential" and "left out: CPU/wall 2.60" in rec.why


def test_flagged_rows_become_warnings():
    rows = [row("sequential", 1, SEQ), row("threads", 2, scaled(SEQ, 0.30))]
    (warning,) = row_warnings(rows[1], "cpu", 2, rows[0])
    assert warning.code == "impossible-speedup"
    assert warning.message.startswith("w / threads x2 3.33x: above the physical limit of 2x")
    assert "steady state" in warning.message and warning.strategy == "threads"
    assert row_warnings(rows[0], "cpu", 2, rows[0]) == []


# -- decided or inconclusive (issue 13) ----------------------------------------------------------


def test_a_verdict_whose_intervals_clear_the_margin_is_decided():
    rows = [
        row("sequential", 1, SEQ),
        row("threads", 2, scaled(SEQ, 1.02)),
        row("processes", 2, scaled(SEQ, 0.52)),
    ]
    rec = recommend(rows, cores=2)
    assert rec.decided and rec.undecided == [] and rec.inconclusive is None
    assert (rec.strategy, rec.workers) == ("processes", 2)
    assert rec.to_dict()["confidence"] == "decided"


def test_a_lead_whose_interval_holds_the_margin_is_inconclusive_not_sequential():
    # processes x2 is 1.5x by its medians, but its samples range from 1.0x to 2.0x: the 95%
    # interval holds the 10% margin, so more samples could turn the verdict either way.
    noisy = [0.5, 0.55, 0.67, 0.9, 1.0]
    rows = [row("sequential", 1, SEQ), row("processes", 2, noisy)]
    low, high = rows[1].speedup_ci95
    assert low < 1.10 <= high
    rec = recommend(rows, cores=2)
    assert not rec.decided and rec.inconclusive
    assert rec.to_dict()["confidence"] == "inconclusive"
    assert rec.inconclusive.startswith("inconclusive after 5 samples: best guess processes x2")
    assert "--samples 10" in rec.inconclusive
    assert rec.why.startswith("inconclusive")
    [open_] = rec.undecided
    assert (open_["strategy"], open_["workers"], open_["against_strategy"]) == (
        "processes",
        2,
        "sequential",
    )


def test_a_row_the_chosen_one_clearly_beats_does_not_keep_the_verdict_open():
    # hybrid x1 is undecided against sequential, but threads x8 leads it by far: whatever
    # hybrid's truth, the verdict is threads.
    rows = [  # waiting work: sequential keeps a core 5% busy
        row("sequential", 1, SEQ, cpu_util=0.05),
        row("threads", 8, scaled(SEQ, 0.125), cpu_util=0.4),
        row("hybrid", 1, [0.8, 0.85, 0.9, 1.0, 1.05], cpu_util=0.05),
    ]
    rec = recommend(rows, cores=2)
    assert rec.decided and (rec.strategy, rec.workers) == ("threads", 8)


def test_two_winners_within_noise_of_the_margin_leave_the_verdict_open():
    # threads x2 leads sequential clearly; processes x2 may or may not lead it by 10%.
    rows = [
        row("sequential", 1, SEQ),
        row("threads", 2, scaled(SEQ, 0.5)),
        row("processes", 2, [0.40, 0.44, 0.47, 0.5, 0.52]),
    ]
    rec = recommend(rows, cores=4)
    assert not rec.decided
    assert {(c["strategy"], c["workers"], c["against_strategy"]) for c in rec.undecided} == {
        ("processes", 2, "threads")
    }


def test_an_open_worker_count_of_the_chosen_strategy_does_not_make_it_inconclusive():
    # processes x4 may or may not be 10% faster than x2: either way, use processes (x2 kept,
    # the fewer workers, as the rule does without a real 10%).
    rows = [
        row("sequential", 1, SEQ),
        row("processes", 2, scaled(SEQ, 0.5)),
        row("processes", 4, [0.40, 0.44, 0.47, 0.5, 0.52]),
    ]
    rec = recommend(rows, cores=4)
    assert rec.decided and (rec.strategy, rec.workers) == ("processes", 2)


def test_two_samples_settle_only_a_comparison_far_clear_of_the_margin_and_one_never():
    seq2 = [1.00, 1.01]
    clear = [row("sequential", 1, seq2), row("threads", 4, [0.25, 0.252], base=seq2, cpu_util=0.05)]
    clear[0].cpu_util = 0.02
    rec = recommend(clear, cores=2)
    assert rec.decided and (rec.strategy, rec.workers) == ("threads", 4)
    # the same lead measured once a side: a point, not an interval; nothing is settled
    seq1 = [1.0]
    once = [row("sequential", 1, seq1, cpu_util=0.02), row("threads", 4, [0.25], base=seq1)]
    rec = recommend(once, cores=2)
    assert not rec.decided and "1 sample(s), too few to settle it" in rec.inconclusive
    # two samples whose ratio range is near the margin: not settled
    near = [row("sequential", 1, seq2), row("processes", 2, [0.85, 0.80], base=seq2)]
    assert not recommend(near, cores=2).decided
