"""A plugin for tests: each correction also becomes a knowledge document, written from its
interaction (``Agent.add_text`` records that), as an operator's plugin may do it."""

from lifelong import hookimpl


@hookimpl
def on_feedback(agent, interaction, feedback):
    if feedback["correction"]:
        agent.add_text(f"{interaction['input']} {feedback['correction']}", f"correction:{interaction['id']}",
                       origin="correction", interactions=[interaction["id"]])
