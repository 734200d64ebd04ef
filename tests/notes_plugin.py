"""A plugin for tests that answers from what users told it, as a memory plugin would: "Remember:
X" is noted with its interaction, "What did I ask you to remember?" is answered with the latest
note, and the answer's provenance names the interaction it repeats."""

import weakref

from lifelong.api import Provenance, hookimpl

ASK_BACK = "What did I ask you to remember?"
_notes = weakref.WeakKeyDictionary()  # agent -> [(interaction id, note)]
_pending = weakref.WeakKeyDictionary()  # agent -> the note of the question being logged


@hookimpl
def before_ask(agent, task, text):
    if text.startswith("Remember: "):
        _pending[agent] = text.removeprefix("Remember: ")
        return "Noted."
    if text == ASK_BACK and _notes.get(agent):
        interaction, note = _notes[agent][-1]
        return {"answer": note, "provenance": Provenance(interactions=(interaction,))}
    return None


@hookimpl
def after_ask(agent, task, reply):
    if agent in _pending:
        _notes.setdefault(agent, []).append((reply.id, _pending.pop(agent)))
