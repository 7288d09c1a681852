"""JSON API: quiz library and upload, rooms, QR codes, result exports, bokaal history, health."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import segno
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.activities.quiz_export import DIALECTS, results, results_csv, with_rounds
from server.hub import codes
from server.hub.room import Room
from server.hub.rooms import Hub
from server.messages import message
from server.quizzes.validate import (
    MAX_QUIZ_BYTES,
    too_large_message,
    validate_quiz_bytes,
    validation_messages,
)
from server.web.i18n import request_lang
from server.web.netinfo import join_base

BODY_SLACK = 64 * 1024  # multipart envelope around a file of at most MAX_QUIZ_BYTES


def _error(request: Request, code: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message(code, request_lang(request)), "code": code}, status)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


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


async def get_quiz(request: Request) -> Response:
    quiz = await request.app.state.library.get(request.path_params["quiz_id"])
    if quiz is None:
        return _error(request, "quiz_not_found", 404)
    body = json.dumps(quiz, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'inline; filename="{quiz["id"]}.json"'},
    )


def _upload_lang(request: Request) -> str:
    """The language of upload errors: ?lang=, the lang cookie, else Accept-Language, else nl
    (the upload page sends its own language as ?lang=)."""
    if request.query_params.get("lang") or request.cookies.get("lang"):
        return request_lang(request)
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("nl"):
            return "nl"
        if tag.startswith("en"):
            return "en"
    return "nl"


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
    lang = _upload_lang(request)
    body = await _read_capped(request, MAX_QUIZ_BYTES + BODY_SLACK)
    if body is None:
        return _too_large(lang)
    raw = body
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        request._body = body  # let Starlette parse the form from what we already read
        form = await request.form(max_files=1, max_fields=4)
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
    quiz_id = await request.app.state.library.add(result.quiz)
    return JSONResponse(
        {"id": quiz_id, "title": result.quiz["title"], "questions": len(result.quiz["questions"])},
        201,
    )


# ---- rooms --------------------------------------------------------------------------------------
async def create_room(request: Request) -> Response:
    try:
        body = json.loads(await _read_capped(request, 8192) or b"")
    except ValueError:
        return _error(request, "bad_frame", 400)
    if not isinstance(body, dict) or not isinstance(body.get("quiz_id"), str):
        return _error(request, "quiz_not_found", 400)
    quiz = await request.app.state.library.get(body["quiz_id"])
    if quiz is None:
        return _error(request, "quiz_not_found", 404)
    team = str(body["team"]) if isinstance(body.get("team"), str) else ""
    lang = str(body["lang"]) if body.get("lang") in ("nl", "en") else request_lang(request)
    settings = request.app.state.settings
    base = join_base(
        settings.public_url, request.url.scheme, request.headers.get("host", ""), settings.port
    )
    code, secret = await _hub(request).create_room(quiz["id"], quiz, team, lang, base)
    return JSONResponse(
        {"code": code, "host_secret": secret, "join_url": f"{base}/join/{code}"}, 201
    )


async def _room(request: Request) -> Room | Response:
    """The room named in the path, or the Dutch 404 for a wrong or expired code."""
    code = request.path_params["code"]
    loaded = await _hub(request).load(code) if codes.is_room_code(code) else None
    if loaded is None:
        return _error(request, "room_not_found", 404)
    return loaded[1]


async def room_info(request: Request) -> Response:
    room = await _room(request)
    if isinstance(room, Response):
        return room
    hub, code = _hub(request), room.code
    quiz = await hub.quiz_of(code, room.created)
    return JSONResponse(
        {
            "code": code,
            "phase": room.state.phase,
            "locked": room.locked,
            "players": await hub.backend.hlen(code, "players"),
            "title": quiz["title"],
        }
    )


async def room_qr(request: Request) -> Response:
    room = await _room(request)
    if isinstance(room, Response):
        return room
    buffer = io.BytesIO()
    segno.make(room.join_url, error="m").save(buffer, kind="svg", scale=10, border=2)
    return Response(
        buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"}
    )


async def _results(request: Request) -> tuple[dict[str, Any], str] | Response:
    """Every round's results (`rounds`, the current round's fields at the top), or only round
    `?round=N`; with the room's language."""
    room = await _room(request)
    if isinstance(room, Response):
        return room
    hub, code = _hub(request), room.code
    secret = request.query_params.get("secret") or request.headers.get("x-host-secret", "")
    if not codes.matches(secret, room.secret):
        return _error(request, "not_host", 403)
    quiz = await hub.quiz_of(code, room.created)
    rounds = [
        results(state, quiz, names, room.lang) for _, state, names in await hub.rounds(code, room)
    ]
    wanted = request.query_params.get("round")
    if wanted is not None:
        chosen = [r for r in rounds if str(r["round"]) == wanted.strip()]
        if not chosen:
            return _error(request, "round_not_found", 404)
        rounds = chosen
    return with_rounds(rounds), room.lang


async def results_json(request: Request) -> Response:
    found = await _results(request)
    if isinstance(found, Response):
        return found
    return JSONResponse(
        found[0],
        headers=_attachment(f"resultaten-{request.path_params['code']}.json"),
    )


async def results_csv_export(request: Request) -> Response:
    """`?dialect=excel-nl`: semicolons and decimal commas, for Excel set to Dutch; the default
    is RFC 4180 (commas)."""
    dialect = request.query_params.get("dialect", "rfc4180")
    if dialect not in DIALECTS:
        return _error(request, "not_found", 404)
    found = await _results(request)
    if isinstance(found, Response):
        return found
    data, lang = found
    suffix = "-excel" if dialect == "excel-nl" else ""
    return Response(
        results_csv(data, dialect, lang),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"resultaten-{request.path_params['code']}{suffix}.csv"),
    )


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


routes = [
    Route("/healthz", healthz),
    Route("/api/quizzes", list_quizzes, methods=["GET"]),
    Route("/api/quizzes", upload_quiz, methods=["POST"]),
    Route("/api/quizzes/{quiz_id}", get_quiz),
    Route("/api/rooms", create_room, methods=["POST"]),
    Route("/api/rooms/{code}", room_info),
    Route("/api/rooms/{code}/qr.svg", room_qr),
    Route("/api/rooms/{code}/results.json", results_json),
    Route("/api/rooms/{code}/results.csv", results_csv_export),
    Route("/api/bokaal", bokaal_history),
    Route("/api/bokaal.csv", bokaal_csv),
]
