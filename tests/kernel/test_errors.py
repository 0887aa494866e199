"""The error tree: messages beside their class, filled in, picklable across processes."""

from __future__ import annotations

import pickle
import re
from typing import ClassVar

from kernel.errors import InputError, PaperTutorError, VideoUnavailableError
from kernel.language import has_cjk


class _DemoError(InputError):
    MESSAGES: ClassVar = {"too_big": ("文件有 {mb} MB，太大了。", "The file is {mb} MB: too big.")}


def test_a_keyed_message_is_filled_in_both_languages() -> None:
    err = _DemoError("too_big", mb=30)
    assert err.message("zh") == "文件有 30 MB，太大了。"
    assert err.message("en") == "The file is 30 MB: too big."
    assert err.key == "too_big"
    assert not err.retryable


def test_finished_texts_and_retryable_override() -> None:
    err = PaperTutorError("中文", "English", retryable=True)
    assert (err.message("zh"), err.message("en"), err.retryable, err.key) == (
        "中文",
        "English",
        True,
        None,
    )


def test_errors_survive_pickling_with_their_attributes() -> None:
    err = _DemoError("too_big", mb=30, retryable=True)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is _DemoError
    assert back.message("en") == "The file is 30 MB: too big."
    assert back.retryable
    assert back.key == "too_big"


def _all_error_classes() -> list[type[PaperTutorError]]:
    found: list[type[PaperTutorError]] = []
    pending: list[type[PaperTutorError]] = [PaperTutorError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [c for c in found if c.__module__ == "kernel.errors"]


def test_every_keyed_message_has_both_languages_with_the_same_blanks() -> None:
    blanks = re.compile(r"{(\w+)}")
    keyed = [
        (cls, key, zh, en) for cls in _all_error_classes() for key, (zh, en) in cls.MESSAGES.items()
    ]
    assert len(keyed) >= 20
    for cls, key, zh, en in keyed:
        assert zh.strip(), (cls, key)
        assert en.strip(), (cls, key)
        # A value written per language is a pair of blanks, ``listing_zh`` / ``listing_en``.
        zh_blanks = sorted(re.sub(r"_zh$", "_LANG", b) for b in blanks.findall(zh))
        en_blanks = sorted(re.sub(r"_en$", "_LANG", b) for b in blanks.findall(en))
        assert zh_blanks == en_blanks, (cls, key)
        assert not any(b.endswith("_en") for b in blanks.findall(zh)), (cls, key)
        assert not any(b.endswith("_zh") for b in blanks.findall(en)), (cls, key)
        assert has_cjk(zh), (cls, key)
        assert not has_cjk(en), (cls, key)


def test_video_failures_always_say_what_to_send_instead() -> None:
    for key in VideoUnavailableError.MESSAGES:
        error = VideoUnavailableError(key)
        assert "字幕文件" in error.message("zh")
        assert "subtitle file" in error.message("en")
