"""Read a paper's metadata (title, authors, venue, ids, abstract) from its first page.

Works on the visual lines the PDF layer extracted (with font sizes) plus the PDF's own metadata
dictionary. Every field that is not clearly stated stays None / empty: a wrong title or author
list shown to a student is worse than "unknown".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ingest.text import is_cjk, join_lines, match_heading
from kernel.models import PaperMeta

__all__ = ["Line", "extract_meta", "looks_like_real_title"]


@dataclass(frozen=True)
class Line:
    """One visual line of a page, as the PDF layer sees it (coordinates in points)."""

    text: str
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool = False
    vertical: bool = False
    parts: tuple[str, ...] = ()  # pieces separated by wide gaps, superscripts removed


_ARXIV = re.compile(r"arXiv\s*:\s*(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", re.I)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)")
_DOI_CUE = re.compile(r"(?:doi\s*:?\s*|doi\.org/)(10\.\d{4,9}/[^\s\"<>]+)", re.I)
_VENUES = (
    "NeurIPS|NIPS|ICML|ICLR|ACL|EMNLP|NAACL|COLING|EACL|AACL|TACL|CVPR|ICCV|ECCV|AAAI|IJCAI|"
    "KDD|SIGIR|WWW|WSDM|CIKM|ICASSP|INTERSPEECH|Interspeech|UAI|AISTATS|COLM|MICCAI|ICRA|IROS|"
    "CoRL|SIGGRAPH|CHI|MLSys|BMVC|WACV|VLDB|SIGMOD|ICDE"
)
_VENUE_YEAR = re.compile(rf"\b({_VENUES})\s*['’]?\s*((?:19|20)\d\d)\b")
_LONG_VENUES = (
    ("Association for Computational Linguistics", "ACL"),
    ("Empirical Methods in Natural Language Processing", "EMNLP"),
    ("North American Chapter", "NAACL"),
    ("Neural Information Processing Systems", "NeurIPS"),
    ("International Conference on Machine Learning", "ICML"),
    ("International Conference on Learning Representations", "ICLR"),
    ("Computer Vision and Pattern Recognition", "CVPR"),
)
_PROCEEDINGS = re.compile(r"Proceedings of (?:the )?(.{5,160}?)(?:,|\(|$)", re.M)
_JOURNAL = re.compile(
    r"((?:[A-Z][A-Za-z&-]*\s+)*(?:Journal|Transactions)\s+(?:of|on)\s+[A-Z][A-Za-z&\s-]+?)"
    r"\s*(?:\d+\s*)?\(((?:19|20)\d\d)\)"
)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_ABSTRACT = re.compile(r"^(?:abstract|摘\s*要)(?=$|[\s.:：—–-])[\s.:：—–-]*", re.I)
_STOP_ABSTRACT = re.compile(r"^(?:keywords|key words|index terms|关键词|关键字|ccs concepts)", re.I)
_ORG = re.compile(
    r"universit|institut|\blab\b|laborator|research|\binc\b|corp|department|dept\b|school|"
    r"college|cent(?:er|re)|academy|foundation|company|\bltd\b|faculty|hospital|"
    r"google|microsoft|openai|deepmind|\bmeta\b|facebook|amazon|baidu|alibaba|tencent|huawei|"
    r"nvidia|\bibm\b|apple|anthropic|大学|学院|研究院|研究所|实验室|公司|中心",
    re.I,
)
_SKIP = re.compile(r"@|https?://|www\.|^editors?:|equal contribution|corresponding", re.I)
_MARKS = re.compile(r"[∗*†‡§¶♠♣♥♦♮⋆★✝✉#\d]+")
_PARTICLES = frozenset(
    [
        "van",
        "von",
        "de",
        "der",
        "den",
        "da",
        "di",
        "del",
        "della",
        "la",
        "le",
        "du",
        "bin",
        "al",
        "dos",
        "das",
        "y",
    ]
)
_FAKE_TITLE = re.compile(
    r"^(?:microsoft\s+\w+\s*-|untitled|document\d*$|title$|slide|powerpoint)|"
    r"\.(?:docx?|pdf|tex|dvi|pptx?|rtf|odt)\s*$",
    re.I,
)


def looks_like_real_title(title: str | None) -> bool:
    """True unless the PDF metadata title is empty, a file name or an editor's placeholder."""
    if not title:
        return False
    t = title.strip()
    has_words = len(t.split()) >= 2 or sum(map(is_cjk, t)) >= 4
    return len(t) >= 6 and has_words and not _FAKE_TITLE.search(t)


def _find_title(lines: Sequence[Line], body_size: float, height: float) -> list[Line]:
    """The run of largest-font lines in the upper part of the page, if clearly larger."""
    flat = [ln for ln in lines if not ln.vertical and ln.y0 < height * 0.67]
    for size in sorted({round(ln.size, 1) for ln in flat}, reverse=True)[:3]:
        if size < body_size * 1.15:
            return []
        run: list[Line] = []
        for ln in flat:
            if abs(ln.size - size) <= 0.6:
                if run and ln.y0 - run[-1].y1 > size * 2:
                    break
                run.append(ln)
            elif run:
                break
        text = " ".join(ln.text for ln in run)
        letters = sum(ch.isalpha() for ch in text)
        if letters >= 4 and (len(text.split()) >= 2 or sum(map(is_cjk, text)) >= 4):
            return run if len(text) <= 300 else []
    return []


