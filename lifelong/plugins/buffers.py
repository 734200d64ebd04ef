"""Built-in replay-buffer policies."""

from lifelong import hookimpl
from lifelong.memory.replay import BalancedBuffer, RecencyBuffer, ReservoirBuffer


@hookimpl
def register_buffers(register):
    register("reservoir", ReservoirBuffer)
    register("balanced", BalancedBuffer)
    register("recency", RecencyBuffer)
