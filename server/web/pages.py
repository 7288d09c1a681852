"""The HTML pages: phone join, facilitator, projector, quiz library and bokaal history; the
signposts where an address leads nowhere (`/screen` without a code, a page that does not exist)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from server import resources
from server.hub import codes
from server.web.headers import policy_for
from server.web.i18n import LANGS, catalogue, catalogue_json, request_lang

_env = Environment(
    loader=FileSystemLoader(resources.templates_dir()),
    autoescape=select_autoescape(["html"]),
)


def _switch_url(request: Request, lang: str) -> str:
    """This page in `lang`, keeping the rest of its query (e.g. `/host?quiz=…`)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*query, ('lang', lang)])}"


def render(
    request: Request, template: str, *, phone: bool = False, status_code: int = 200, **context: Any
) -> Response:
    lang = request_lang(request)
    static_dir = request.app.state.settings.static_dir
    other = "en" if lang == "nl" else "nl"
    html = _env.get_template(template).render(
        lang=lang,
        t=catalogue(static_dir, lang),
        t_json=catalogue_json(static_dir, lang, phone),
        switch_url=_switch_url(request, other),
        static="/static",
        assets=request.app.state.assets,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    # The page's import map is its one inline script: allowed by its hash, nothing else inline.
    response.headers["content-security-policy"] = policy_for(html)
    # The language comes from the query, the cookie or Accept-Language (`request_lang`).
    response.headers["vary"] = "Accept-Language, Cookie"
    chosen = request.query_params.get("lang")
    if chosen in LANGS:
        response.set_cookie("lang", chosen, max_age=365 * 86400, samesite="lax")
    return response


async def join_page(request: Request) -> Response:
    return render(request, "join.html", code="", phone=True)


def _to_join_page(request: Request) -> Response:
    """To the page where a phone types the code, with the query (`?lang=`) kept."""
    query = request.url.query
    return RedirectResponse(f"/?{query}" if query else "/", status_code=302)


async def join_without_code(request: Request) -> Response:
    """`/join` from a poster, without its code: the code is typed on the join page."""
    return _to_join_page(request)


async def join_code_page(request: Request) -> Response:
    code = request.path_params["code"]
    if not codes.is_room_code(code):
        return _to_join_page(request)
    return render(request, "join.html", code=code, phone=True)


async def host_page(request: Request) -> Response:
    return render(request, "host.html")


async def screen_page(request: Request) -> Response:
    """The projector's page; for a code that cannot be one (a typo) the page says the session
    does not exist and takes the right code (screen.js)."""
    code = request.path_params["code"]
    return render(request, "screen.html", code=code if codes.is_room_code(code) else "")


async def screen_without_code(request: Request) -> Response:
    """The projector's page opened without a code: it is opened from the facilitator's page."""
    return render(request, "signpost.html", signpost="screen", href="/host")


async def not_found(request: Request, exc: Exception) -> Response:
    """A page that does not exist: 404 in the page's language, with the way to the home page."""
    return render(request, "signpost.html", signpost="not_found", href="/", status_code=404)


async def quizzes_page(request: Request) -> Response:
    return render(request, "quizzes.html")


async def bokaal_page(request: Request) -> Response:
    return render(request, "bokaal.html")


routes = [
    Route("/", join_page),
    Route("/join", join_without_code),
    Route("/join/", join_without_code),
    Route("/join/{code}", join_code_page),
    Route("/host", host_page),
    Route("/screen", screen_without_code),
    Route("/screen/", screen_without_code),
    Route("/screen/{code}", screen_page),
    Route("/quizzes", quizzes_page),
    Route("/bokaal", bokaal_page),
]
