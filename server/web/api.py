"""JSON API: quiz library and upload, rooms, QR codes, result exports, bokaal history, health."""

from __future__ import annotations

import csv
import hmac
import io
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import segno
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.activities import base as activities
from server.hub import codes
from server.hub.errors import HubError
from server.hub.room import Room
from server.hub.rooms import PROGRAMME_MAX, Hub
from server.messages import message
from server.quizzes.library import LibraryFull, summary
from server.quizzes.validate import (
    MAX_QUIZ_BYTES,
    too_large_message,
    validate_quiz_bytes,
    validation_messages,
)
from server.web.i18n import request_lang
from server.web.netinfo import join_base

BODY_SLACK = 64 * 1024  # multipart envelope around a file of at most MAX_QUIZ_BYTES


def _organiser_key(request: Request) -> str:
    key: str = request.app.state.settings.organiser_key
    return key


def _is_organiser(request: Request) -> bool:
    given = request.headers.get("x-organiser-key", "")
    return hmac.compare_digest(given.encode(), _organiser_key(request).encode())


def _organiser_check(request: Request) -> JSONResponse | None:
    """With KENNISKRING_ORGANISER_KEY set, creating rooms and uploading need it."""
    if not _organiser_key(request) or _is_organiser(request):
        return None
    given = request.headers.get("x-organiser-key", "")
    return _error(request, "organiser_key_wrong" if given else "organiser_key_required", 401)


def _address(request: Request) -> str:
    """The client's address; behind a trusted proxy the real one (uvicorn's proxy headers)."""
    return request.client.host if request.client else "?"


def _limited(request: Request, kind: str) -> JSONResponse | None:
    """429 with a Dutch message when this address is out of `kind` (join, room, upload)."""
    if request.app.state.limiter.allow(kind, _address(request)):
        return None
    response = _error(request, "rate_limited", 429)
    response.headers["Retry-After"] = "10"
    return response


def _error(request: Request, code: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message(code, request_lang(request)), "code": code}, status)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


HTTP_ERRORS = {404: "not_found", 405: "method_not_allowed"}


def http_error(request: Request, exc: HTTPException) -> Response:
    """An address under /api/ that names nothing (404), or asked with a method it does not
    take (405, with the methods it does take in `Allow`): the API's own error body."""
    response = _error(request, HTTP_ERRORS[exc.status_code], exc.status_code)
    response.headers.update(exc.headers or {})
    return response


async def backend_unavailable(request: Request, exc: Exception) -> Response:
    """Redis cannot be reached: 503 with a Dutch message, logged once per outage."""
    hub = _hub(request)
    hub.outage.failed(f"{request.method} {request.url.path}", exc)
    response = _error(request, "unavailable", 503)
    response.headers["Retry-After"] = "5"
    return response


async def healthz(request: Request) -> Response:
    hub = _hub(request)
    return JSONResponse(
        {
            "status": "ok",
            "backend": hub.backend.name,
            "rooms": await hub.backend.room_count(),
            "connections": hub.fanout.connection_count(),  # in the worker that answered
            "worker": os.getpid(),  # which worker process answered (tests, load balancing)
        }
    )


# ---- quizzes ------------------------------------------------------------------------------------
async def list_quizzes(request: Request) -> Response:
    return JSONResponse(await request.app.state.library.list())


async def quiz_template(request: Request) -> Response:
    """The example file an author edits and uploads (`quizzes/_voorbeeldbestand.json`)."""
    return Response(
        request.app.state.library.template,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="voorbeeld-quiz.json"'},
    )


async def werkvormen(request: Request) -> Response:
    """Every werkvorm's default content, as a programme item gets it without content of its own
    (the facilitator's page prefills its add form with it); `null` for a werkvorm that needs
    content (the quiz: a quiz file)."""
    defaults: dict[str, Any] = {}
    for kind in activities.kinds():
        try:
            defaults[kind] = activities.get(kind).check_content({})
        except activities.ActivityError:
            defaults[kind] = None
    return JSONResponse({"defaults": defaults})


async def get_quiz(request: Request) -> Response:
    """The whole quiz (answers included) for its author (X-Edit-Secret) or, with an organiser
    key configured, for an organiser; everyone else gets only what the list shows."""
    library = request.app.state.library
    quiz_id = request.path_params["quiz_id"]
    quiz = await library.get(quiz_id)
    if quiz is None:
        return _error(request, "quiz_not_found", 404)
    author = await library.owned_by(quiz_id, request.headers.get("x-edit-secret", ""))
    organiser = bool(_organiser_key(request)) and _is_organiser(request)
    if not (author or organiser):
        return JSONResponse({**summary(quiz, library.is_builtin(quiz_id)), "full": False})
    body = json.dumps(quiz, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'inline; filename="{quiz["id"]}.json"'},
    )


