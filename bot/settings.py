"""Typed settings, loaded once from the environment and ``.env``.

Grouped by the outside system they configure. The composition root reads them and hands plain
values to adapters and services; nothing else imports this module's ``load_settings``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kernel.errors import ConfigError

__all__ = [
    "ASRSettings",
    "EmbeddingSettings",
    "IngestSettings",
    "LLMSettings",
    "ReportSettings",
    "Settings",
    "StorageSettings",
    "TelegramSettings",
    "load_settings",
]

DEFAULT_TRANSCRIPT_LANGUAGES = (
    "zh-Hans",
    "zh-CN",
    "zh",
    "zh-SG",
    "zh-Hant",
    "zh-TW",
    "zh-HK",
    "en",
)


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class StorageSettings(BaseSettings):
    """Where sources, chunks, notes and history live."""

    model_config = _config("PAPERTUTOR_")

    data_dir: Path = Field(Path("./data"), description="data directory; embedded Qdrant lives here")
    qdrant_url: str | None = Field(None, description="Qdrant server URL; unset = embedded Qdrant")
    qdrant_api_key: SecretStr | None = Field(None, description="API key of the Qdrant server")
    collection_prefix: str = Field("papertutor", description="prefix of the Qdrant collections")
    qdrant_wait_s: float = Field(
        30.0, ge=0, description="seconds to wait at start-up for the Qdrant server"
    )

    @property
    def qdrant_path(self) -> Path:
        return self.data_dir / "qdrant"

    @property
    def papers_path(self) -> Path:
        """Where papers' PDFs and figures are kept (always on this machine's disk)."""
        return self.data_dir / "papers"


class EmbeddingSettings(BaseSettings):
    """The dense embedding model (fastembed)."""

    model_config = _config("PAPERTUTOR_EMBEDDING_")

    model: str = Field(
        "jinaai/jina-embeddings-v2-base-zh", description="fastembed model name (Chinese+English)"
    )
    model_path: Path | None = Field(
        None, description="local fastembed-compatible ONNX directory used instead of a download"
    )
    cache_dir: Path | None = Field(None, description="model download cache (default: fastembed's)")
    batch_size: int = Field(16, ge=1, le=256, description="passages per embedding batch")
    url: str | None = Field(
        None,
        description="OpenAI-compatible /v1/embeddings endpoint used instead of fastembed; "
        "the model name is sent as `model`",
    )
    api_key: SecretStr | None = Field(None, description="API key of the embeddings endpoint")
    query_prefix: str = Field("", description='prefix for queries (e5 models: "query: ")')
    passage_prefix: str = Field("", description='prefix for passages (e5: "passage: ")')
    threads: int | None = Field(None, ge=1, description="ONNX threads (default: all cores)")


class IngestSettings(BaseSettings):
    """Limits and options for papers and videos."""

    model_config = _config("PAPERTUTOR_")

    max_file_mb: float = Field(50.0, gt=0, description="largest PDF accepted, MB")
    max_subtitle_mb: float = Field(5.0, gt=0, description="largest subtitle file accepted, MB")
    max_segments: int = Field(
        2000, ge=1, description="most transcript segments (~82 per hour of lecture) indexed"
    )
    max_pages: int = Field(300, ge=1, description="largest page count accepted")
    ocr: bool = Field(True, description="OCR scanned pages when Tesseract is installed")
    ocr_languages: str = Field("chi_sim+eng", description="Tesseract languages for OCR")
    transcript_languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_TRANSCRIPT_LANGUAGES),
        description="YouTube transcript languages in order of preference, comma-separated",
    )
    youtube_proxy: str | None = Field(
        None,
        description="HTTP(S) proxy for YouTube and the other video sites (datacenter IPs are "
        "often blocked)",
    )
    cookies_file: Path | None = Field(
        None,
        description="Netscape cookies file of the operator's own account on the video sites, for "
        "captions and videos that need a login (Bilibili's CC subtitles)",
    )
    max_media_minutes: float = Field(
        240.0, gt=0, description="longest recording speech recognition accepts, minutes"
    )
    voice_max_seconds: float = Field(
        180.0, gt=0, description="longest voice message taken as a question, seconds"
    )

    _split = field_validator("transcript_languages", mode="before")(_split_csv)


class ASRSettings(BaseSettings):
    """Speech recognition: local faster-whisper, or an OpenAI-compatible endpoint."""

    model_config = _config("PAPERTUTOR_ASR_")

    model: str | None = Field(
        None,
        description="faster-whisper model name or local CTranslate2 directory (default small); "
        "with PAPERTUTOR_ASR_URL the endpoint's model (default whisper-1)",
    )
    url: str | None = Field(
        None,
        description="OpenAI-compatible /v1 base URL whose /audio/transcriptions is used instead "
        "of local recognition",
    )
    api_key: SecretStr | None = Field(None, description="API key of the transcription endpoint")
    cache_dir: Path | None = Field(
        None, description="where downloaded models are kept (default: the Hugging Face cache)"
    )
    threads: int = Field(0, ge=0, description="CPU threads for recognition (0 = all cores)")
    beam_size: int = Field(5, ge=1, le=10, description="beam search width (1 = greedy, faster)")
    vad: bool = Field(True, description="skip silence and music (voice-activity detection)")
    timeout_s: float = Field(300.0, gt=0, description="seconds per endpoint request")


class LLMSettings(BaseSettings):
    """Any OpenAI-compatible chat endpoint."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint (unset = api.openai.com)",
    )
    api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY"), description="API key"
    )
    model: str = Field(
        "gpt-4o-mini", validation_alias=AliasChoices("PAPERTUTOR_LLM_MODEL"), description="model"
    )
    query_model: str | None = Field(
        None,
        validation_alias=AliasChoices("PAPERTUTOR_LLM_QUERY_MODEL"),
        description="a faster model on the same endpoint for each source's term list and the "
        "search-query rewrite (unset = PAPERTUTOR_LLM_MODEL)",
    )
    timeout_s: float = Field(
        60.0, gt=0, validation_alias=AliasChoices("PAPERTUTOR_LLM_TIMEOUT"), description="seconds"
    )
    max_retries: int = Field(
        3,
        ge=0,
        validation_alias=AliasChoices("PAPERTUTOR_LLM_MAX_RETRIES"),
        description="retries of a failed model call (timeouts, 429, 5xx, empty or broken replies)",
    )
    retry_budget_s: float = Field(
        30.0,
        gt=0,
        validation_alias=AliasChoices("PAPERTUTOR_LLM_RETRY_BUDGET"),
        description="seconds one step may spend retrying before the student is told",
    )
    temperature: float = Field(
        0.3, ge=0, le=2, validation_alias=AliasChoices("PAPERTUTOR_LLM_TEMPERATURE")
    )


