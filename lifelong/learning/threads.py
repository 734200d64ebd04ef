"""How many CPU threads a learning cycle uses, and at what priority background learning runs.

On a 2-core machine shared with other work, a cycle with a thread per core is slower than the
share of CPU it gets explains: each parallel region waits for its slowest thread, and a thread
the kernel has descheduled holds every other one up (60-75 s per training step seen beside two
other torch processes). So a cycle uses the cores that other processes leave free, measured when
it starts and again every RETUNE_SECONDS between steps, unless ``[learning] threads`` says how
many (benchmarks/learn_cost.py measures both on a busy machine).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

# How long the machine is watched to see how busy it is: long enough to average out a scheduler
# tick, short beside a cycle.
SAMPLE_SECONDS = 0.5


# How often a cycle on the free cores looks again: the machine's other work comes and goes.
RETUNE_SECONDS = 10.0
_auto = threading.local()  # inside cycle_threads(0): the last look at the machine


def free_cores(sample: float = SAMPLE_SECONDS) -> int:
    """The cores this process may use that other processes are not using now (at least 1)."""
    before = _look()
    time.sleep(sample)
    return _free_since(before)


def _look() -> tuple[float, float, float]:
    """(CPU seconds of the whole machine, of this process, now). The machine's time of niced
    processes counts only when this thread is niced too: a process at a lower priority than
    ours gives way, and its cores are ours to use."""
    import psutil

    machine = psutil.cpu_times()
    niced = getattr(machine, "nice", 0.0) if _niceness() > 0 else 0.0
    mine = psutil.Process().cpu_times()
    return machine.user + machine.system + niced, mine.user + mine.system, time.monotonic()


def _niceness() -> int:
    try:
        return os.getpriority(os.PRIO_PROCESS, 0)  # on Linux, this thread's
    except (AttributeError, OSError):
        return 0


def _free_since(before: tuple[float, float, float]) -> int:
    total, mine, now = _look()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    others = (total - before[0] - (mine - before[1])) / max(now - before[2], 1e-3)
    return max(1, min(cores, round(cores - max(0.0, others))))


def retune() -> None:
    """Inside ``cycle_threads(0)``, at most every RETUNE_SECONDS: use the cores other processes
    left free since the last look. The training loop and batch generation call it between
    steps; elsewhere it does nothing."""
    last = getattr(_auto, "last", None)
    if last is None or time.monotonic() - last[2] < RETUNE_SECONDS:
        return
    import torch

    torch.set_num_threads(_free_since(last))
    _auto.last = _look()


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
    _auto.last = None if setting else _look()
    try:
        with threadpool_limits(limits=threads):
            yield threads
    finally:
        _auto.last = None
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
