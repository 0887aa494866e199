"""What a model writes for the study prompts (quiz, glossary), cooperative or misbehaving.

``quiz_reply(prompt, modes=..., lang=...)`` answers a quiz prompt the way a model would: one
question for each fact of ``BANK`` that a snippet of the prompt holds (facts of the test papers
and lectures: ``tests.fakes.pdfs``, ``tests.fakes.subtitle_samples`` and the answering tests'
texts).
``modes`` names, question by question (cycling), how it misbehaves:

- ``good``: a correct question;
- ``wrong_answer``: a wrong option marked correct;
- ``duplicate``: two options the same;
- ``long_option``: an option over Telegram's 100 characters;
- ``wrong_language``: the question in English for a Chinese quiz;
- ``english_options``: a Chinese question with whole English sentences as options;
- ``no_citation``: no snippet number and no quote;
- ``invented_quote``: a quote that is in no snippet.

``think=True`` wraps a reasoning block (with JSON-looking text in it) around the reply.
``glossary_reply`` does the same for the glossary prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BANK", "Fact", "glossary_reply", "quiz_reply", "snippets_in", "terms_in"]


@dataclass(frozen=True)
class Fact:
    quote: str
    zh: str
    en: str
    options_zh: tuple[str, ...]
    options_en: tuple[str, ...]
    why_zh: str
    why_en: str
    difficulty: str = "easy"


BANK: tuple[Fact, ...] = (
    Fact(
        "splits the sequence into blocks of 64 tokens",
        "在这篇论文的方法里，每个块有多少个 token？",
        "In the paper's method, how many tokens does each block hold?",
        ("64", "8", "128", "16"),
        ("64", "8", "128", "16"),
        "论文写明序列被切成每块 64 个 token。",
        "The paper splits the sequence into blocks of 64 tokens.",
    ),
    Fact(
        "The cost is therefore linear in the length of the document",
        "稀疏注意力的计算代价和文档长度是什么关系？",
        "How does the cost of sparse attention grow with the document length?",
        (
            "线性增长（linear）",
            "平方增长（square）",
            "指数增长（exponential）",
            "保持不变（constant）",
        ),
        ("Linear in the length", "With the square", "Exponential growth", "Always constant"),
        "每个 token 只看固定数量的其他 token，所以代价是线性的。",
        "Each token looks at a fixed number of others, so the cost is linear.",
        "medium",
    ),
    Fact(
        "the sparse model reaches 91.2 points",
        "在长文档基准上，稀疏模型得了多少分？",
        "What score does the sparse model reach on the long document benchmark?",
        ("91.2", "91.5", "88.0", "93.4"),
        ("91.2", "91.5", "88.0", "93.4"),
        "稀疏模型得 91.2 分，和稠密模型的 91.5 分很接近。",
        "The sparse model reaches 91.2, close to the dense model's 91.5.",
    ),
    Fact(
        "Training takes 3.5 days on eight GPUs",
        "训练稀疏模型用了几天？",
        "How many days does training take?",
        ("3.5 天", "1.5 天", "7 天", "10 天"),
        ("3.5", "1.5", "7", "10"),
        "论文说训练在八块 GPU 上用了 3.5 天。",
        "Training takes 3.5 days on eight GPUs.",
    ),
    Fact(
        "trade a little accuracy for a lot of memory",
        "讨论部分说，稀疏模式牺牲一点准确率，换来了什么？",
        "According to the discussion, what do sparse patterns gain for a little accuracy?",
        (
            "大量内存（a lot of memory）",
            "更多参数（more parameters）",
            "更高分数（higher score）",
            "更快训练（faster training）",
        ),
        ("A lot of memory", "More parameters", "A higher score", "Faster training"),
        "稀疏模式用少许准确率换取大量内存节省。",
        "Sparse patterns trade a little accuracy for a lot of memory.",
        "hard",
    ),
    Fact(
        "Attention lets every token look at the other tokens",
        "讲座里说，注意力让每个 token 做什么？",
        "In the lecture, what does attention let every token do?",
        (
            "查看其他 token（look at the other tokens）",
            "删除 token（delete tokens）",
            "复制自己（copy itself）",
            "跳过上下文（skip context）",
        ),
        ("Look at the other tokens", "Delete the other tokens", "Copy itself", "Skip the context"),
        "讲座说注意力让每个 token 去看其他 token。",
        "The lecture says attention lets each token look at the others.",
        "medium",
    ),
    Fact(
        "without training a separate reward model",
        "DPO 不需要单独训练什么？",
        "What does DPO not need to train separately?",
        (
            "奖励模型（reward model）",
            "语言模型（language model）",
            "分词器（tokenizer）",
            "优化器（optimizer）",
        ),
        ("A reward model", "A language model", "A tokenizer", "An optimizer"),
        "DPO 直接用偏好数据训练，不用先训练奖励模型。",
        "DPO trains on preference pairs directly, with no reward model.",
    ),
    Fact(
        "relies entirely on self-attention",
        "Transformer 完全依靠什么机制？",
        "What does the Transformer rely on entirely?",
        (
            "自注意力（self-attention）",
            "循环（recurrence）",
            "卷积（convolution）",
            "池化（pooling）",
        ),
        ("Self-attention", "Recurrence", "Convolution", "Pooling"),
        "论文说 Transformer 完全依靠自注意力，不用循环结构。",
        "The Transformer relies entirely on self-attention, without recurrence.",
        "medium",
    ),
    Fact(
        "splits text into subword units",
        "分词把文本切成什么？",
        "What does tokenization split text into?",
        (
            "子词单元（subword units）",
            "整句（whole sentences）",
            "段落（paragraphs）",
            "字母（letters）",
        ),
        ("Subword units", "Whole sentences", "Paragraphs", "Letters"),
        "分词把文本切成子词单元。",
        "Tokenization splits text into subword units.",
    ),
    Fact(
        "DPO optimizes preferences directly",
        "讲座里说 DPO 直接优化什么？",
        "In the lecture, what does DPO optimize directly?",
        ("偏好（preferences）", "奖励（rewards）", "损失（losses）", "词表（vocabulary）"),
        ("Preferences", "Rewards", "Losses", "The vocabulary"),
        "讲座说 DPO 直接优化偏好。",
        "The lecture says DPO optimizes preferences directly.",
        "hard",
    ),
)

_SNIPPET = re.compile(r'<snippet n="(\d+)" source="[^"]*">\n(.*?)\n</snippet>', re.S)


def snippets_in(prompt: str) -> dict[int, str]:
    """The numbered snippets of a prompt: number -> text."""
    return {int(n): text for n, text in _SNIPPET.findall(prompt)}


_AGAIN = {"zh": "再想一想：", "en": "Once more: "}


def _times_asked(prompt: str, question: str, prefix: str) -> int:
    """One more than the most rephrased version of ``question`` in the prompt (0: none)."""
    found = re.findall(rf"((?:{re.escape(prefix)})*){re.escape(question)}", prompt)
    return max((len(p) // len(prefix) + 1 for p in found), default=0)


def _question(fact: Fact, n: int, lang: str, mode: str, again: int) -> dict[str, Any]:
    zh = lang == "zh"
    options = list(fact.options_zh if zh else fact.options_en)
    # Asked before (listed in the prompt): a cooperative model rephrases, as it is told to.
    question = (_AGAIN[lang] * again) + (fact.zh if zh else fact.en)
    item: dict[str, Any] = {
        "question": question,
        "options": options,
        "correct": 0,
        "snippet": n,
        "quote": fact.quote,
        "explanation": fact.why_zh if zh else fact.why_en,
        "difficulty": fact.difficulty,
    }
    if mode == "wrong_answer":
        item["correct"] = 2
    elif mode == "duplicate":
        options[3] = options[0]
    elif mode == "long_option":
        options[1] = options[1] + "，" + "而且这个选项写得特别特别长" * 10
    elif mode == "wrong_language":
        item["question"] = fact.en
    elif mode == "english_options":
        item["options"] = [f"It is {o} according to what the paper says" for o in fact.options_en]
    elif mode == "no_citation":
        del item["snippet"], item["quote"]
    elif mode == "invented_quote":
        item["quote"] = "as everybody knows, this is obviously the answer"
    return item


def quiz_reply(
    prompt: str, *, modes: Sequence[str] = ("good",), lang: str = "zh", think: bool = False
) -> str:
    """A reply to the quiz prompt ``prompt``: one question per known fact in its snippets."""
    questions = []
    used: set[str] = set()
    for n, text in snippets_in(prompt).items():
        for fact in (f for f in BANK if f.quote in text and f.quote not in used):
            used.add(fact.quote)
            mode = modes[len(questions) % len(modes)]
            again = _times_asked(prompt, fact.zh if lang == "zh" else fact.en, _AGAIN[lang])
            questions.append(_question(fact, n, lang, mode, again))
    reply = json.dumps({"questions": questions}, ensure_ascii=False)
    if think:
        reply = '<think>Let me draft {"questions": [broken</think>\n' + reply
    return reply


_TERM = re.compile(r"^- (\d+)\. (.*?) / (.*?) \(snippets ([\d, -]+)\)$", re.M)


def terms_in(prompt: str) -> list[tuple[int, str | None, str | None, list[int]]]:
    """The numbered terms of a glossary prompt: (id, en, zh, snippet numbers)."""
    found = []
    for n, en, zh, numbers in _TERM.findall(prompt):
        cited = [int(x) for x in re.findall(r"\d+", numbers)]
        found.append((int(n), None if en == "?" else en, None if zh == "?" else zh, cited))
    return found


def glossary_reply(
    prompt: str, *, mode: str = "good", lang: str = "zh", think: bool = False
) -> str:
    """A reply to the glossary prompt. ``mode``: ``good``; ``wrong_language`` (English
    explanations for Chinese); ``wrong_snippet`` (naming a snippet that does not mention the
    term); ``junk`` (no JSON at all)."""
    if mode == "junk":
        return "Sure! Here is your glossary: attention is important."
    snippets = snippets_in(prompt)
    items = []
    for n, en, zh, cited in terms_in(prompt):
        name = zh or en or "?"
        explanation = (
            f"{name}是材料中讲到的一个关键概念。"
            if lang == "zh" and mode != "wrong_language"
            else f"{en or name} is a key idea the material explains."
        )
        snippet = cited[0] if cited else 1
        if mode == "wrong_snippet":
            snippet = next((s for s in snippets if s not in cited), snippet)
        items.append(
            {
                "id": n,
                "en": en or "Filled English Name",
                "zh": zh or "补上的中文名",
                "explanation": explanation,
                "snippet": snippet,
            }
        )
    reply = json.dumps({"terms": items}, ensure_ascii=False)
    return ("<think>the user wants {terms}</think>" + reply) if think else reply