async def delete_quiz(request: Request) -> Response:
    library = request.app.state.library
    quiz_id = request.path_params["quiz_id"]
    if await library.get(quiz_id) is None:
        return _error(request, "quiz_not_found", 404)
    if not await library.delete(quiz_id, request.headers.get("x-edit-secret", "")):
        return _error(request, "not_owner", 403)
    return Response(status_code=204)


def _too_large(lang: str) -> JSONResponse:
    issue = {"path": "", "message": validation_messages(lang, too_large_message)}
    return JSONResponse({"errors": [issue]}, 413)


async def _read_capped(request: Request, cap: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def upload_quiz(request: Request) -> Response:
    refused = _organiser_check(request) or _limited(request, "upload")
    if refused is not None:
        return refused
    lang = request_lang(request)  # the upload page sends its own as ?lang=
    body = await _read_capped(request, MAX_QUIZ_BYTES + BODY_SLACK)
    if body is None:
        return _too_large(lang)
    raw = body
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        request._body = body  # let Starlette parse the form from what we already read
        try:
            form = await request.form(max_files=1, max_fields=4)
        except (HTTPException, MultiPartException):
            broken = {
                "nl": "het formulier is beschadigd (geen geldige multipart)",
                "en": "the form is damaged (not valid multipart)",
            }
            return JSONResponse({"errors": [{"path": "", "message": broken[lang]}]}, 400)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            no_file = {
                "nl": "er is geen bestand meegestuurd (veld 'file')",
                "en": "no file was sent (field 'file')",
            }
            issue = {"path": "", "message": no_file[lang]}
            return JSONResponse({"errors": [issue]}, 400)
        raw = await upload.read(MAX_QUIZ_BYTES + 1)
        await form.close()
    result = validate_quiz_bytes(raw, lang)
    if result.quiz is None:
        status = 413 if len(raw) > MAX_QUIZ_BYTES else 400
        errors = [{"path": e.path, "message": e.message} for e in result.errors]
        return JSONResponse({"errors": errors}, status)
    library = request.app.state.library
    title = str(result.quiz["title"])
    namesakes = {q["id"] for q in await library.list() if _same_title(q["title"], title)}
    try:
        added = await library.add(result.quiz, request.headers.get("x-edit-secret", ""))
    except LibraryFull:
        return _error(request, "quiz_id_taken", 409)
    reply: dict[str, Any] = {
        "id": added.id,
        "title": result.quiz["title"],
        "questions": len(result.quiz["questions"]),
        "edit_secret": added.edit_secret,
        "replaced": added.replaced,
    }
    notes = []
    if added.renamed_from:
        reply["renamed_from"] = added.renamed_from
        notes.append(message("quiz_renamed", lang).format(old=added.renamed_from, new=added.id))
    if namesakes - {added.id}:  # another quiz in the library, not the one this replaced
        notes.append(message("quiz_same_title", lang).format(title=title))
    if notes:
        reply["message"] = " ".join(notes)
    return JSONResponse(reply, 200 if added.replaced else 201)


def _same_title(a: str, b: str) -> bool:
    """Titles people would take for the same: case and spacing aside."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


# ---- rooms --------------------------------------------------------------------------------------
ProgrammeItem = tuple[str, dict[str, Any]]


async def _programme_item(request: Request, spec: object) -> ProgrammeItem | Response:
    """One werkvorm for a room's programme: `{"quiz_id": …}` (a quiz from the library) or
    `{"kind": …, "content": {…}}` (checked by that werkvorm)."""
    if not isinstance(spec, dict):
        return _error(request, "bad_frame", 400)
    if isinstance(spec.get("quiz_id"), str):
        quiz = await request.app.state.library.get(spec["quiz_id"])
        if quiz is None:
            return _error(request, "quiz_not_found", 404)
        return "quiz", quiz
    kind = spec.get("kind")
    if not isinstance(kind, str):
        return _error(request, "quiz_not_found", 400)
    try:
        activity = activities.get(kind)
        content = spec.get("content") or {}
        if not isinstance(content, dict):
            raise activities.ActivityError("invalid_content")
        return kind, activity.check_content(content)
    except activities.ActivityError as exc:
        return _error(request, exc.code, 404 if exc.code == "quiz_not_found" else 400)


async def _json_body(request: Request, cap: int = 16384) -> dict[str, Any] | Response:
    try:
        body = json.loads(await _read_capped(request, cap) or b"")
    except ValueError:
        return _error(request, "bad_frame", 400)
    if not isinstance(body, dict):
        return _error(request, "bad_frame", 400)
    return body


async def create_room(request: Request) -> Response:
    """A room with a programme: `{"quiz_id": …}` for one quiz, or `{"programme": [items]}`."""
    refused = _organiser_check(request) or _limited(request, "room")
    if refused is not None:
        return refused
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    specs = body.get("programme") if "programme" in body else [body]
    if not isinstance(specs, list) or not 1 <= len(specs) <= PROGRAMME_MAX:
        return _error(request, "quiz_not_found", 400)
    programme: list[ProgrammeItem] = []
    for spec in specs:
        item = await _programme_item(request, spec)
        if isinstance(item, Response):
            return item
        programme.append(item)
    team = str(body["team"]) if isinstance(body.get("team"), str) else ""
    lang = str(body["lang"]) if body.get("lang") in ("nl", "en") else request_lang(request)
    settings = request.app.state.settings
    base = join_base(
        settings.public_url, request.url.scheme, request.headers.get("host", ""), settings.port
    )
    code, secret = await _hub(request).create_room(programme, team, lang, base)
    return JSONResponse(
        {"code": code, "host_secret": secret, "join_url": f"{base}/join/{code}"}, 201
    )


async def add_to_programme(request: Request) -> Response:
    """The host adds a werkvorm to the room's programme (it runs when the host begins it)."""
    room = await _room(request)
    if isinstance(room, Response):
        return room
    if not _is_host(request, room):
        return _error(request, "not_host", 403)
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    item = await _programme_item(request, body)
    if isinstance(item, Response):
        return item
    try:
        index = await _hub(request).add_item(room.code, *item)
    except HubError as exc:
        conflict = exc.code in ("not_allowed", "session_ended")
        return _error(request, exc.code, 409 if conflict else 400)
    return JSONResponse({"item": index, "kind": item[0]}, 201)


async def _room(request: Request) -> Room | Response:
    """The room named in the path, or the Dutch 404 for a wrong or expired code."""
    code = request.path_params["code"]
    limiter, address = request.app.state.limiter, _address(request)
    if limiter.blocked("probe", address):  # guessing codes: every code waits, found or not
        response = _error(request, "rate_limited", 429)
        response.headers["Retry-After"] = "10"
        return response
    loaded = await _hub(request).load(code) if codes.is_room_code(code) else None
    if loaded is None:
        limiter.allow("probe", address)
        return _error(request, "room_not_found", 404)
    return loaded[1]


async def room_info(request: Request) -> Response:
    room = await _room(request)
    if isinstance(room, Response):
        return room
    hub, code = _hub(request), room.code
    return JSONResponse(
        {
            "code": code,
            "activity": room.kind,
            "item": room.current,
            "phase": room.activity.phase(room.state),
            "locked": room.locked,
            "players": await hub.backend.hlen(code, "players"),
            "title": room.item.title,
            "ended": room.ended,
            # For the room's host (X-Host-Secret) also the programme, to list the downloads
            # of a session left earlier on the host page.
            **({"programme": _programme(room)} if _is_host(request, room) else {}),
        }
    )


def _programme(room: Room) -> list[dict[str, Any]]:
    """Every programme item: its werkvorm, title and whether it ran (its results export)."""
    return [
        {"kind": item.kind, "title": item.title, "ran": i == room.current or item.state is not None}
        for i, item in enumerate(room.programme)
    ]


async def room_qr(request: Request) -> Response:
    room = await _room(request)
    if isinstance(room, Response):
        return room
    buffer = io.BytesIO()
    segno.make(room.join_url, error="m").save(buffer, kind="svg", scale=10, border=2)
    return Response(
        buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"}
    )


def _is_host(request: Request, room: Room) -> bool:
    """The host secret comes in a header, never in the URL (URLs end up in logs and history)."""
    return codes.matches(request.headers.get("x-host-secret", ""), room.secret)


def _item(request: Request, room: Room) -> int | Response:
    """`?item=N` (a programme item, from 0), else the running one."""
    wanted = request.query_params.get("item")
    if wanted is None:
        return room.current
    if not wanted.strip().isdigit() or int(wanted) >= len(room.programme):
        return _error(request, "not_found", 404)
    return int(wanted)


async def _hosted_item(request: Request) -> tuple[Room, int] | Response:
    """The room in the path and the programme item asked for, for the room's host only."""
    room = await _room(request)
    if isinstance(room, Response):
        return room
    if not _is_host(request, room):
        return _error(request, "not_host", 403)
    item = _item(request, room)
    if isinstance(item, Response):
        return item
    return room, item


async def room_content(request: Request) -> Response:
    """A programme item's whole content (a quiz with its answers), for the room's host."""
    found = await _hosted_item(request)
    if isinstance(found, Response):
        return found
    room, item = found
    return JSONResponse(await _hub(request).content_of(room.code, item, room.created))


async def _results(request: Request) -> tuple[dict[str, Any], Room, int] | Response:
    """A programme item's export (`?item=N`, default the running one); for exports with
    rounds (the quiz's "nog een keer") `?round=N` keeps one round."""
    found = await _hosted_item(request)
    if isinstance(found, Response):
        return found
    room, item = found
    try:
        data = await _hub(request).export(room.code, room, item)
    except HubError as exc:
        return _error(request, exc.code, 404)
    wanted = request.query_params.get("round")
    if wanted is not None and isinstance(data.get("rounds"), list):
        chosen = [r for r in data["rounds"] if str(r.get("round")) == wanted.strip()]
        if not chosen:
            return _error(request, "round_not_found", 404)
        data = {**chosen[-1], "rounds": chosen}
    return data, room, item


async def results_json(request: Request) -> Response:
    found = await _results(request)
    if isinstance(found, Response):
        return found
    data, room, item = found
    return JSONResponse(data, headers=_attachment(f"resultaten-{room.code}-{item + 1}.json"))


async def results_csv_export(request: Request) -> Response:
    """`?dialect=excel-nl`: semicolons and decimal commas, for Excel set to Dutch; the default
    is RFC 4180 (commas)."""
    dialect = request.query_params.get("dialect", "rfc4180")
    found = await _results(request)
    if isinstance(found, Response):
        return found
    data, room, item = found
    try:
        text = activities.get(room.programme[item].kind).export_csv(data, dialect, room.lang)
    except activities.ActivityError as exc:
        return _error(request, exc.code, 404)
    suffix = "-excel" if dialect == "excel-nl" else ""
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"resultaten-{room.code}-{item + 1}{suffix}.csv"),
    )


