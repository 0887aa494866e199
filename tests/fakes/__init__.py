"""Every stand-in and sample the tests share, in one place.

Fakes of the outside world: the Telegram Bot API (``bot_api``, with ``telegram_html``, its HTML
checker, and ``telegram_updates/``, the updates it sends), an OpenAI-compatible server
(``openai_server``), a scripted chat model (``chat``) and how a model answers (``tutor_model``,
``study_model``), speech recognition (``recognition``), YouTube (``youtube``), yt-dlp's
extractors (``recorded_media``), the Hugging Face Hub (``hf_hub``) and plain HTTP
(``http_server``); stand-ins for the bot's services in handler tests (``services``, run by
``harness``). Samples: PDFs (``pdfs``), subtitles (``subtitle_samples``), speech (``speech``),
the offline embedding model (``embedding``), the test secrets (``secret_values``) and what a
test needs from the machine (``requirements``). Shared fixtures are in ``tests/conftest.py``.
"""
