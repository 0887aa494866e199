"""The Telegram application: configuration check, handler wiring, polling or webhook.

``run_bot(settings)`` is what ``papertutor run`` calls. It explains every start-up failure in
one message instead of a traceback, cheapest check first: the settings (and, in ``bot.cli``, a
data directory another process holds), a Qdrant server that is down (after
``qdrant_wait_s``), Telegram (a refused token at once; an unreachable Bot API is retried for
``telegram_wait_s`` first), and only then the store and the embedding model.
``build_application(services, config)`` wires the feature modules onto a PTB ``Application``
and is what tests use with a recording request or a fake Bot API server; its ``post_init``
recovers the store and tells each chat whose work a crash cut short.
``ThreadedPicklePersistence`` keeps the little the bot stores in PTB's chat/user data
(language choice, answer buttons, links) across restarts without blocking the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    ContextTypes,
    Defaults,
    PicklePersistence,
)
from telegram.ext._picklepersistence import _BotPickler  # keeps Bot objects out of the file
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram.config import TelegramConfig
from bot.telegram.errors import handle_error
from bot.telegram.flood import ChatRateLimiter
from bot.telegram.i18n import commands
from bot.telegram.jobs import JobLedger, report_interrupted
from kernel.errors import ConfigError, TelegramUnavailableError

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings

__all__ = [
    "TelegramConfig",
    "ThreadedPicklePersistence",
    "build_application",
    "check_config",
    "check_telegram",
    "run_bot",
    "telegram_config",
]

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")


class ThreadedPicklePersistence(PicklePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """``PicklePersistence`` (one file) that writes in a worker thread, once per save round.

    PTB's own class re-pickles the whole file on the event loop for every changed chat: after
    100 answers one save round stalled every chat for ~0.6 s. Here each change only marks the
    data dirty; one task per round snapshots the top-level dicts on the loop (their values are
    PTB's private deep copies, replaced and never mutated) and pickles them in a thread, into a
    temporary file renamed over the old one, so a crash mid-write keeps the previous file.
    """

    def __init__(self, filepath: Path) -> None:
        super().__init__(filepath=filepath, single_file=True, on_flush=False)
        self._dirty = False
        self._writer: asyncio.Task[None] | None = None

    def _dump_singlefile(self) -> None:
        # Called by every update_*/drop_* on the loop: schedule one write for the whole round.
        self._dirty = True
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_changes())

    async def _write_changes(self) -> None:
        await asyncio.sleep(0)  # let the rest of this round's updates land first
        while self._dirty:
            self._dirty = False
            try:
                await asyncio.to_thread(self._write, self._snapshot())
            except Exception:  # keep serving; the next round (or the flush at exit) retries
                log.exception("could not save the Telegram chat data to %s", self.filepath)
                self._dirty = True
                return

    def _snapshot(self) -> dict[str, object]:
        def copy(data: dict[Any, Any] | None) -> dict[Any, Any] | None:
            return None if data is None else dict(data)

        conversations = self.conversations
        return {
            "conversations": None
            if conversations is None
            else {name: dict(states) for name, states in conversations.items()},
            "user_data": copy(self.user_data),
            "chat_data": copy(self.chat_data),
            "bot_data": self.bot_data,
            "callback_data": self.callback_data,
        }

    def _write(self, data: dict[str, object]) -> None:
        partial = self.filepath.with_name(self.filepath.name + ".partial")
        with partial.open("wb") as file:
            _BotPickler(self.bot, file, protocol=pickle.HIGHEST_PROTOCOL).dump(data)
        os.replace(partial, self.filepath)

    async def written(self) -> None:
        """Wait until every change made so far is in the file."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)
        if self._dirty:  # the last attempt failed: try once more, and let the error out
            self._dirty = False
            await asyncio.to_thread(self._write, self._snapshot())

    async def flush(self) -> None:
        """At shutdown: write whatever is in memory (PTB calls this after a last update)."""
        await self.written()
        data = (self.user_data, self.chat_data, self.bot_data, self.callback_data)
        if any(data) or self.conversations:
            await asyncio.to_thread(self._write, self._snapshot())


def check_config(settings: Settings) -> None:
    """Raise ``ConfigError`` naming every missing setting and how to get it."""
    zh: list[str] = []
    en: list[str] = []
    token = settings.telegram.token.get_secret_value().strip() if settings.telegram.token else ""
    if not token:
        zh.append(
            "缺少 TELEGRAM_BOT_TOKEN：在 Telegram 里找 @BotFather，发送 /newbot 创建机器人，"
            "把它给的令牌写进 .env，例如 TELEGRAM_BOT_TOKEN=123456789:AA..."
        )
        en.append(
            "TELEGRAM_BOT_TOKEN is missing: in Telegram, talk to @BotFather, send /newbot, and put "
            "the token it gives you in .env, e.g. TELEGRAM_BOT_TOKEN=123456789:AA..."
        )
    elif not _TOKEN.match(token):
        zh.append("TELEGRAM_BOT_TOKEN 格式不对：应像 123456789:AA...（从 @BotFather 复制完整令牌）")
        en.append(
            "TELEGRAM_BOT_TOKEN looks wrong: it should look like 123456789:AA... "
            "(copy the whole token from @BotFather)"
        )
    if settings.llm.api_key is None or not settings.llm.api_key.get_secret_value().strip():
        zh.append(
            "缺少 OPENAI_API_KEY：填入任一 OpenAI 兼容服务的密钥（OpenAI、DeepSeek、通义千问等），"
            "非 OpenAI 服务还要设置 OPENAI_BASE_URL（例如 https://api.deepseek.com/v1）和 "
            "PAPERTUTOR_LLM_MODEL。本地 Ollama/vLLM：OPENAI_BASE_URL=http://localhost:11434/v1，"
            "OPENAI_API_KEY 随便填一个值即可。"
        )
        en.append(
            "OPENAI_API_KEY is missing: put the key of any OpenAI-compatible service (OpenAI, "
            "DeepSeek, Qwen...) in .env; for a service other than OpenAI also set OPENAI_BASE_URL "
            "(e.g. https://api.deepseek.com/v1) and PAPERTUTOR_LLM_MODEL. For a local "
            "Ollama/vLLM set OPENAI_BASE_URL=http://localhost:11434/v1 and any OPENAI_API_KEY."
        )
    webhook = settings.telegram.webhook_url
    if webhook and not webhook.startswith("https://"):
        zh.append("PAPERTUTOR_WEBHOOK_URL 必须是 https:// 开头的公网地址（或删掉它改用轮询）。")
        en.append("PAPERTUTOR_WEBHOOK_URL must be a public https:// URL (or unset it for polling).")
    for name, url in (
        ("PAPERTUTOR_TELEGRAM_API_URL", settings.telegram.telegram_api_url),
        ("PAPERTUTOR_TELEGRAM_FILE_URL", settings.telegram.telegram_file_url),
        ("OPENAI_BASE_URL", settings.llm.base_url),
    ):
        if url and not re.match(r"^https?://[^/\s]+", url):
            zh.append(f"{name} 应该是 http(s):// 开头的地址（或者删掉它用默认值）。")
            en.append(f"{name} should be an http(s):// URL (or unset it for the default).")
    if zh:
        raise ConfigError(
            "机器人还不能启动：\n- " + "\n- ".join(zh),
            "The bot cannot start yet:\n- " + "\n- ".join(en),
        )


def telegram_config(settings: Settings) -> TelegramConfig:
    """The plain Telegram configuration from the typed settings."""
    tg = settings.telegram
    return TelegramConfig(
        token=tg.token.get_secret_value().strip() if tg.token else "",
        api_url=tg.telegram_api_url,
        file_url=tg.telegram_file_url,
        allowed_users=frozenset(tg.allowed_users),
        rate_limit_per_minute=tg.rate_limit_per_minute,
        max_download_bytes=int(tg.max_download_mb * 2**20),
        local_mode=tg.telegram_local_mode,
        webhook_url=tg.webhook_url,
        webhook_port=tg.webhook_port,
        webhook_secret=tg.webhook_secret.get_secret_value() if tg.webhook_secret else None,
        use_drafts=tg.drafts,
        send_rate=tg.send_rate,
        persistence_path=settings.storage.data_dir / "telegram.pickle",
        jobs_dir=settings.storage.data_dir / "jobs",
        startup_wait_s=tg.telegram_wait_s,
    )


def _masked(token: str) -> str:
    bot_id, _, rest = token.partition(":")
    return f"{bot_id}:***" if rest else "***"


def _token_refused(config: TelegramConfig) -> ConfigError:
    custom = config.api_url != TelegramConfig.api_url
    return ConfigError(
        "token_refused",
        token=_masked(config.token),
        api_hint_zh="；如果用的是自建 Bot API 服务器，也请检查 PAPERTUTOR_TELEGRAM_API_URL"
        if custom
        else "",
        api_hint_en=", and if you use a self-hosted Bot API server, check "
        "PAPERTUTOR_TELEGRAM_API_URL"
        if custom
        else "",
    )


async def check_telegram(config: TelegramConfig, *, request: BaseRequest | None = None) -> str:
    """Ask the Bot API who the bot is; returns its user name.

    A refused token (or a wrong API URL) is a ``ConfigError`` at once: waiting cannot help. An
    unreachable API is retried with growing pauses for ``config.startup_wait_s`` seconds, then
    it is a ``TelegramUnavailableError``. Neither message shows the token.
    """
    host = urlsplit(config.api_url).hostname or config.api_url
    deadline = time.monotonic() + config.startup_wait_s
    pause = 1.0
    while True:
        bot = Bot(
            config.token,
            base_url=config.api_url,
            base_file_url=config.file_url,
            request=request or HTTPXRequest(connect_timeout=10, read_timeout=10),
        )
        try:
            async with bot:  # initialize() asks getMe
                return bot.username
        except InvalidToken as exc:
            raise _token_refused(config) from exc
        except RetryAfter as exc:
            wait = float(exc.retry_after if isinstance(exc.retry_after, int | float) else 5)
            reason = "flood control"
        except BadRequest as exc:  # an answer that is no Bot API's: the URL is wrong
            raise ConfigError(
                "PAPERTUTOR_TELEGRAM_API_URL 指向的地址不像 Telegram Bot API，请检查它。",
                "PAPERTUTOR_TELEGRAM_API_URL does not point at a Telegram Bot API; check it.",
            ) from exc
        except NetworkError as exc:  # refused, timed out, DNS, 5xx: waiting may help
            wait, reason = pause, type(exc.__cause__ or exc).__name__
            pause = min(pause * 2, 10.0)
        left = deadline - time.monotonic()
        if left <= 0:
            raise TelegramUnavailableError(
                "unreachable", host=host, seconds=round(config.startup_wait_s), reason=reason
            )
        log.warning("Telegram (%s) is not reachable yet (%s); trying again", host, reason)
        await asyncio.sleep(min(wait, left))


def build_application(
    services: Services,
    config: TelegramConfig,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB application with every feature's handlers, the guard and the error handler."""
    # Imported here: the features load the services (Qdrant, PDF parsing), and the start-up
    # checks in this module must answer before any of that is loaded.
    from bot.telegram import (
        ask,
        documents,
        figures,
        guard,
        media,
        notebook,
        quiz,
        report,
        sources,
        start,
        terms,
        videos,
        voice,
    )

    async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        for lang, code in (("zh", "zh"), ("en", None)):
            menu = [BotCommand(name, text) for name, text in commands(lang)]  # type: ignore[arg-type]
            try:
                await application.bot.set_my_commands(menu, language_code=code)
            except TelegramError as exc:  # the menu is a nicety; the bot works without it
                log.warning("could not set the %s command menu: %s", lang, exc)
        # Put the store right after a crash, then tell each chat whose work was cut short.
        recovery = await services.store.recover()
        await report_interrupted(application.bot, JobLedger(config.jobs_dir), recovery)

    builder = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.api_url)
        .base_file_url(config.file_url)
        .local_mode(config.local_mode)
        .concurrent_updates(True)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(post_init)
    )
    if config.send_rate > 0:
        builder = builder.rate_limiter(ChatRateLimiter(private_rate=config.send_rate))
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    if config.persistence_path is not None:
        config.persistence_path.parent.mkdir(parents=True, exist_ok=True)
        builder = builder.persistence(ThreadedPicklePersistence(config.persistence_path))
    application = builder.build()

    application.add_handlers(guard.Guard(config).handlers(), group=guard.GUARD_GROUP)
    features: list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, Any]] = []
    # Order matters within the group: the first matching handler wins. Spoken questions (voice,
    # short audio) before recordings, recordings before other documents, and the question
    # handler, which takes any text, last.
    questions = ask.questions(services, config)
    features.extend(start.Start().handlers())
    features.extend(sources.Sources(services.library).handlers())
    features.extend(notebook.Notebook(services.answerer).handlers())
    features.extend(quiz.QuizFeature(services.quizzes, config).handlers())
    features.extend(terms.Terms(services.glossary, config).handlers())
    features.extend(report.Reports(services, config).handlers())
    listener = services.listener
    if listener is not None:  # else no spoken questions: short audio is then a lecture
        spoken = voice.VoiceQuestions(services.library, listener, config, questions)
        features.extend(spoken.handlers())
    features.extend(media.Recordings(services.library, config).handlers())
    features.extend(documents.Documents(services.library, config).handlers())
    features.extend(videos.Videos(services.library, config).handlers())
    features.extend(figures.Figures(services.pages, services.library).handlers())
    features.extend(questions.handlers())
    application.add_handlers(features)
    application.add_error_handler(handle_error)
    return application