class TelegramSettings(BaseSettings):
    """The Telegram front door."""

    model_config = _config("PAPERTUTOR_")

    token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN"), description="from @BotFather"
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org/bot", description="Bot API base URL (self-hosted server)"
    )
    telegram_file_url: str = Field(
        "https://api.telegram.org/file/bot", description="Bot API file URL"
    )
    allowed_users: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="comma-separated Telegram user ids; empty = everyone"
    )
    rate_limit_per_minute: int = Field(20, ge=1, description="messages per user per minute")
    webhook_url: str | None = Field(None, description="public HTTPS URL; unset = polling")
    webhook_port: int = Field(8443, description="local port the webhook server listens on")
    webhook_secret: SecretStr | None = Field(None, description="webhook secret token")
    max_download_mb: float = Field(
        20.0,
        gt=0,
        description="Bot API download limit, MB (20 on api.telegram.org; up to 2000 with a "
        "self-hosted server in local mode)",
    )
    telegram_local_mode: bool = Field(
        False,
        description="the self-hosted Bot API server runs with --local (files are read from its "
        "disk, which this bot must see at the same path)",
    )
    drafts: bool = Field(
        True,
        validation_alias=AliasChoices("PAPERTUTOR_TELEGRAM_DRAFTS"),
        description="stream answers as message drafts in private chats (Bot API 9.3+)",
    )
    concurrency: int = Field(8, ge=1, description="blocking jobs (parsing, embedding) at once")
    send_rate: float = Field(
        1.0,
        ge=0,
        validation_alias=AliasChoices("PAPERTUTOR_TELEGRAM_SEND_RATE"),
        description="messages per second to one chat after a burst of three (Telegram's flood "
        "limit; 0 = no pacing, only 429 handling)",
    )
    telegram_wait_s: float = Field(
        60.0, ge=0, description="seconds to wait at start-up for an unreachable Bot API"
    )

    _split = field_validator("allowed_users", mode="before")(_split_csv)


class ReportSettings(BaseSettings):
    """The reading report."""

    model_config = _config("PAPERTUTOR_REPORT_")

    min_chars: int = Field(2000, ge=100, description="fewest 字 in the four sections")
    max_chars: int = Field(3000, ge=200, description="most 字 in the four sections")
    max_revisions: int = Field(3, ge=0, description="revision rounds to reach the length")


class Settings(BaseSettings):
    """All settings. Build with ``load_settings()``; tests pass groups explicitly."""

    model_config = _config("PAPERTUTOR_")

    storage: StorageSettings = Field(default_factory=StorageSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    asr: ASRSettings = Field(default_factory=ASRSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    log_level: str = Field("INFO", description="logging level")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("should be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()


_GROUPS: dict[str, type[BaseSettings]] = {
    "storage": StorageSettings,
    "embedding": EmbeddingSettings,
    "ingest": IngestSettings,
    "llm": LLMSettings,
    "telegram": TelegramSettings,
    "report": ReportSettings,
}


def _variable(group: type[BaseSettings], loc: str) -> str:
    """The environment variable a validation error location stands for."""
    field = group.model_fields.get(loc)
    if field is None:
        return loc  # already the alias, e.g. PAPERTUTOR_LLM_TIMEOUT
    alias = field.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"{group.model_config.get('env_prefix', '')}{loc}".upper()


def _problems(group: type[BaseSettings], error: ValidationError) -> list[tuple[str, str]]:
    found = []
    for item in error.errors():
        name = _variable(group, str(item["loc"][0]) if item["loc"] else "?")
        field = group.model_fields.get(str(item["loc"][0])) if item["loc"] else None
        secret = field is not None and "SecretStr" in str(field.annotation)
        shown = "" if secret else f"={str(item.get('input', ''))[:60]!r}"
        found.append((f"{name}{shown}", str(item["msg"])))
    return found


def load_settings() -> Settings:
    """Read the environment and ``.env`` once; every wrong value is named in one ``ConfigError``
    (secret values are never repeated in it)."""
    groups: dict[str, BaseSettings] = {}
    problems: list[tuple[str, str]] = []
    for name, group in _GROUPS.items():
        try:
            groups[name] = group()
        except ValidationError as error:
            problems += _problems(group, error)
    try:
        top = Settings(**groups) if not problems else None  # type: ignore[arg-type]
    except ValidationError as error:
        problems += _problems(Settings, error)
        top = None
    if top is None:
        raise ConfigError(
            "bad_settings",
            problems_zh="；".join(f"{name}（{why}）" for name, why in problems),
            problems_en="; ".join(f"{name} ({why})" for name, why in problems),
        )
    return top
