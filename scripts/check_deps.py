"""Every third-party package the product imports is declared in pyproject.toml.

    .venv/bin/python -m scripts.check_deps

Reads every ``import`` in ``bot``, ``ingest``, ``storage`` and ``kernel`` (module level or not),
maps each top-level module to the distribution that installs it, and compares with
``[project] dependencies``. A package used only through another one (``httpx`` through
huggingface_hub, say) must still be declared: an upgrade of the other could drop it. Prints
what is missing and exits 1 if anything is.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

__all__ = ["declared", "imported", "main", "undeclared"]

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "ingest", "storage", "kernel")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported(root: Path = ROOT) -> dict[str, set[str]]:
    """Top-level module name -> the files importing it (outside the product's own packages)."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in PACKAGES and top not in sys.stdlib_module_names:
                        found.setdefault(top, set()).add(str(path.relative_to(root)))
    return found


def declared(root: Path = ROOT) -> set[str]:
    """Normalised distribution names of ``[project] dependencies``."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {
        _normal(re.split(r"[\[<>=!~; ]", dep, maxsplit=1)[0]) for dep in project["dependencies"]
    }


def undeclared(root: Path = ROOT) -> dict[str, set[str]]:
    """Distribution (or module, when none installs it) -> importing files, for each import no
    declared dependency provides."""
    providers = packages_distributions()
    wanted = declared(root)
    missing: dict[str, set[str]] = {}
    for module, files in imported(root).items():
        dists = {_normal(d) for d in providers.get(module, [module])}
        if not dists & wanted:
            missing["/".join(sorted(dists))] = files
    return missing


def main() -> int:
    missing = undeclared()
    for dist, files in sorted(missing.items()):
        print(f"undeclared: {dist} (imported in {', '.join(sorted(files))})")
    if not missing:
        print("every imported package is declared in pyproject.toml")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