def run_bot(settings: Settings) -> None:
    """Check everything it needs (cheapest first, see the module docstring), then serve until
    interrupted. Start-up failures are ``PaperTutorError``s for the front door to print."""
    check_config(settings)
    config = telegram_config(settings)
    storage = settings.storage
    if storage.qdrant_url:  # a server that is down: said (after waiting) before Telegram
        from bot.ops import wait_for_qdrant

        key = storage.qdrant_api_key.get_secret_value() if storage.qdrant_api_key else None
        wait_for_qdrant(storage.qdrant_url, key, storage.qdrant_wait_s)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # PTB runs the bot on this loop too
    try:
        username = loop.run_until_complete(check_telegram(config))
        log.info("Telegram accepted the token: @%s", username)
        from bot.app import build_services  # the composition root: heavy imports

        services = build_services(settings)  # the store first, then the model
    except BaseException:
        asyncio.set_event_loop(None)
        loop.close()
        raise
    application = build_application(services, config)
    from bot.control import ControlServer, socket_path

    # `papertutor sources|notes` while the bot holds the store: it answers them (bot.control).
    control = ControlServer(services.store, socket_path(storage.data_dir))
    starting = application.post_init

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if starting is not None:
            await starting(app)
        await control.start()

    async def post_shutdown(_: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await control.close()
        await services.aclose()

    application.post_init = post_init
    application.post_shutdown = post_shutdown
    try:
        if config.webhook_url:
            application.run_webhook(
                listen=config.webhook_listen,
                port=config.webhook_port,
                url_path=urlsplit(config.webhook_url).path.lstrip("/"),
                webhook_url=config.webhook_url,
                secret_token=config.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
                bootstrap_retries=3,
            )
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=3)
    except InvalidToken as exc:  # revoked between the check and the start
        raise _token_refused(config) from exc
    except NetworkError as exc:  # Telegram went away between the check and the start
        raise TelegramUnavailableError(
            "unreachable",
            host=urlsplit(config.api_url).hostname,
            seconds=0,
            reason=type(exc).__name__,
        ) from exc
