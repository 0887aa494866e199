"""Study tools beyond questions: quizzes, the bilingual glossary and next-step suggestions.

Services shared by Telegram and the CLI (``bot.services`` makes them): ``Quizzer`` (checked
quiz questions, the student's answers), ``GlossaryBuilder`` (the glossary, kept until the notes
change) and ``NextSteps`` (follow-up questions under an answer, without a model call). The
report takes its term style from ``report_terms``.
"""

from bot.study.glossary import (
    GlossaryBuilder,
    collect_terms,
    report_terms,
    term_label,
)
from bot.study.glossary_files import glossary_file
from bot.study.next_steps import NextSteps
from bot.study.quiz import QuizAnswer, QuizRound, Quizzer, RoundScore

__all__ = [
    "GlossaryBuilder",
    "NextSteps",
    "QuizAnswer",
    "QuizRound",
    "Quizzer",
    "RoundScore",
    "collect_terms",
    "glossary_file",
    "report_terms",
    "term_label",
]
