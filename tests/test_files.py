"""atomic_write and file_lock, the one copy of each that every workspace file goes through."""

import pytest

from lifelong.files import atomic_write, file_lock


def test_atomic_write_replaces_a_file_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "lifelong.toml"
    target.write_text("old")
    with atomic_write(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"  # nothing is visible before the block ends
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["lifelong.toml"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_partial_one(tmp_path):
    target = tmp_path / "index.faiss"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.faiss"]


def test_atomic_write_makes_a_folder(tmp_path):
    with atomic_write(tmp_path / "v1") as tmp:
        tmp.mkdir()
        (tmp / "adapter.bin").write_bytes(b"weights")
    assert (tmp_path / "v1" / "adapter.bin").read_bytes() == b"weights"
    assert [p.name for p in tmp_path.iterdir()] == ["v1"]


def test_a_held_lock_refuses_a_second_holder_that_does_not_wait(tmp_path):
    path = tmp_path / ".learn.lock"
    with file_lock(path):
        with pytest.raises(BlockingIOError):
            with file_lock(path, wait=False):
                pass
    with file_lock(path, wait=False):  # released: taken at once
        pass
