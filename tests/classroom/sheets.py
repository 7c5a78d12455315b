"""Answer sheets as a facilitator reads them: the letters ticked for each question."""

from __future__ import annotations

from app.models import AnswerSheet
from app.services.content import published

LETTERS = "ABCDEFGH"


def key_letters(sheet: AnswerSheet, right: int | None = None) -> list[str]:
    """Return the letters of the right options per question; wrong from question `right` on."""
    pool = {q["id"]: q for q in published.version(sheet.module_version_id).quiz}
    typed = []
    for number, drawn in enumerate(sheet.attempt.questions, start=1):
        correct = {o["id"] for o in pool[drawn["id"]]["options"] if o["correct"]}
        wrong = right is not None and number > right
        letters = [
            LETTERS[i] for i, option in enumerate(drawn["options"]) if (option in correct) != wrong
        ]
        typed.append("".join(letters[:1] if wrong else letters))
    return typed
