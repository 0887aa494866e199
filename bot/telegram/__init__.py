"""The Telegram front door: the only code that imports ``telegram``.

``bot.telegram.app.run_bot`` serves the bot; ``build_application`` wires it for tests. Each
feature module (start, documents, videos, ask, sources, report) exposes
``build_handlers(services, config)``; ``guard`` filters updates first, ``errors`` has the one
error handler.
"""

__all__: list[str] = []