async def results_markdown(request: Request) -> Response:
    """The export as Markdown, for werkvormen that have one (the dotvote's scholingsplan)."""
    found = await _results(request)
    if isinstance(found, Response):
        return found
    data, room, item = found
    activity = activities.get(room.programme[item].kind)
    if "md" not in activity.export_formats:
        return _error(request, "not_found", 404)
    try:
        text = activity.export_markdown(data, room.lang)
    except activities.ActivityError as exc:
        return _error(request, exc.code, 404)
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers=_attachment(f"resultaten-{room.code}-{item + 1}.md"),
    )


MAX_IMPORT_BYTES = 64 * 1024


async def import_file(request: Request) -> Response:
    """A host's file for the running programme item (the dotvote's cards): the raw body or the
    multipart field `file`. The werkvorm reads it; nothing is imported when a row is wrong."""
    found = await _hosted_item(request)
    if isinstance(found, Response):
        return found
    room, item = found
    lang = request_lang(request)
    body = await _read_capped(request, MAX_IMPORT_BYTES + BODY_SLACK)
    if body is None:
        return _error(request, "too_large", 413)
    raw, media = body, request.headers.get("content-type", "")
    if media.startswith("multipart/form-data"):
        request._body = body
        try:
            form = await request.form(max_files=1, max_fields=4)
        except (HTTPException, MultiPartException):
            return _error(request, "invalid_import", 400)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return _error(request, "invalid_import", 400)
        raw = await upload.read(MAX_IMPORT_BYTES + 1)
        media = upload.content_type or ""
        if (upload.filename or "").lower().endswith(".json"):
            media = "application/json"
        await form.close()
    if len(raw) > MAX_IMPORT_BYTES:
        return _error(request, "too_large", 413)
    try:
        reply = await _hub(request).upload(room.code, item, raw, media)
    except activities.ActivityError as exc:
        errors = [
            {
                "row": d.get("row", 0),
                "field": d.get("field", ""),
                "code": d.get("code", exc.code),
                "message": message(str(d.get("code", exc.code)), lang),
                # what else the werkvorm says of the row (the dotvote: the wrong `value`)
                **{k: v for k, v in d.items() if k not in ("row", "field", "code", "message")},
            }
            for d in exc.details
        ]
        payload = {"error": message(exc.code, lang), "code": exc.code, "errors": errors}
        return JSONResponse(payload, 400)
    except HubError as exc:
        status = {"not_found": 404, "not_allowed": 409, "session_ended": 409, "busy": 503}.get(
            exc.code, 400
        )
        return _error(request, exc.code, status)
    return JSONResponse(reply)


