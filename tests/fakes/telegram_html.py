"""Telegram's HTML parse mode, as the fake Bot API enforces it.

``parse_html(text)`` follows Telegram's own parser (tdlib's ``parse_html``): the same tag set,
attribute syntax, entity decoding and error messages ("Unsupported start tag "x" at byte
offset 3", "Unmatched end tag …", "Can't find end tag corresponding to start tag b"). It returns
the text the student reads and the entities, or raises ``HtmlError``.

It is stricter than Telegram in one way, on purpose: where Telegram *silently drops* formatting
because entities may not nest that way (a quote inside a quote, anything inside code, code or a
link inside a link) or a link it will not accept (only http(s) and tg:// here), the fake
rejects the message, so a test sees the markup that would be lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Entity", "HtmlError", "check_text", "parse_html", "utf16_len"]

MAX_TEXT = 4096
MAX_CAPTION = 1024

_TAGS = {
    "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
    "span", "pre", "code", "blockquote",
}  # fmt: skip
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\n\r\f\v"
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9.-]*")


class HtmlError(ValueError):
    """Telegram's answer to markup it cannot parse (the Bot API ``description``)."""


@dataclass(frozen=True)
class Entity:
    tag: str
    offset: int  # UTF-16 units, like Telegram
    length: int
    argument: str = ""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entity(text: str, i: int) -> tuple[str, int] | None:
    """The character an HTML entity at ``text[i]`` stands for, and where it ends."""
    if text.startswith("&#", i):
        j = i + 2
        hexa = j < len(text) and text[j] in "xX"
        if hexa:
            j += 1
        digits = re.match(r"[0-9a-fA-F]+" if hexa else r"[0-9]+", text[j:])
        if digits is None or len(digits.group()) >= 10:
            return None
        code = int(digits.group(), 16 if hexa else 10)
        if code == 0 or code > 0x10FFFF:
            return None
        j += len(digits.group())
    else:
        name = re.match(r"[A-Za-z]+", text[i + 1 :])
        if name is None or name.group() not in _NAMED:
            return None
        j = i + 1 + len(name.group())
        code = ord(_NAMED[name.group()])
    if j < len(text) and text[j] == ";":
        j += 1
    return chr(code), j


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """The visible text of Telegram HTML ``text`` and its entities; ``HtmlError`` if invalid."""

    def at(i: int) -> str:
        return text[i] if i < len(text) else ""

    def offset(i: int) -> int:
        return len(text[:i].encode())

    out: list[str] = []
    units = 0
    stack: list[tuple[str, str, int]] = []  # (tag, argument, UTF-16 offset)
    entities: list[Entity] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            decoded = _entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                units += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            out.append(ch)
            units += utf16_len(ch)
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != "/":
            while at(i) and at(i) not in _SPACE and at(i) != ">":
                i += 1
            if not at(i):
                raise HtmlError(
                    f"Can't parse entities: unclosed start tag at byte offset {offset(begin)}"
                )
            tag = text[begin + 1 : i].lower()
            if tag not in _TAGS:
                raise HtmlError(
                    f'Can\'t parse entities: unsupported start tag "{tag}" at byte offset '
                    f"{offset(begin)}"
                )
            argument = ""
            while at(i) != ">":
                while at(i) and at(i) in _SPACE:
                    i += 1
                if at(i) == ">":
                    break
                name_start = i
                while at(i) and at(i) not in _SPACE and at(i) not in "=>":
                    i += 1
                name = text[name_start:i]
                if not name:
                    raise HtmlError(
                        f'Can\'t parse entities: empty attribute name in the tag "{tag}" at byte '
                        f"offset {offset(begin)}"
                    )
                while at(i) and at(i) in _SPACE:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and name == "expandable" and at(i):
                        argument = "expandable"
                        continue
                    raise HtmlError(
                        "Can't parse entities: expected equal sign in declaration of an attribute "
                        f'of the tag "{tag}" at byte offset {offset(begin)}'
                    )
                i += 1
                while at(i) and at(i) in _SPACE:
                    i += 1
                if not at(i):
                    raise HtmlError(
                        f'Can\'t parse entities: unclosed start tag "{tag}" at byte offset '
                        f"{offset(begin)}"
                    )
                if at(i) not in "'\"":
                    token = _TOKEN_CHARS.match(text, i)
                    assert token is not None
                    value = token.group().lower()
                    i = token.end()
                    if at(i) not in _SPACE and at(i) != ">":
                        raise HtmlError(
                            "Can't parse entities: unexpected end of name token at byte offset "
                            f"{offset(i)}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    chars: list[str] = []
                    while at(i) and at(i) != quote:
                        decoded = _entity(text, i) if at(i) == "&" else None
                        if decoded is not None:
                            chars.append(decoded[0])
                            i = decoded[1]
                        else:
                            chars.append(at(i))
                            i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if not at(i):
                    raise HtmlError(
                        f"Can't parse entities: unclosed start tag at byte offset {offset(begin)}"
                    )
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value.removeprefix("language-")
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value.removeprefix("tg-")
                elif tag == "tg-emoji" and name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise HtmlError(
                    'Can\'t parse entities: tag "span" must have class "tg-spoiler" at byte '
                    f"offset {offset(begin)}"
                )
            _check_nesting(tag, argument, [t for t, _, _ in stack], offset(begin))
            stack.append((tag, argument, units))
            i += 1
            continue
        if not stack:
            raise HtmlError(
                f"Can't parse entities: unexpected end tag at byte offset {offset(begin)}"
            )
        i += 1
        while at(i) and at(i) not in _SPACE and at(i) != ">":
            i += 1
        end_tag = text[begin + 2 : i].lower()
        while at(i) and at(i) in _SPACE:
            i += 1
        if at(i) != ">":
            raise HtmlError(
                f"Can't parse entities: unclosed end tag at byte offset {offset(begin)}"
            )
        tag, argument, start = stack.pop()
        if end_tag and end_tag != tag:
            raise HtmlError(
                f"Can't parse entities: unmatched end tag at byte offset {offset(begin)}, "
                f'expected "</{tag}>", found "</{end_tag}>"'
            )
        if units > start:
            entities.append(Entity(tag, start, units - start, argument))
        i += 1
    if stack:
        raise HtmlError(
            f"Can't parse entities: can't find end tag corresponding to start tag {stack[-1][0]}"
        )
    return "".join(out), entities


def _check_nesting(tag: str, argument: str, open_tags: list[str], at: int) -> None:
    """Nesting Telegram would silently undo (see the module docstring)."""
    where = f"at byte offset {at}"
    if tag == "blockquote" and "blockquote" in open_tags:
        raise HtmlError(f"fake Bot API: a quote inside a quote loses its formatting {where}")
    inner_code = open_tags[-1:] == ["pre"] and tag == "code"
    if not inner_code and ("code" in open_tags or "pre" in open_tags):
        raise HtmlError(f'fake Bot API: "{tag}" inside code or pre is dropped {where}')
    if "a" in open_tags and tag in ("a", "code", "pre"):
        raise HtmlError(f'fake Bot API: "{tag}" inside a link is dropped {where}')
    if tag == "a" and not re.match(r"(https?://[^\s/]+|tg://)", argument):
        raise HtmlError(f"fake Bot API: Telegram drops a link to {argument!r} {where}")


def check_text(text: str, parse_mode: str | None, *, limit: int = MAX_TEXT) -> str:
    """What the student reads of ``text`` sent with ``parse_mode``; ``HtmlError`` carries the
    Bot API's description when Telegram would answer 400."""
    visible = parse_html(text)[0] if parse_mode == "HTML" else text
    visible = visible.strip()
    if not visible:
        raise HtmlError("message text is empty")
    if utf16_len(visible) > limit:
        raise HtmlError(
            "message is too long" if limit == MAX_TEXT else "message caption is too long"
        )
    return visible
