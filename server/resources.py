"""Where the files the server reads at run time live: inside the installed package.

The wheel carries the client, the example quizzes and the templates as package data
(``server.client_static``, ``server.example_quizzes``, ``server/templates``); an editable install
maps the same package names onto the checkout's top-level folders. Nothing here looks at a
repository root.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _package_dir(package: str) -> Path:
    """The package's folder on disk (wheels are installed unzipped; StaticFiles and Jinja2 need a
    real directory)."""
    path = Path(str(files(package)))
    if not path.is_dir():
        raise RuntimeError(f"{package} is not installed as a folder on disk: {path}")
    return path


def static_dir() -> Path:
    """The browser client: js/, css/, i18n/, img/, vendor/."""
    return _package_dir("server.client_static")


def examples_dir() -> Path:
    """The example quizzes and ``schema.json``."""
    return _package_dir("server.example_quizzes")


def templates_dir() -> Path:
    """The Jinja2 pages."""
    return _package_dir("server") / "templates"


def schema_path() -> Path:
    return examples_dir() / "schema.json"
