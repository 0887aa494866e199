"""parse_pdf on generated PDFs: text, noise removal, chunks, progress and every bad input."""

from __future__ import annotations

import hashlib
import re

import pytest

from ingest.paper.pdf import ocr_available, parse_pdf
from kernel.errors import (
    DamagedFileError,
    EmptyFileError,
    InputError,
    NotAPDFError,
    NoTextError,
    PasswordRequiredError,
    TooLargeError,
    WrongPasswordError,
)
from kernel.models import ParsedSource, SourceKind
from tests.fakes.pdfs import (
    INJECTION_TEXT,
    make_chinese_pdf,
    make_encrypted_pdf,
    make_garbage_bytes,
    make_injection_pdf,
    make_paper_pdf,
    make_scanned_pdf,
    make_truncated_pdf,
)
from tests.fakes.requirements import missing


def _all_text(src: ParsedSource) -> str:
    return "\n".join(c.text for c in src.chunks)


def test_paper_source_shape_and_fingerprint() -> None:
    data = make_paper_pdf()
    src = parse_pdf(data, filename="sparse.pdf")
    assert src.kind is SourceKind.PAPER
    assert src.fingerprint == hashlib.sha256(data).hexdigest()
    assert src.title == "Sparse Attention for Beginners"
    assert src.warnings == ()
    assert [c.ordinal for c in src.chunks] == list(range(len(src.chunks)))
    assert all(c.page is not None and 1 <= c.page <= (c.page_end or 0) <= 3 for c in src.chunks)
    pages = {p for c in src.chunks for p in range(c.page or 0, (c.page_end or 0) + 1)}
    assert pages == {1, 2, 3}


def test_sections_and_pages_of_chunks() -> None:
    src = parse_pdf(make_paper_pdf())
    by_section = {c.section: c for c in src.chunks}
    assert {"Abstract", "1 Introduction", "2 Method", "2.1 Scaled Attention", "3 Results"} <= set(
        by_section
    )
    assert "divided by the square root" in by_section["2.1 Scaled Attention"].text
    assert by_section["1 Introduction"].page == 1
    assert src.chunks[-1].section == "5 Discussion"
    assert src.chunks[-1].page_end == 3


def test_hyphenation_joined_and_sentences_whole() -> None:
    text = _all_text(parse_pdf(make_paper_pdf()))
    assert "standard transformer with sparse attention." in text
    assert "trans-" not in text
    assert "Vaswani et al. (2017). This keeps" in text  # one paragraph, abbreviation intact


def test_running_header_page_numbers_and_arxiv_stamp_are_dropped() -> None:
    src = parse_pdf(make_paper_pdf(filler_pages=3))
    text = _all_text(src)
    assert text.count("Sparse Attention for Beginners") == 1  # the title, not 3 headers
    assert "arXiv:2101" not in text
    assert not any(re.fullmatch(r"\d+", line) for line in text.splitlines())
    assert src.paper is not None
    assert src.paper.arxiv_id == "2101.00001"


def test_review_line_numbers_are_dropped() -> None:
    plain = parse_pdf(make_paper_pdf(line_numbers=False))
    numbered = parse_pdf(make_paper_pdf(line_numbers=True))
    assert [c.text for c in numbered.chunks] == [c.text for c in plain.chunks]


def test_chinese_pdf_text_is_clean() -> None:
    src = parse_pdf(make_chinese_pdf())
    text = _all_text(src)
    assert "大多数注意力模型" in text  # Kangxi radical ⼤ normalised
    assert "⼤" not in text
    assert not re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", text)
    assert "再用softmax函数" in text
    assert {c.section for c in src.chunks} == {"3.1 注意力模型", "3.2 自注意力"}
    assert any(c.page == 1 and c.page_end == 2 for c in src.chunks)
    assert all(c.text.endswith(("。", "！", "？", "；")) for c in src.chunks)


def test_progress_is_reported_per_page() -> None:
    calls: list[tuple[int, int]] = []
    parse_pdf(make_paper_pdf(), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_injection_text_is_kept_verbatim_as_paper_content() -> None:
    assert INJECTION_TEXT in _all_text(parse_pdf(make_injection_pdf()))


# --- bad input ------------------------------------------------------------------------------


def _bilingual(err: InputError) -> None:
    assert re.search(r"[\u4e00-\u9fff]", err.message("zh"))
    assert re.search(r"[A-Za-z]{4}", err.message("en"))
    assert err.message("zh") != err.message("en")
    assert not err.retryable


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", EmptyFileError),
        (make_garbage_bytes(), NotAPDFError),
        ("这不是 PDF，只是文字。".encode() * 10, NotAPDFError),
        (make_truncated_pdf(), DamagedFileError),
        (b"%PDF-1.7\n" + b"\x00garbage" * 200, DamagedFileError),
        (make_encrypted_pdf("pw"), PasswordRequiredError),
        (make_scanned_pdf(text_pages=0, scanned_pages=2), NoTextError),
    ],
)
def test_bad_input_raises_a_clear_bilingual_error(data: bytes, error: type[InputError]) -> None:
    with pytest.raises(error) as info:
        parse_pdf(data, filename="paper.pdf", ocr=False)
    _bilingual(info.value)


def test_not_a_pdf_names_the_file() -> None:
    with pytest.raises(NotAPDFError) as info:
        parse_pdf(make_garbage_bytes(), filename="thesis.pdf")
    assert "thesis.pdf" in info.value.message("zh")
    assert "thesis.pdf" in info.value.message("en")


def test_password_protected_pdf() -> None:
    data = make_encrypted_pdf("s3cret")
    with pytest.raises(WrongPasswordError) as info:
        parse_pdf(data, password="nope")
    _bilingual(info.value)
    src = parse_pdf(data, password="s3cret")
    assert src.title == "Sparse Attention for Beginners"
    assert src.chunks


def test_owner_password_only_pdf_opens_without_password() -> None:
    src = parse_pdf(make_encrypted_pdf("x", owner_only=True))
    assert src.title == "Sparse Attention for Beginners"


def test_too_large_names_the_limit() -> None:
    data = make_paper_pdf()
    with pytest.raises(TooLargeError) as info:
        parse_pdf(data, max_bytes=1000)
    assert "MB" in info.value.message("en")
    with pytest.raises(TooLargeError) as info:
        parse_pdf(data, max_pages=2)
    assert "2" in info.value.message("zh")
    assert "3" in info.value.message("zh")
    _bilingual(info.value)


def test_scanned_pages_without_ocr_are_named_in_a_warning() -> None:
    src = parse_pdf(make_scanned_pdf(text_pages=2, scanned_pages=2), ocr=False)
    assert src.paper is not None
    assert src.paper.pages == 4
    assert {(c.page, c.page_end) for c in src.chunks} == {(1, 2)}
    (warning,) = src.warnings
    zh, en = warning.split(" / ")
    assert "第 3–4 页" in zh
    assert "3–4" in en
    assert "scanned" in en


def test_scanned_pages_are_ocred_when_tesseract_is_available() -> None:
    if not ocr_available():
        missing(
            "Tesseract",
            "apt-get install tesseract-ocr tesseract-ocr-chi-sim (.ci/run installs it)",
            optional_locally=True,
        )
    src = parse_pdf(make_scanned_pdf(text_pages=0, scanned_pages=1), ocr_languages="eng")
    assert "attention" in _all_text(src).lower()
    assert src.chunks[0].page == 1
    assert "OCR" in src.warnings[0]
