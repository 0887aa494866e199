"""A fake tutor model with the behaviours a careful test suite needs, for both fake chat models.

``TutorModel(mode)`` reads whichever prompt it gets (query rewrite, answer, report section,
revision, claim verification) the way the bot writes it, and replies like a model would:

- ``"cooperative"``: writes from the snippets, quoting a few words of the one it cites, and cites
  it correctly (``[n]`` in answers, ``[论文 p.5]`` / ``[视频 1:00]`` in reports);
- ``"no_markers"``: the same text, with no citation markers at all;
- ``"least_related"``: quotes the snippet most related to the question but cites the least
  related one;
- ``"invents_numbers"``: the cooperative text plus a sentence with a figure no snippet contains,
  cited like the rest.

Its verification replies are those of an honest checker (a claim is unsupported when its figures
or its quoted words are not in its source). Use it as ``FakeOpenAI.set_default(model.for_body)``
or ``ScriptedChatModel.set_default(model)``; ``model.calls`` counts the prompts by kind.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bot import prompts
from bot.llm import Message
from bot.report import prompts as report_prompts
from bot.support import numbers

__all__ = ["INVENTED", "MODES", "TutorModel", "quoted_words", "report_snippets"]

MODES = ("cooperative", "no_markers", "least_related", "invents_numbers")
INVENTED = "实验表明，这种方法把模型的准确率整整提高了 37.5%，训练时间缩短到原来的 1/7"
INVENTED_EN = "Experiments show that the method raises accuracy by 37.5% and cuts training to 1/7"
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")
_STOP = {"the", "a", "an", "of", "to", "and", "in", "is", "it", "that", "this", "on", "for"}


def report_snippets(prompt: str) -> list[tuple[str, str]]:
    """The (marker, first line of text) of each snippet a report section prompt fences."""
    return re.findall(r'^<snippet id="S\d+" marker="(\[[^\]\n]+\])">\n(.+)$', prompt, re.MULTILINE)


def quoted_words(snippet: str, n: int = 7) -> str:
    """The first ``n`` words of a snippet, as a model quoting it would copy them."""
    return " ".join(_WORD.findall(snippet)[:n])


def _overlap(a: str, b: str) -> int:
    def words(text: str) -> set[str]:
        return {w.lower() for w in _WORD.findall(text)} - _STOP

    return len(words(a) & words(b))


class TutorModel:
    """Replies to every prompt of the bot according to ``mode`` (see module doc)."""

    def __init__(self, mode: str = "cooperative") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        self.calls: Counter[str] = Counter()
        self.cited: list[str] = []  # the snippet texts its answers cited first, in order

    def for_body(self, body: dict[str, Any]) -> str:
        """The ``FakeOpenAI.set_default`` form (a request body)."""
        return self(body["messages"])

    def __call__(self, messages: Sequence[Message]) -> str:
        system = str(messages[0]["content"])
        user = str(messages[-1]["content"])
        if system == prompts.REWRITE_SYSTEM:
            self.calls["rewrite"] += 1
            question = user.rsplit(":", 1)[-1].strip()
            return json.dumps({"queries": [question], "terms": []}, ensure_ascii=False)
        if system == report_prompts.VERIFY_SYSTEM:
            self.calls["verify"] += 1
            return self._verify(user)
        if system == report_prompts.SYSTEM_PROMPT:
            self.calls["report"] += 1
            return self._section(user)
        self.calls["answer"] += 1
        return self._answer(user)

    # -- chat answers ---------------------------------------------------------------------------

    def _answer(self, user: str) -> str:
        snippets = re.findall(r'<snippet n="(\d+)" source="[^"]*">\n(.*?)\n</snippet>', user, re.S)
        asked = re.search(r"<question>\n(.*?)\n</question>", user, re.S)
        question = asked.group(1) if asked else ""
        english = "Answer in English" in user
        ranked = sorted(snippets, key=lambda s: -_overlap(question, s[1]))
        best, least = ranked[0], ranked[-1]
        cite = least if self.mode == "least_related" else best
        self.cited.append(cite[1])
        parts = [(best[1], cite[0])]
        if len(ranked) > 1 and self.mode != "least_related":
            parts.append((ranked[1][1], ranked[1][0]))
        sentences = [self._sentence(text, f"[{n}]", english) for text, n in parts]
        if self.mode == "invents_numbers":
            sentences.append(
                self._claim(INVENTED_EN if english else INVENTED, f"[{best[0]}]", english)
            )
        return " ".join(sentences) if english else "".join(sentences)

    def _sentence(self, snippet: str, marker: str, english: bool) -> str:
        quote = quoted_words(snippet)
        if english:
            return self._claim(f'The source puts it this way: "{quote}"', marker, True)
        return self._claim(
            f"资料里是这样说的：“{quote}”，这正是理解这个问题的关键所在", marker, False
        )

    def _claim(self, text: str, marker: str, english: bool) -> str:
        if self.mode == "no_markers":
            marker = ""
        if english:
            return f"{text}{' ' + marker if marker else ''}."
        return f"{text}{marker}。"

    # -- report sections ------------------------------------------------------------------------

    def _section(self, user: str) -> str:
        asked = re.search(r"(?:到约|续写约|篇幅：约) (\d+) 字", user)
        target = int(asked.group(1)) if asked else 300
        blocks = report_snippets(user)
        if not blocks:
            return "本部分没有可用的资料。"
        from bot.report.wordcount import count_zi

        sentences: list[str] = []
        i = 0
        while count_zi("".join(sentences)) < target - 20 and i < 400:
            marker, text = blocks[i % len(blocks)]
            cite = blocks[(i + len(blocks) // 2) % len(blocks)][0]
            shown = cite if self.mode == "least_related" and len(blocks) > 1 else marker
            quote = quoted_words(text)
            body = f"资料中写道“{quote}”，这说明作者在这一部分详细讨论了相应的方法与设计思路"
            sentences.append(self._claim(body, shown, False))
            if self.mode == "invents_numbers" and i % 3 == 0:
                sentences.append(self._claim(INVENTED, shown, False))
            i += 1
        paragraphs = ["".join(sentences[k : k + 3]) for k in range(0, len(sentences), 3)]
        return "\n\n".join(paragraphs)

    # -- verification ---------------------------------------------------------------------------

    @staticmethod
    def _verify(user: str) -> str:
        claims = dict(re.findall(r'<claim n="(\d+)">(.*?)</claim>', user, re.S))
        sources = dict(re.findall(r'<source n="(\d+)">(.*?)</source>', user, re.S))
        bad = []
        for n, claim in claims.items():
            source = sources.get(n, "")
            quote = re.search(r"[“\"](.+?)[”\"]", claim)
            quoted = set(_WORD.findall(quote.group(1))) if quote else set()
            if not numbers(claim) <= numbers(source) or not quoted <= set(_WORD.findall(source)):
                bad.append(int(n))
        return json.dumps({"unsupported": bad})
