"""How the chat task answers a question (the package's docstring says which path answers what):
the adapter when the question lies in its scope, the documents' sentences that answer it, the
generator's answer checked against them, or the model alone."""

from __future__ import annotations

from lifelong.api import Answer, GenerationOptions

from . import grounding, scope
from .checked import CheckedRelease
from .grounding import Grounding
from .prompting import Decoding, search_query

EVIDENCE_SENTENCES = 3


class Answering:
    """The chat task's answers (a part of ``ChatTask``)."""

    def ground(self, text: str, hits: list, history: list[dict] = ()) -> Grounding:
        return grounding.select_evidence(
            search_query(text, list(history)), hits, self.agent.embedder, EVIDENCE_SENTENCES, self.settings.relevance_floor,
            self.settings.min_answerability,
        )

    def answer(self, text: str, hits: list, history: list[dict] = (), generation: GenerationOptions | None = None) -> Answer:
        pieces = self._answer(text, hits, history, False, Decoding.of(self.agent.config.generation, generation))
        while True:
            try:
                next(pieces)
            except StopIteration as done:
                return done.value

    def stream(self, text: str, hits: list, history: list[dict] = (), generation: GenerationOptions | None = None):
        return (yield from self._answer(text, hits, history, True, Decoding.of(self.agent.config.generation, generation)))

    def _answer(self, text, hits, history, stream, decoding: Decoding):
        """Yields the answer's pieces, then returns the Answer. A checked answer streams a sentence
        at a time, as far as it passes the check (chat/checked.py); a quoted sentence comes
        whole. ``decoding`` bounds what the model generates; a quoted source sentence is not cut."""
        adapter, version = self.agent.adapter_for(self.name)
        if adapter is not None and not self.in_scope(adapter[1], [search_query(text, list(history))], bool(hits))[0]:
            adapter, version = None, "base"
        if not hits:
            messages, _ = self.fit(text, [], history, decoding.max_new_tokens, decoding.system)
            answer = yield from self._generate(messages, adapter, version, stream, decoding)
            answer.answered_by = "model"
            return answer
        found = self.ground(text, hits, history)
        if not found.touched and self.settings.general == "answer":
            messages, _ = self.fit(text, [], history, decoding.max_new_tokens, decoding.system)
            answer = yield from self._generate(messages, adapter, version, stream, decoding)
            answer.answered_by = "model"
            return answer
        if not found.relevant:
            yield grounding.NOT_IN_SOURCES
            closest = [{**_source(found.closest), "closest": True}] if found.closest else []
            return Answer(grounding.NOT_IN_SOURCES, version, sources=closest, answered_by="not_in_sources")
        mode = self.settings.answer
        if mode == "extract":
            text_out = grounding.extractive_answer(found)
            yield text_out
            return Answer(text_out, version, sources=_sources(found), answered_by="extract")
        messages, kept = self.fit(text, found.evidence, history, decoding.max_new_tokens, decoding.system)
        found = found.narrowed(kept)
        sources = _sources(found)
        if mode == "generate":
            answer = yield from self._generate(messages, adapter, version, stream, decoding)
            cited = grounding.cite(answer.text, text, found)
            if cited != answer.text:
                yield cited[len(answer.text):]
            answer.text, answer.sources, answer.answered_by = cited, sources, "generate"
            return answer
        release = CheckedRelease(text, found)
        generated = yield from self._generate(messages, adapter, version, stream, decoding, shown=release.feed)
        rest = release.finish()
        if release.answer:
            cited = grounding.cite(release.answer, text, found)
            if rest + cited[len(release.answer):]:
                yield rest + cited[len(release.answer):]
            generated.text, generated.sources, generated.answered_by = cited, sources, "generate"
            generated.grounding = f"cut where the rest failed the check: {release.failure}" if release.cut else None
            return generated
        text_out = grounding.extractive_answer(found)
        yield text_out
        return Answer(text_out, version, generated.prompt_tokens, generated.completion_tokens, sources=sources,
                      answered_by="extract", grounding=release.failure)

    def _generate(self, messages, adapter, version, stream, decoding: Decoding, shown=lambda piece: piece):
        """Yields what ``shown`` makes of the generated pieces (one piece, the whole text, when
        not ``stream``) unless it is empty, then returns the Answer."""
        d, generator = decoding, self.agent.generator
        if stream:
            pieces = generator.stream(messages, d.max_new_tokens, d.temperature, d.top_p, adapter=adapter, stop=d.stop)
            try:
                while True:
                    try:
                        piece = next(pieces)
                    except StopIteration as done:
                        out = done.value
                        break
                    if visible := shown(piece):
                        yield visible
            finally:
                pieces.close()  # a reader that leaves stops the generation
        else:
            out = generator.generate(messages, d.max_new_tokens, d.temperature, d.top_p, adapter=adapter, stop=d.stop)
            if visible := shown(out.text):
                yield visible
        return Answer(out.text, version, out.prompt_tokens, out.completion_tokens, finish_reason=out.finish_reason)

    def in_scope(self, adapter_path: str, questions: list[str], with_sources: bool = False):
        """For each question, asked ``with_sources`` or without: does the adapter in
        ``adapter_path`` answer it (chat/scope.py)?"""
        vectors = scope.load(adapter_path)
        if vectors is None or self.settings.adapter_scope <= 0 or \
                not with_sources and scope.answers_every_question(adapter_path):
            return [True] * len(questions)
        return scope.covers(vectors, self.agent.embedder.encode(questions), self.settings.adapter_scope)


def _sources(found: Grounding) -> list[dict]:
    """The cited chunks in citation order, each scored by its best sentence's cosine similarity
    to the question (0 to 1, readable), not by a rank fusion fraction."""
    best: dict[int, float] = {}
    for e in found.evidence:
        best[e.citation] = max(best.get(e.citation, 0.0), e.cosine)
    return [
        {"chunk_id": h.chunk_id, "document": h.document, "score": round(best.get(i, 0.0), 3)}
        for i, h in enumerate(found.sources, 1)
    ]


def _source(e: grounding.Evidence) -> dict:
    return {"chunk_id": e.hit.chunk_id, "document": e.hit.document, "score": round(e.cosine, 3)}
