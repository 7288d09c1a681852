"""Versioned static URLs and the ES-module graph the pages preload."""

from __future__ import annotations

import os
from pathlib import Path

from server import resources
from server.web.assets import Assets


def test_version_follows_the_content(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    css = tmp_path / "css" / "app.css"
    css.write_text("body { color: red }", encoding="utf-8")
    assets = Assets(tmp_path)
    first = assets.url("css/app.css")
    assert first.startswith("/static/css/app.css?v=") and assets.url("css/app.css") == first
    css.write_text("body { color: blue }", encoding="utf-8")
    os.utime(css, ns=(1, 1))
    assert assets.url("css/app.css") != first
    assert assets.url("css/missing.css") == "/static/css/missing.css"


def test_module_graph_follows_relative_imports(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "vendor").mkdir()
    (tmp_path / "js" / "page.js").write_text(
        'import { a } from "./a.js";\nimport {\n  b,\n  c,\n} from "../vendor/b.mjs";\n',
        encoding="utf-8",
    )
    (tmp_path / "js" / "a.js").write_text('export { x } from "./page.js";\n', encoding="utf-8")
    (tmp_path / "vendor" / "b.mjs").write_text('import "./c.mjs";\n', encoding="utf-8")
    (tmp_path / "vendor" / "c.mjs").write_text("export const c = 1;\n", encoding="utf-8")
    graph = Assets(tmp_path).module_graph("js/page.js")
    assert graph == ["js/page.js", "js/a.js", "vendor/b.mjs", "vendor/c.mjs"]


def test_the_phone_page_graph_has_only_what_it_imports() -> None:
    graph = Assets(resources.static_dir()).module_graph("js/phone.js")
    assert graph[:3] == ["js/phone.js", "js/connection.js", "js/render.js"]
    assert "vendor/msgpack/decodeAsync.mjs" not in graph
    assert all((resources.static_dir() / path).is_file() for path in graph)


def test_lazy_modules_are_mapped_but_not_preloaded(tmp_path: Path) -> None:
    (tmp_path / "js" / "parts").mkdir(parents=True)
    (tmp_path / "js" / "page.js").write_text(
        'import { a } from "./a.js";\nconst LOAD = { x: () => import("./parts/x.js") };\n',
        encoding="utf-8",
    )
    (tmp_path / "js" / "a.js").write_text("export const a = 1;\n", encoding="utf-8")
    (tmp_path / "js" / "parts" / "x.js").write_text(
        'import { a } from "../a.js";\nimport { y } from "./y.js";\n', encoding="utf-8"
    )
    (tmp_path / "js" / "parts" / "y.js").write_text("export const y = 1;\n", encoding="utf-8")
    assets = Assets(tmp_path)
    assert assets.module_graph("js/page.js") == ["js/page.js", "js/a.js"]
    assert assets.lazy_modules("js/page.js") == ["js/parts/x.js", "js/parts/y.js"]
    mapped = assets.import_map("js/page.js")["imports"]
    assert set(mapped) == {
        f"/static/{p}" for p in ("js/page.js", "js/a.js", "js/parts/x.js", "js/parts/y.js")
    }
    assert all("?v=" in url for url in mapped.values())


def test_the_phone_page_loads_the_werkvormen_when_it_connects() -> None:
    assets = Assets(resources.static_dir())
    graph = assets.module_graph("js/phone.js")
    lazy = assets.lazy_modules("js/phone.js")
    assert {"js/werkvormen/quiz-phone.js", "js/werkvormen/circle-phone.js"} <= set(lazy)
    assert not set(lazy) & set(graph)
