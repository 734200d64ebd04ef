"""Built-in replay-buffer policies: *what is kept* of the example stream."""

import math

from lifelong.api import ReplayBuffer, hookimpl


class ReservoirBuffer(ReplayBuffer):
    """Reservoir sampling: every example of the whole stream is kept with equal probability."""

    def keep(self, stored, new):
        kept, seen = list(stored)[: self.max_size], self.seen
        for example in new:
            seen += 1
            if len(kept) < self.max_size:
                kept.append(example)
            else:
                slot = self.rng.randrange(seen)
                if slot < self.max_size:
                    kept[slot] = example
        return kept


class BalancedBuffer(ReplayBuffer):
    """Equal room for each group (a label, or the cycle an example joined), so a rare class or
    an early cycle is not crowded out; within a group, a uniform sample. With more groups than
    room, a random choice of groups keeps one example each."""

    def keep(self, stored, new):
        groups: dict = {}
        for example in [*stored, *new]:
            groups.setdefault(self.group(example), []).append(example)
        order = list(groups)
        self.rng.shuffle(order)
        quota, extra = divmod(self.max_size, len(order))
        kept = []
        for i, key in enumerate(order):
            members, room = groups[key], quota + (1 if i < extra else 0)
            kept.extend(members if len(members) <= room else self.rng.sample(members, room))
        return kept


class RecencyBuffer(ReplayBuffer):
    """Keeps recent examples more often: each item's chance of being kept halves with every
    ``half_life`` examples that arrived after it (weighted sampling without replacement)."""

    half_life_fraction = 0.5  # of max_size

    def keep(self, stored, new):
        pool = [*stored, *new]
        if len(pool) <= self.max_size:
            return pool
        newest = max(e["id"] for e in pool)
        half_life = max(1.0, self.max_size * self.half_life_fraction)
        # Efraimidis-Spirakis: key = u^(1/w); the largest keys are a weighted sample.
        keyed = []
        for example in pool:
            weight = math.pow(0.5, (newest - example["id"]) / half_life)
            keyed.append((self.rng.random() ** (1.0 / weight), example))
        keyed.sort(key=lambda pair: -pair[0])
        return [example for _, example in keyed[: self.max_size]]


@hookimpl
def register_buffers(register):
    register("reservoir", ReservoirBuffer)
    register("balanced", BalancedBuffer)
    register("recency", RecencyBuffer)
