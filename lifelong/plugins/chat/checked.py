"""A generated answer shown as it streams, a sentence at a time, only as far as it passes the
grounding check (grounding.check_answer).

Each time a sentence ends, the text up to there is checked; when it passes, what was not shown
yet is shown. A sentence that says what the sources do not (grounding.unsupported: its own
words, not only the answer's as a whole) ends what may be shown: a model that starts right and
then invents is cut there, not replaced. The same text gives the same answer whether it arrives
token by token or whole, because every sentence end is checked, in order.
"""

from __future__ import annotations

from .grounding import Grounding, check_answer, sentence_ends, unsupported


class CheckedRelease:
    def __init__(self, question: str, found: Grounding):
        self.question, self.found = question, found
        self.text = ""  # what the generator has written so far
        self.shown = 0  # characters of it shown
        self.checked = 0  # sentence ends up to here were checked
        self.ended = False  # a sentence said what the sources do not: nothing more is shown
        self.failure: str | None = None  # why the last check that failed failed

    def feed(self, piece: str) -> str:
        """What to show, now that the generator wrote ``piece``."""
        self.text += piece
        return self._show([end for end in sentence_ends(self.text) if end > self.checked])

    def finish(self) -> str:
        """What to show once the generator has ended: the last sentence, if the whole passes."""
        return self._show([len(self.text.rstrip())])

    @property
    def answer(self) -> str:
        """What was shown: the longest run of whole sentences that passed ('' when none did)."""
        return self.text[: self.shown].strip()

    @property
    def cut(self) -> bool:
        """Some was shown, but not all the generator wrote."""
        return bool(self.answer) and self.answer != self.text.strip()

    def _show(self, ends: list[int]) -> str:
        opening = not self.shown  # what is shown first drops the whitespace a model may open with
        out = ""
        for end in ends:
            if self.ended:
                break
            sentence, self.checked = self.text[self.checked : end], end
            own = unsupported(sentence, self.question, self.found)
            if own:
                self.ended, self.failure = True, f"a sentence is {own}"
                break
            check = check_answer(self.text[:end], self.question, self.found)
            if check.ok:
                out, self.shown = out + self.text[self.shown : end], end
            else:
                self.failure = check.reason
        return out.lstrip() if opening else out
