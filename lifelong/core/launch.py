"""Training one learning cycle in several processes: ``accelerate launch`` starts them
(core/training_worker.py), each trains on its share of every batch (learning/loop.py), and
process 0 saves the adapter into a private folder that only this process, the one holding the
learning lock, moves into place. A process that fails or dies fails the whole launch, which
fails the run: nothing is half written and the previous adapter keeps serving.

Over several machines, machine 0 (the one running ``lifelong learn``) writes the job beside
that folder, in the adapters folder every machine shares; each other machine runs ``lifelong
learn --join``, which finds the job there and launches its own processes on it, with its own
accelerate config (machine_rank 1, 2...): torchrun's rendezvous at machine 0 joins them."""

from __future__ import annotations

import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, LifelongError
from ..files import atomic_write

# Lines of a worker's stdout that carry the progress bar's state (training_worker.py prints them).
PROGRESS_PREFIX = "lifelong-progress "
# The line a worker prints when it fails, so the run's error names the cause, not the launcher's.
ERROR_PREFIX = "lifelong-worker-error "
# A launch's job file in the adapters folder of its task: ".tmp-launch-XXXX.job.json".
JOB_FILES = ".tmp-launch-*.job.json"


class TrainingProcessError(LifelongError):
    """A training process of a multi-process run failed or was killed."""


@dataclass(frozen=True)
class Launch:
    """How a learning cycle trains: ``processes`` on this machine, or as the accelerate config
    file says (DeepSpeed, FSDP, several machines); one process and no file: in this process."""

    processes: int = 1
    config_file: Path | None = None

    def __post_init__(self):
        if isinstance(self.processes, bool) or not isinstance(self.processes, int) or self.processes < 1:
            raise InputError(f"processes must be a whole number >= 1, got {self.processes!r}")
        if self.config_file is not None and not Path(self.config_file).is_file():
            raise InputError(f"accelerate config {str(self.config_file)!r} is not a file; write one with "
                             "'accelerate config --config_file FILE' or leave it out")

    @property
    def in_process(self) -> bool:
        return self.processes == 1 and self.config_file is None

    def check_joins(self) -> None:
        """Raise unless the config file makes this machine one that joins a run: machine_rank
        1 or more, of 2 or more machines."""
        from accelerate.commands.config.config_args import load_config_from_file

        config = load_config_from_file(str(self.config_file))
        rank, machines = config.machine_rank, config.num_machines
        if machines < 2 or not 1 <= rank < machines:
            raise InputError(f"accelerate config {str(self.config_file)!r} says machine_rank {rank} of num_machines "
                             f"{machines}; a machine that joins a run has machine_rank 1 to num_machines - 1 "
                             "(machine 0 starts the run with 'lifelong learn --accelerate-config FILE')")

    def command(self, job: Path) -> list[str]:
        args = [sys.executable, "-m", "accelerate.commands.launch"]
        if self.config_file is not None:
            args += ["--config_file", str(self.config_file)]
            if self.processes > 1:
                args += ["--num_processes", str(self.processes)]
        else:
            # One machine: torchrun's rendezvous on the loopback address (a host name lookup
            # can take minutes where there is no DNS), the cores shared between the processes.
            threads = max(1, (os.cpu_count() or 1) // self.processes)
            args += ["--multi_gpu", "--num_processes", str(self.processes), "--num_machines", "1",
                     "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1",
                     "--main_process_port", str(_free_port()), "--num_cpu_threads_per_process", str(threads)]
        return [*args, "-m", "lifelong.core.training_worker", str(job)]


def run_training(launch: Launch, job: dict, folder: Path, log: Path, progress=None) -> None:
    """Launch the processes on ``job`` (training_worker.py says what it holds) and wait; process
    0 writes the adapter into ``folder``. The job is written beside ``folder``, where the
    machines joining the run find it (``running_job``). Their output goes to ``log``;
    ``progress`` shows the training bar process 0 reports. Raises TrainingProcessError when
    any process fails."""
    _launch(launch, {**job, "output": str(folder)}, folder.parent / f"{folder.name}.job.json", log, progress)


def join_training(launch: Launch, job: dict, log: Path) -> None:
    """Launch this machine's processes of another machine's run on ``job`` (as ``running_job``
    found it, its workspace replaced by this machine's) and wait; none of them writes."""
    with tempfile.TemporaryDirectory(prefix="lifelong-join-") as folder:
        _launch(launch, job, Path(folder) / "job.json", log, None)


def running_job(folder: Path, running: set[int]) -> dict | None:
    """The newest job in ``folder`` (a task's adapters folder) of a run in ``running`` (run ids),
    or None."""
    for path in sorted(folder.glob(JOB_FILES), key=_modified, reverse=True):
        try:
            job = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # removed as its run ended
            continue
        if job.get("run_id") in running:
            return job
    return None


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _launch(launch: Launch, job: dict, job_file: Path, log: Path, progress) -> None:
    # Written whole or not at all: a joining machine may read it at any moment.
    with atomic_write(job_file) as tmp:
        tmp.write_text(json.dumps({**job, "parent_pid": os.getpid()}))
    log.parent.mkdir(parents=True, exist_ok=True)
    tail = collections.deque(maxlen=20)
    errors, bar, step, done = [], None, None, 0
    proc = subprocess.Popen(launch.command(job_file), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with log.open("w", encoding="utf-8") as out:
            for line in proc.stdout:
                if line.startswith(PROGRESS_PREFIX):
                    state = json.loads(line[len(PROGRESS_PREFIX):])
                    if state["task"] != step:  # process 0 began another step
                        step, done = state["task"], 0
                        bar = progress.add_task(state["description"], total=state["total"]) if progress is not None else None
                    if bar is not None:
                        progress.update(bar, advance=state["completed"] - done, description=state["description"])
                    done = state["completed"]
                    continue
                out.write(line)
                if line.startswith(ERROR_PREFIX):
                    errors.append(line[len(ERROR_PREFIX):].strip())
                elif line.strip():
                    tail.append(line.strip())
        code = proc.wait()
    finally:
        if proc.poll() is None:  # interrupted or cancelled here: stop every process of the launch
            # torchrun, inside the launcher, passes SIGTERM on to the workers (each in its own
            # session); a worker whose launcher is gone exits by itself (training_worker.py).
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        job_file.unlink(missing_ok=True)
    if code != 0:
        cause = errors[0] if errors else (tail[-1] if tail else "no output")
        raise TrainingProcessError(f"a training process failed (launcher exit status {code}): {cause}; "
                                   f"the full output is in {log}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