# ---- bokaal -------------------------------------------------------------------------------------
BOKAAL_COLUMNS = ["date", "team", "theme", "title", "author", "winner", "previous"]


async def bokaal_history(request: Request) -> Response:
    team = request.query_params.get("team", "").strip()
    history = await request.app.state.hub.bokaal.history(team) if team else []
    rows = [{k: h.get(k) for k in BOKAAL_COLUMNS} for h in history]
    return JSONResponse({"team": team, "history": rows})


async def bokaal_csv(request: Request) -> Response:
    team = request.query_params.get("team", "").strip()
    history = await request.app.state.hub.bokaal.history(team) if team else []
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BOKAAL_COLUMNS)
    for h in history:
        writer.writerow(["" if h.get(k) is None else h.get(k) for k in BOKAAL_COLUMNS])
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="bokaal.csv"'},
    )


# ---- per-team history of other werkvormen (the kring's maps, the dotvote's themes, …) -----------
# A collection no werkvorm keeps (`activities.keeper`) is not a history.
async def team_history(request: Request) -> Response:
    collection = request.path_params["collection"]
    keeper = activities.keeper(collection)
    if keeper is None:
        return _error(request, "not_found", 404)
    team = request.query_params.get("team", "").strip()
    kept = await _hub(request).bokaal.kept(collection, team) if team else []
    history = [keeper.kept_record(record) for record in kept]
    return JSONResponse({"collection": collection, "team": team, "history": history})