def _name(candidate: str) -> str | None:
    """A person's name, or None if the text does not look like one."""
    name = _MARKS.sub("", candidate).strip(" ,;.:")
    name = re.sub(r"\s+", " ", name)
    if re.fullmatch(r"[\u4e00-\u9fff·]{2,5}", name):
        return name
    tokens = name.split()
    if not 2 <= len(tokens) <= 5 or len(name) > 40 or _ORG.search(name):
        return None
    for tok in tokens:
        if tok.lower() in _PARTICLES:
            continue
        if not (tok[0].isupper() and re.fullmatch(r"[^\W\d_][\w'’.-]*", tok)):
            return None
    return name


def _people(region: Sequence[Line]) -> tuple[list[str], list[str]]:
    authors: list[str] = []
    affiliations: list[str] = []
    for ln in region:
        for part in ln.parts or (ln.text,):
            part = part.strip()
            if not part or _SKIP.search(part) or part[0] in "∗*†‡§¶":
                continue
            if _ORG.search(part):
                aff = re.sub(r"^[\d∗*†‡§¶,\s]+", "", part).strip(" ,;")
                if aff and aff not in affiliations:
                    affiliations.append(aff)
                continue
            pieces = re.split(r",|;|，|、|\band\b|&", part)
            names = [_name(p) for p in pieces if p.strip(" ∗*†‡§¶\u00a0")]
            for n in names:
                if n and n not in authors:
                    authors.append(n)
    return authors, affiliations


def _abstract(lines: Sequence[Line], start: int, first_rest: str) -> str | None:
    texts = [first_rest] if first_rest else []
    size: float | None = None
    for ln in lines[start + 1 :]:
        if ln.vertical:
            continue
        if _STOP_ABSTRACT.match(ln.text) or (match_heading(ln.text) and (ln.bold or not texts)):
            break
        if size is not None and abs(ln.size - size) > 1.2:
            break
        size = ln.size if size is None else size
        texts.append(ln.text)
        if sum(map(len, texts)) > 5000:
            break
    abstract = join_lines(texts).strip()
    return abstract if len(abstract) >= 40 else None


def _venue(text: str, bands: str) -> tuple[str | None, int | None]:
    for source in (bands, text):
        m = _VENUE_YEAR.search(source)
        if m:
            return m.group(1), int(m.group(2))
    for m in _PROCEEDINGS.finditer(text):
        phrase = m.group(1).strip()
        years = _YEAR.findall(text[m.start() : m.end() + 200])
        venue = next((short for long, short in _LONG_VENUES if long in phrase), None)
        if years:
            return venue or f"Proceedings of the {phrase}"[:160], int(years[-1])
    m2 = _JOURNAL.search(text)
    if m2:
        return m2.group(1).strip(), int(m2.group(2))
    return None, None


def extract_meta(
    lines: Sequence[Line],
    pdf_metadata: Mapping[str, str] | None,
    *,
    body_size: float,
    page_height: float,
    trust_fonts: bool = True,
) -> PaperMeta:
    """Metadata from the lines of the first page that has text (in reading order).

    With ``trust_fonts=False`` (an OCR'd page) title and authors come only from the PDF's
    metadata, since OCR line heights are not font sizes."""
    info = pdf_metadata or {}
    flat = [ln for ln in lines if not ln.vertical]
    title_lines = _find_title(flat, body_size, page_height) if trust_fonts else []
    title = join_lines([ln.text for ln in title_lines]) or None
    if title and title.startswith("第"):
        title = match_heading(title) or title
    if title is None and looks_like_real_title(info.get("title")):
        title = info["title"].strip()

    abs_idx = next((i for i, ln in enumerate(flat) if _ABSTRACT.match(ln.text)), None)
    abstract = None
    if abs_idx is not None:
        rest = _ABSTRACT.sub("", flat[abs_idx].text, count=1)
        abstract = _abstract(flat, abs_idx, rest)
    authors: list[str] = []
    affiliations: list[str] = []
    if title_lines:
        start = flat.index(title_lines[-1]) + 1
        end = abs_idx
        if end is None:  # no abstract: people sit before the first numbered section, if any
            end = next((i for i, ln in enumerate(flat) if ln.bold and match_heading(ln.text)), 0)
        if end > start:
            authors, affiliations = _people(flat[start:end])
    if not authors and info.get("author") and looks_like_real_title(info.get("title")):
        authors = [a.strip() for a in re.split(r";|,| and ", info["author"]) if _name(a)]

    text = "\n".join(ln.text for ln in lines)
    bands = "\n".join(
        ln.text
        for ln in lines
        if ln.vertical or ln.y1 > page_height * 0.85 or ln.y0 < 0.1 * page_height
    )
    meta_text = " ".join(str(info.get(k) or "") for k in ("subject", "keywords"))
    arxiv = _ARXIV.search("\n".join(ln.text for ln in lines if ln.vertical) or "") or _ARXIV.search(
        bands + "\n" + meta_text
    )
    doi_m = _DOI_CUE.search(text) or _DOI.search(bands + "\n" + meta_text)
    arxiv_id = arxiv.group(1) if arxiv else None
    doi = doi_m.group(1).rstrip(".,;)]}") if doi_m else None
    venue, year = _venue(text, bands)
    if venue is None and arxiv_id and re.match(r"\d{4}\.", arxiv_id):
        venue, year = "arXiv", 2000 + int(arxiv_id[:2])
    link = f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None
    if link is None and doi:
        link = f"https://doi.org/{doi}"
    return PaperMeta(
        title=title,
        authors=tuple(authors),
        affiliations=tuple(affiliations),
        venue=venue,
        year=year,
        arxiv_id=arxiv_id,
        doi=doi,
        link=link,
        abstract=abstract,
    )
