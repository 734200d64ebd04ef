"""``RetrieverTests``: what the agent, its tasks and the CLI rely on from a ``Retriever``."""

from __future__ import annotations

import pytest

from lifelong.api import Hit, IngestReport, InputError, Retriever
from lifelong.core.agent import Agent

from .workspace import AgentSuite

DOCUMENTS = {
    "shipping.md": "# Shipping\n\nOrders ship within two business days. Express delivery costs 9 euros.",
    "returns.txt": "Unworn items can be returned within 45 days for a full refund.",
    "warranty.md": "# Warranty\n\nEvery kettle carries a three year warranty against defects.",
}


class RetrieverTests(AgentSuite):
    #: The name the retriever is registered under.
    retriever: str = ""

    def workspace_config(self) -> str:
        return super().workspace_config() + f'\n[retrieval]\nretriever = "{self.retriever}"\n'

    @pytest.fixture
    def corpus(self, tmp_path):
        folder = tmp_path / "corpus"
        folder.mkdir()
        for name, text in DOCUMENTS.items():
            (folder / name).write_text(text)
        return folder

    @pytest.fixture
    def ingested(self, agent, corpus):
        report = agent.ingest([corpus])
        assert isinstance(report, IngestReport), f"ingest returned {type(report).__name__}, not an IngestReport"
        return report

    def test_is_a_retriever_and_starts_empty(self, agent):
        assert isinstance(agent.retriever, Retriever)
        assert agent.retriever.is_empty()
        assert agent.documents() == []

    def test_ingest_folder_reports_each_file(self, agent, corpus, ingested):
        assert sorted(ingested.added) == sorted(str(corpus / name) for name in DOCUMENTS)
        assert ingested.ok and ingested.chunks >= len(DOCUMENTS)
        assert not agent.retriever.is_empty()
        listed = {d["path"]: d for d in agent.documents()}
        assert set(listed) == set(ingested.added)
        assert all(d["origin"] == "file" and d["chunks"] >= 1 and d["ingested_at"] for d in listed.values())

    def test_search_returns_hits_best_first(self, agent, corpus, ingested):
        hits = agent.search("How long does the kettle warranty last?", k=2)
        assert 1 <= len(hits) <= 2 and all(isinstance(h, Hit) for h in hits)
        assert all(h.document in ingested.added and h.text for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        every = agent.search("kettle warranty defects", k=50)
        assert str(corpus / "warranty.md") in {h.document for h in every}

    def test_reingest_leaves_unchanged_and_replaces_changed(self, agent, corpus, ingested):
        (corpus / "returns.txt").write_text("Returns are accepted within 30 days, receipt required.")
        again = agent.ingest([corpus])
        assert again.updated == [str(corpus / "returns.txt")]
        assert sorted(again.unchanged) == sorted(str(corpus / n) for n in DOCUMENTS if n != "returns.txt")
        texts = " ".join(h.text for h in agent.search("returns receipt days", k=50))
        assert "30 days" in texts and "45 days" not in texts
        assert len(agent.documents()) == len(DOCUMENTS)

    def test_unreadable_input_is_skipped_and_the_rest_ingested(self, agent, corpus, tmp_path):
        missing = tmp_path / "no-such-file.md"
        report = agent.ingest([missing, corpus / "warranty.md"])
        assert report.added == [str(corpus / "warranty.md")]
        assert len(report.skipped) == 1 and not report.ok
        path, reason = report.skipped[0]
        assert str(missing) in path and reason

    def test_add_text_is_searchable_at_once_and_replaces_by_source(self, agent, ingested):
        added = agent.retriever.add_text("The CEO is Mira Okafor.", "correction:1", origin="correction")
        assert added >= 1
        assert "correction:1" in {h.document for h in agent.search("Mira Okafor CEO", k=50)}
        agent.retriever.add_text("The CEO is Jon Berg.", "correction:1", origin="correction")
        listed = [d for d in agent.documents() if d["path"] == "correction:1"]
        assert len(listed) == 1 and listed[0]["origin"] == "correction"
        texts = " ".join(h.text for h in agent.search("CEO Berg Okafor", k=50))
        assert "Berg" in texts and "Okafor" not in texts

    def test_forget_removes_a_document_and_its_hits(self, agent, corpus, ingested):
        path = str(corpus / "shipping.md")
        assert agent.forget(path) >= 1
        assert path not in {d["path"] for d in agent.documents()}
        assert path not in {h.document for h in agent.search("shipping express delivery", k=50)}
        with pytest.raises(InputError):
            agent.forget(path)

    def test_bad_input_is_an_input_error_and_loses_nothing(self, agent, ingested):
        for query, k in (("", None), ("   ", None), ("kettle", 0)):
            with pytest.raises(InputError):
                agent.search(query, k=k)
        with pytest.raises(InputError):
            agent.retriever.add_text("   ", "empty")
        assert len(agent.documents()) == len(DOCUMENTS)

    def test_knowledge_persists_across_agents(self, agent, workspace, ingested):
        with Agent.open(workspace) as other:
            assert {d["path"] for d in other.documents()} == set(ingested.added)
            assert other.search("kettle warranty", k=50)

    def test_agent_answers_over_it(self, agent, ingested):
        reply = agent.ask("How long is the warranty on a kettle?")
        assert reply.id and isinstance(reply.answer, str)
        assert {s["document"] for s in reply.sources} <= set(ingested.added)
