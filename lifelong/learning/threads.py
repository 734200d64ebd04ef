"""How many CPU threads a learning cycle uses, and at what priority background learning runs.

On a 2-core machine shared with other work, a cycle with a thread per core is slower than the
share of CPU it gets explains: each parallel region waits for its slowest thread, and a thread
the kernel has descheduled holds every other one up (60-75 s per training step seen beside two
other torch processes). So a cycle uses the cores that are free when it starts, measured, unless
``[learning] threads`` says how many (benchmarks/learn_cost.py measures both on a busy machine).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

# How long the machine is watched to see how busy it is: long enough to average out a scheduler
# tick, short beside a cycle.
SAMPLE_SECONDS = 0.5


def free_cores(sample: float = SAMPLE_SECONDS) -> int:
    """The cores this process may use that other processes are not using now (at least 1)."""
    import psutil

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    me = psutil.Process()
    total_before, mine_before, started = _busy(psutil.cpu_times()), _busy(me.cpu_times()), time.monotonic()
    time.sleep(sample)
    elapsed = time.monotonic() - started
    others = (_busy(psutil.cpu_times()) - total_before - (_busy(me.cpu_times()) - mine_before)) / elapsed
    return max(1, min(cores, round(cores - max(0.0, others))))


def _busy(times) -> float:
    return times.user + times.system + getattr(times, "nice", 0.0)


@contextlib.contextmanager
def cycle_threads(setting: int):
    """Run the block with ``setting`` threads (0: ``free_cores()``) for torch, the BLAS and
    OpenMP libraries loaded, and tokenizers; yields the number. Restored afterwards: the
    setting is process-wide, and a server answers with its own."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = setting or free_cores()
    before, tokenizers = torch.get_num_threads(), os.environ.get("TOKENIZERS_PARALLELISM")
    torch.set_num_threads(threads)
    os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    try:
        with threadpool_limits(limits=threads):
            yield threads
    finally:
        torch.set_num_threads(before)
        if tokenizers is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = tokenizers


def lower_priority_of_this_thread(by: int = 10) -> None:
    """Background learning yields the CPU to answering: on Linux niceness is per thread, and the
    threads this one starts (torch's OpenMP workers) inherit it. Elsewhere, nothing changes."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
    except (AttributeError, OSError):
        pass
