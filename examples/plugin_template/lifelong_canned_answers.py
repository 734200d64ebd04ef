"""A complete lifelong plugin in one file.

- ``before_ask`` answers questions found in a fixed table without running the model
  (``before_ask`` is a firstresult hook: returning a string ends the search for an answer).
- ``register_tasks`` adds the ``canned`` task type: a task that answers from the table alone
  (``lifelong tasks add faq --plugin canned``).
- ``register_commands`` adds ``lifelong canned`` to the CLI, listing the table.
"""

import typer

from lifelong.api import Answer, Task, hookimpl

CANNED = {
    "what are your opening hours?": "We are open 9:00-17:00, Monday to Friday.",
}


@hookimpl
def before_ask(task, text):
    if task == "chat":
        return CANNED.get(text.strip().lower())
    return None


class CannedTask(Task):
    """Answers from the table; anything else is not known."""

    def answer(self, text, hits):
        return Answer(CANNED.get(text.strip().lower(), "I do not know."), "canned")

    def score(self, prediction, target, input=""):
        return float(prediction.strip() == target.strip())


@hookimpl
def register_tasks(register):
    register("canned", CannedTask)


@hookimpl
def register_commands(cli):
    @cli.command()
    def canned():
        """List the questions this plugin answers by itself."""
        for question, answer in CANNED.items():
            typer.echo(f"{question} -> {answer}")
