"""The Telegram front door: the only code that imports ``telegram``.

``bot.telegram.app.run_bot`` serves the bot; ``build_application`` wires it for tests. Each
feature is a class named after what the student does (``Start``, ``Documents``, ``Videos``,
``Recordings``, ``VoiceQuestions``, ``Questions``, ``Sources``, ``Notebook``, ``QuizFeature``,
``Terms``, ``Reports``, ``Figures``) made from the services it needs; its ``handlers()`` are
what ``build_application`` registers, in an order that matters (see there). ``Guard`` filters
updates first; ``errors`` has the one error handler and the 🔄 retry button.
"""

__all__: list[str] = []
