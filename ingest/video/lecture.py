"""Reading a lecture: a link or a recording in, a timestamped video source out.

For a link: YouTube's transcript API first (fast, no download), then the platform's own caption
tracks through yt-dlp (a person's before a machine's, the preferred language first), and only
when there are none, speech recognition of the audio track. For a recording (a video or audio
file): speech recognition. Either way the result is the same kind of source as a subtitle file:
chunks with start and end seconds, so answers cite the second and open the video there.

Recognition is slow (minutes per lecture), so it is done once per video: finished recognitions
are kept in a ``TranscriptCache`` by the video's identity, and a second chat sending the same
lecture reads it from there. A recording over the length limit is refused before anything is
downloaded or recognised. Downloads go to a private folder under the data directory that is
removed afterwards, whatever happens; nothing reaches the store before the whole transcript
exists, so a cancel, a failure or a kill leaves no half source.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePath

from ingest.video import audio
from ingest.video.captions import choose_transcript
from ingest.video.downloader import Chapter, MediaDownloader, RemoteMedia
from ingest.video.speech import Recognition, SpeechRecognizer
from ingest.video.subtitles import Cue, parse_subtitles
from ingest.video.transcript import chunk_cues
from ingest.video.transcript_cache import TranscriptCache
from kernel.errors import (
    CancelledByStudentError,
    MediaTooLongError,
    NoAudioError,
    SubtitleFormatError,
    UnsupportedLinkError,
    VideoUnavailableError,
)
from kernel.language import transcript_language
from kernel.links import VideoLink, bare_url, parse_video_link
from kernel.models import Chunk, ParsedSource, SourceKind, VideoMeta

__all__ = ["LectureReader", "Progress", "YouTubeFetch", "file_fingerprint"]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: "probing", "fetching" (captions), "downloading" (bytes),
"waiting" (for the recogniser), "transcribing" (seconds of the recording; total 0 when
unknown)."""

YouTubeFetch = Callable[[VideoLink], ParsedSource]

_STALE_S = 12 * 3600  # leftovers of a killed process, older than any recognition can take


def file_fingerprint(path: Path) -> str:
    """The sha256 of a file, read in pieces (a recording can be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(2**20):
            digest.update(piece)
    return digest.hexdigest()


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise CancelledByStudentError("cancelled")


def _with_chapters(chunks: list[Chunk], chapters: Sequence[Chapter]) -> list[Chunk]:
    """Name each chunk's chapter (the one its start falls in) as its section."""
    if not chapters:
        return chunks
    named = []
    for chunk in chunks:
        start = chunk.start_s if chunk.start_s is not None else 0.0
        current = [c for c in chapters if c.start_s <= start + 0.5]
        title = current[-1].title if current else None
        named.append(chunk.model_copy(update={"section": title}) if title else chunk)
    return named


