"""The retriever passes lifelong's conformance kit, and an agent works with it through the CLI.

The package is found through its entry point, as an installed one is: a dist-info folder on
sys.path is exactly what ``pip install`` leaves behind."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifelong.cli import build_app
from lifelong.testing import RetrieverTests

PACKAGE = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def installed(tmp_path, monkeypatch):
    dist = tmp_path / "site" / "lifelong_sqlite_retriever-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lifelong-sqlite-retriever\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[lifelong]\nsqlite_retriever = lifelong_sqlite_retriever\n")
    monkeypatch.syspath_prepend(str(dist.parent))
    monkeypatch.syspath_prepend(str(PACKAGE))


class TestSQLiteRetriever(RetrieverTests):
    plugins = ["sqlite_retriever"]
    retriever = "sqlite"

    def test_is_loaded_from_its_entry_point(self, agent):
        assert agent.plugins.info["sqlite_retriever"].source == "entry point (lifelong-sqlite-retriever 0.1.0)"
        assert type(agent.retriever).__name__ == "SQLiteRetriever"

    def test_the_cli_ingests_searches_and_learns_a_correction_with_it(self, workspace, corpus):
        cli = lambda *args: CliRunner().invoke(build_app(), ["-w", str(workspace), *args])  # noqa: E731
        assert cli("ingest", str(corpus)).exit_code == 0
        hits = json.loads(cli("search", "kettle warranty", "--json").output)
        assert hits and all(h["document"].startswith(str(corpus)) for h in hits)
        asked = json.loads(cli("ask", "Who is the CEO of Acme?", "--json").output)
        fixed = cli("feedback", str(asked["id"]), "--correct", "The CEO of Acme is Mira Okafor.")
        assert fixed.exit_code == 0, fixed.output
        again = json.loads(cli("ask", "Who is the CEO of Acme?", "--json").output)
        assert again["answer"] == "The CEO of Acme is Mira Okafor." and again["answered_by"] == "correction"
        listed = json.loads(cli("documents", "--json").output)
        assert sorted(d["path"] for d in listed) == sorted(str(p) for p in corpus.iterdir())
        forgot = cli("forget", str(corpus / "returns.txt"))
        assert forgot.exit_code == 0 and "1 chunks" in forgot.output
        missing = cli("forget", str(corpus / "returns.txt"))
        assert missing.exit_code == 1 and missing.output.count("\n") == 1 and "no document" in missing.output
