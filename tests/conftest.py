import pytest

from lifelong.core.plugins import DEFAULT_PLUGINS


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test sees the user's workspace or whatever plugins happen to be installed."""
    monkeypatch.setenv("LIFELONG_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", ",".join(DEFAULT_PLUGINS))
    monkeypatch.delenv("LIFELONG_RAISE_ERRORS", raising=False)


@pytest.fixture
def workspace(tmp_path):
    return tmp_path / "workspace"