class LectureReader:
    """Turns lecture links and recordings into video sources (synchronous: run in a thread)."""

    def __init__(
        self,
        *,
        downloader: MediaDownloader,
        recognizer: SpeechRecognizer,
        cache: TranscriptCache,
        work_dir: Path,
        languages: Sequence[str],
        max_seconds: float | None = None,
        youtube: YouTubeFetch | None = None,
    ) -> None:
        self._downloader = downloader
        self.recognizer = recognizer
        self._cache = cache
        self._work_dir = work_dir
        self._languages = tuple(languages)
        self._max_seconds = max_seconds
        self._youtube = youtube
        self._sweep()

    # -- scratch space ------------------------------------------------------------------------

    def _sweep(self) -> None:
        """Remove what a killed process left in the scratch folder."""
        if not self._work_dir.is_dir():
            return
        cutoff = time.time() - _STALE_S
        for leftover in self._work_dir.iterdir():
            try:
                if leftover.stat().st_mtime < cutoff:
                    if leftover.is_dir():
                        shutil.rmtree(leftover, ignore_errors=True)
                    else:
                        leftover.unlink()
            except OSError:
                continue

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A private folder for one download, removed afterwards whatever happens."""
        folder = self._work_dir / uuid.uuid4().hex
        folder.mkdir(parents=True)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # -- limits -------------------------------------------------------------------------------

    def check_length(self, seconds: float | None) -> None:
        """Refuse a recording longer than the limit (before downloading or recognising it)."""
        limit = self._max_seconds
        if limit is not None and seconds is not None and seconds > limit:
            raise MediaTooLongError("too_long", minutes=int(seconds // 60), limit=int(limit // 60))

    # -- links --------------------------------------------------------------------------------

    def read_link(
        self,
        text: str,
        *,
        hint: str | None = None,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> ParsedSource:
        """The lecture behind the first video link in ``text`` (or ``text`` as a bare link)."""
        report = progress or (lambda stage, done, total: None)
        link = parse_video_link(text)
        url = link.url if link is not None else bare_url(text)
        if url is None:
            raise UnsupportedLinkError("not_video_link")
        if link is not None and link.platform == "youtube" and self._youtube is not None:
            report("fetching", 0, 1)
            try:
                return self._youtube(link)
            except VideoUnavailableError as exc:
                # Blocked, or no transcript: the platform's tracks or the sound may still work.
                log.info("YouTube transcript API failed for %s (%s); trying yt-dlp", url, exc)
        _check(cancel)
        report("probing", 0, 1)
        media = self._downloader.probe(url)
        if media.live:
            raise VideoUnavailableError("live")
        captioned = self._from_captions(media, report)
        if captioned is not None:
            return captioned
        _check(cancel)
        recognition = self._cached_or(
            media.fingerprint,
            media.duration_s,
            lambda: self._download_and_recognise(media, hint, report, cancel),
            report,
        )
        return self._source(
            recognition,
            fingerprint=media.fingerprint,
            title=media.title,
            url=media.url,
            video_id=media.video_id or None,
            platform=media.platform,
            uploader=media.uploader,
            chapters=media.chapters,
        )

    def _from_captions(self, media: RemoteMedia, report: Progress) -> ParsedSource | None:
        choice = choose_transcript(list(media.captions), self._languages)
        if choice is None:
            return None
        track, other_language = choice
        report("fetching", 0, 1)
        try:
            cues = parse_subtitles(self._downloader.caption(track), f"captions.{track.ext}")
        except (SubtitleFormatError, VideoUnavailableError) as exc:
            log.info("captions of %s unusable (%s); recognising the speech", media.url, exc)
            return None
        if not any(c.text.strip() for c in cues):
            return None
        warnings = []
        if other_language:
            warnings.append(
                f"这个视频没有中文或英文字幕，我使用了 {track.language_code} 字幕。 / "
                f"The video has no Chinese or English captions; I used the "
                f"{track.language_code} ones."
            )
        if track.is_generated:
            warnings.append(
                "字幕是视频网站自动生成的，可能有识别错误。 / "
                "The captions were generated automatically by the site and may contain errors."
            )
        ends = [c.end_s for c in cues if c.end_s is not None]
        meta = VideoMeta(
            title=media.title,
            url=media.url,
            video_id=media.video_id or None,
            platform=media.platform,
            language=track.language_code,
            auto_generated=track.is_generated,
            duration_s=media.duration_s or (max(ends) if ends else None),
            uploader=media.uploader,
        )
        chunks = _with_chapters(chunk_cues(cues), media.chapters)
        return ParsedSource(
            kind=SourceKind.VIDEO,
            fingerprint=media.fingerprint,
            video=meta,
            chunks=tuple(chunks),
            warnings=tuple(warnings),
        )

    def _download_and_recognise(
        self,
        media: RemoteMedia,
        hint: str | None,
        report: Progress,
        cancel: threading.Event | None,
    ) -> Recognition:
        with self.scratch() as folder:
            report("downloading", 0, 0)
            path = self._downloader.download_audio(
                media,
                folder,
                lambda done, total: report("downloading", done, total or 0),
                cancel,
            )
            duration = media.duration_s or self._probe(path).duration_s
            self.check_length(duration)
            return self._recognise(path, duration, hint, report, cancel)

    # -- files --------------------------------------------------------------------------------

    def read_file(
        self,
        path: Path,
        *,
        filename: str | None = None,
        title: str | None = None,
        hint: str | None = None,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> ParsedSource:
        """The lecture in an audio or video file."""
        report = progress or (lambda stage, done, total: None)
        report("probing", 0, 1)
        info = self._probe(path)
        fingerprint = file_fingerprint(path)
        recognition = self._cached_or(
            fingerprint,
            info.duration_s,
            lambda: self._recognise(path, info.duration_s, hint, report, cancel),
            report,
        )
        stem = PurePath(filename).stem if filename else ""
        return self._source(
            recognition,
            fingerprint=fingerprint,
            title=(title or stem or "讲座录音").strip(),
            filename=filename,
        )

    def _probe(self, path: Path) -> audio.AudioInfo:
        info = audio.probe(path)
        if not info.has_audio:
            raise NoAudioError("no_audio")
        return info

    # -- recognition --------------------------------------------------------------------------

    def _cached_or(
        self,
        identity: str,
        duration_s: float | None,
        recognise: Callable[[], Recognition],
        report: Progress,
    ) -> Recognition:
        cached = self._cache.get(identity)
        if cached is not None:
            return cached
        self.check_length(duration_s)
        report("waiting", 0, 0)
        with self._cache.claim(identity):  # another chat may be recognising the same video
            cached = self._cache.get(identity)
            if cached is not None:
                return cached
            recognition = recognise()
            self._cache.put(identity, recognition)
            return recognition

    def _recognise(
        self,
        path: Path,
        duration_s: float | None,
        hint: str | None,
        report: Progress,
        cancel: threading.Event | None,
    ) -> Recognition:
        total = int(duration_s or 0)

        def position(done: float, _: float | None) -> None:
            report("transcribing", int(done), total)

        return self.recognizer.recognise(
            path, hint=hint, duration_s=duration_s, progress=position, cancel=cancel
        )

    def hear(self, path: Path, *, hint: str | None, max_seconds: float) -> str:
        """The words of a short recording (a voice question), recognised in the voice lane."""
        info = self._probe(path)
        if info.duration_s is not None and info.duration_s > max_seconds:
            raise MediaTooLongError(
                "voice_too_long", seconds=int(info.duration_s), limit=int(max_seconds)
            )
        recognition = self.recognizer.recognise(
            path, hint=hint, duration_s=info.duration_s, lane="voice"
        )
        return recognition.text

    # -- the source ---------------------------------------------------------------------------

    def _source(
        self,
        recognition: Recognition,
        *,
        fingerprint: str,
        title: str,
        url: str | None = None,
        video_id: str | None = None,
        platform: str | None = None,
        filename: str | None = None,
        uploader: str | None = None,
        chapters: Sequence[Chapter] = (),
    ) -> ParsedSource:
        cues: list[Cue] = list(recognition.cues)
        chunks = _with_chapters(chunk_cues(cues), chapters)
        ends = [c.end_s for c in cues if c.end_s is not None]
        warnings = [
            "这份文字稿是语音识别自动生成的（没有可用的字幕），个别词句可能听错。 / "
            "This transcript was made by speech recognition (there were no captions); some "
            "words may be misheard."
        ]
        if recognition.approximate_times:
            warnings.append(
                "语音识别服务没有给出逐句时间，引用的时间点只精确到几分钟。 / "
                "The recognition service gave no per-sentence times, so cited times are only "
                "accurate to a few minutes."
            )
        language = recognition.language or transcript_language(" ".join(c.text for c in cues))
        meta = VideoMeta(
            title=title or "讲座录音",
            url=url,
            video_id=video_id,
            platform=platform,
            language=language,
            auto_generated=None,
            duration_s=recognition.duration_s or (max(ends) if ends else None),
            filename=filename,
            transcribed=True,
            asr_model=recognition.model,
            uploader=uploader,
        )
        return ParsedSource(
            kind=SourceKind.VIDEO,
            fingerprint=fingerprint,
            video=meta,
            chunks=tuple(chunks),
            warnings=tuple(warnings),
        )
