"""The ``classify`` task (``task.py``). Registered by name, so that listing the plugins does not
import torch."""

from lifelong.api import hookimpl


@hookimpl
def register_tasks(register):
    register("classify", "lifelong.plugins.classify.task:ClassifyTask")
