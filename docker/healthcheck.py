"""Docker HEALTHCHECK for the bot container: exit 0 when healthy, 1 otherwise.

Runs ``bot.ops.health_check`` with the container's settings (the same check as
``papertutor health``): the data directory is writable and, when ``PAPERTUTOR_QDRANT_URL`` is
set, the Qdrant server answers and accepts the API key. The report goes to stdout, where
``docker inspect --format '{{json .State.Health}}'`` shows it. ``--en`` prints English.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str]) -> int:
    lang = "en" if "--en" in argv else "zh"
    try:
        from bot.ops import health_check
        from bot.settings import load_settings

        ok, report = health_check(load_settings(), lang=lang, timeout=5.0)
    except Exception as exc:  # a broken setting must show up as "unhealthy", with the reason
        print(f"FAIL {type(exc).__name__}: {exc}")
        return 1
    print(report)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