async def change_history(request: Request) -> Response:
    """The host of a room changes a record its team keeps (a theme marked as taken up); the
    werkvorm that keeps the collection applies the change."""
    room = await _room(request)
    if isinstance(room, Response):
        return room
    if not _is_host(request, room):
        return _error(request, "not_host", 403)
    collection = request.path_params["collection"]
    if activities.keeper(collection) is None:
        return _error(request, "not_found", 404)
    body = await _json_body(request)
    if isinstance(body, Response):
        return _error(request, "invalid_history", 400)
    try:
        record = await _hub(request).update_history(room.team, collection, body)
    except HubError as exc:
        return _error(request, exc.code, 404 if exc.code == "not_found" else 400)
    return JSONResponse(record)


def by_method(path: str, **handlers: Callable[[Request], Awaitable[Response]]) -> Route:
    """One route for an address answered by one handler per method (`GET=…, POST=…`), so
    that any other method gets a 405 whose `Allow` names them all (of two routes of one path,
    Starlette's 405 names only the first's methods)."""

    async def endpoint(request: Request) -> Response:
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return Route(path, endpoint, methods=list(handlers))


routes = [
    Route("/healthz", healthz),
    by_method("/api/quizzes", GET=list_quizzes, POST=upload_quiz),
    Route("/api/quiz-template", quiz_template, methods=["GET"]),
    Route("/api/werkvormen", werkvormen, methods=["GET"]),
    by_method("/api/quizzes/{quiz_id}", GET=get_quiz, DELETE=delete_quiz),
    Route("/api/rooms", create_room, methods=["POST"]),
    Route("/api/rooms/{code}", room_info),
    Route("/api/rooms/{code}/qr.svg", room_qr),
    Route("/api/rooms/{code}/content", room_content),
    Route("/api/rooms/{code}/programme", add_to_programme, methods=["POST"]),
    Route("/api/rooms/{code}/results.json", results_json),
    Route("/api/rooms/{code}/results.csv", results_csv_export),
    Route("/api/rooms/{code}/results.md", results_markdown),
    Route("/api/rooms/{code}/import", import_file, methods=["POST"]),
    Route("/api/rooms/{code}/history/{collection}", change_history, methods=["POST"]),
    Route("/api/bokaal", bokaal_history),
    Route("/api/bokaal.csv", bokaal_csv),
    Route("/api/history/{collection}", team_history),
]
