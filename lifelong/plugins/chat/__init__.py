"""The ``chat`` task: question answering over retrieved documents, grounded in their sentences.

``answer`` (a task option) says who writes an answer when documents were retrieved:

- ``auto`` (default): the generator answers from the best few sentences; if what it wrote fails
  the grounding check (unsupported words or numbers, a sentence stitched from several source
  sentences, a citation that does not exist, repetition, an echo of the prompt) the best
  sentence itself answers, quoted and cited.
- ``generate``: always the generator's answer (with its citation), unchecked.
- ``extract``: always the best sentence, quoted and cited.

Which questions the documents answer is decided per sentence (chat/answerability.py): when the
documents are about the question but no sentence answers it, the answer says that the documents
do not say, with the closest source shown as such (``"closest": true``), never quoted. A
question the documents do not touch at all (below ``relevance_floor``), like one asked with no
knowledge base or retrieval off, the model answers on its own, without sources (``general =
"answer"``, the default) or is refused (``"refuse"``). ``Reply.answered_by`` and the log record
which path answered: ``model``, ``generate``, ``extract``, ``not_in_sources``.

A learned adapter answers only the questions in its scope (chat/scope.py): those like the ones
it was taught. Any other question is answered by the base model, logged as version ``base``.

The task is one class made of its concerns, each in its own module: prompting.py (the prompt and
its fitting), answering.py, teaching.py (what a cycle trains on, and the training) and
assessing.py (the gate's scores); options.py declares its ``[tasks.NAME]`` options."""

from __future__ import annotations

from lifelong.api import LearnableTask, hookimpl

from .answering import Answering
from .assessing import Assessing
from .options import ChatOptions
from .prompting import Prompting
from .teaching import Teaching


class ChatTask(Answering, Teaching, Assessing, Prompting, LearnableTask):
    uses_retrieval = True
    uses_history = True
    corrections_are_knowledge = True
    # Facts taught by correction are meant to be learned, all of them: the gate checks recall
    # on them and on earlier cycles' facts instead of on held-out questions.
    holds_out_examples = False
    generates = True
    objectives = ("sft", "dpo", "kto")
    settings_class = ChatOptions

    def __init__(self, name, options, agent):
        LearnableTask.__init__(self, name, options, agent)
        Teaching.__init__(self)

    @property
    def gate_earlier_cycles(self) -> int:
        return self.settings.gate_earlier_cycles


@hookimpl
def register_tasks(register):
    register("chat", ChatTask)
