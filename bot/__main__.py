"""``python -m bot`` is the ``papertutor`` command."""

from bot.cli import main

raise SystemExit(main())
