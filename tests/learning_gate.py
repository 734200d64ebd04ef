"""A plugin for tests: holds every learning run at its start until the test releases it, so a
test can act while a run is provably in progress. Imported by name, so every agent of the test
process shares the same events."""

import threading

from lifelong import hookimpl

started = threading.Event()
release = threading.Event()


@hookimpl
def before_learn():
    started.set()
    if not release.wait(timeout=300):
        raise RuntimeError("learning_gate was never released")
