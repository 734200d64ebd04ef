import random
from collections import Counter

import pytest

from lifelong.api import PluginError
from lifelong.memory import open_database, write_transaction
from lifelong.memory.examples import ExampleStore
from lifelong.memory.replay import select_replayed
from lifelong.plugins.buffers import BalancedBuffer, RecencyBuffer, ReservoirBuffer


@pytest.fixture
def db(database):
    return open_database(database)  # SQLite, then PostgreSQL


def make(db, n, label=lambda i: "x", cycle=1):
    store = ExampleStore(db)
    with write_transaction(db):
        ids = [store.add("t", f"q{i}", label(i), "import", "train") for i in range(n)]
        store.mark_cycle(ids, cycle)
    return [db["examples"].get(i) for i in ids]


def test_reservoir_bounded_uniform_and_persistent(db):
    counts = Counter()
    for trial in range(200):
        db.execute("delete from replay_buffer")
        db.execute("delete from buffer_state")
        db.execute("delete from examples")
        stream = make(db, 40)
        for start in range(0, 40, 10):
            buffer = ReservoirBuffer(db, "t", max_size=8, seed=trial)  # a fresh object each time: state is in SQLite
            buffer.update(stream[start : start + 10])
        assert len(buffer) == 8 and buffer.seen == 40
        counts.update(int(e["input"][1:]) // 10 for e in buffer.items())
    # Each quarter of the stream holds about a quarter of the buffer.
    assert all(abs(counts[q] / sum(counts.values()) - 0.25) < 0.05 for q in range(4))


def test_balanced_keeps_every_group(db):
    stream = make(db, 60, label=lambda i: "rare" if i < 3 else "common")
    buffer = BalancedBuffer(db, "t", max_size=10, group=lambda e: e["target"])
    buffer.update(stream)
    kept = Counter(e["target"] for e in buffer.items())
    assert kept["rare"] == 3 and len(buffer) <= 10


def test_balanced_with_more_groups_than_room_samples_groups(db):
    early = make(db, 30, label=lambda i: f"early{i}", cycle=1)
    late = make(db, 30, label=lambda i: f"late{i}", cycle=2)
    buffer = BalancedBuffer(db, "t", max_size=20, group=lambda e: e["target"])
    buffer.update(early)
    buffer.update(late)
    kept = [e["target"] for e in buffer.items()]
    assert len(kept) == 20 and len(set(kept)) == 20
    assert 5 <= sum(t.startswith("late") for t in kept) <= 15  # later groups get in too


def test_recency_prefers_new(db):
    stream = make(db, 200)
    buffer = RecencyBuffer(db, "t", max_size=20)
    buffer.update(stream)
    ages = [int(e["input"][1:]) for e in buffer.items()]
    assert len(ages) == 20 and sum(a >= 100 for a in ages) >= 16


def test_resize_and_validation(db):
    buffer = ReservoirBuffer(db, "t", max_size=10)
    buffer.update(make(db, 10))
    buffer.resize(4)
    assert len(buffer) == 4
    with pytest.raises(ValueError, match="max_size"):
        ReservoirBuffer(db, "t", max_size=0)


def test_select():
    items = list(range(10))
    assert sorted(select_replayed(items, 20, random.Random(0))) == items
    assert len(set(select_replayed(items, 3, random.Random(0)))) == 3


def test_a_policy_keeping_too_much_is_refused_and_the_buffer_kept(db):
    class Hoarder(ReservoirBuffer):
        def keep(self, stored, new):
            return [*stored, *new]

    buffer = Hoarder(db, "t", max_size=3)
    buffer.update(make(db, 2))
    with pytest.raises(PluginError, match="kept 5 examples, over its max_size 3"):
        buffer.update(make(db, 3))
    assert len(buffer) == 2 and buffer.seen == 2
