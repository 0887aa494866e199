"""The error tree: messages beside their class, filled in, picklable across processes."""

from __future__ import annotations

import pickle
from typing import ClassVar

from kernel.errors import InputError, PaperTutorError


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
