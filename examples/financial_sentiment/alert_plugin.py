"""A lifelong plugin: raise an alert when the share of negative headlines in a sliding window
jumps. Loaded as a plugin file is: ``lifelong --plugin alert_plugin.py`` or ``LIFELONG_PLUGINS``."""

from collections import deque

from lifelong import hookimpl

WINDOW = 5
JUMP = 0.4  # alert when the negative share rises by this much against the previous window

recent = deque(maxlen=2 * WINDOW)
alerts = []


@hookimpl
def after_ask(task, reply):
    if task != "sentiment":
        return
    recent.append(reply.answer == "negative")
    if len(recent) < 2 * WINDOW:
        return
    before, now = list(recent)[:WINDOW], list(recent)[WINDOW:]
    share_before, share_now = sum(before) / WINDOW, sum(now) / WINDOW
    if share_now - share_before >= JUMP:
        alert = {"interaction_id": reply.id, "negative_share": share_now, "previous_share": share_before}
        alerts.append(alert)
        print(f"  ALERT: negative headlines at {share_now:.0%} of the last {WINDOW}, up from {share_before:.0%}")
