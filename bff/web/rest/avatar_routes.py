"""/api/user/avatar (upload, authenticated) and /api/avatars/{id}.jpg (the picture, public).

Not GraphQL: the mini program sends the file with ``wx.uploadFile`` (multipart), and the
``<image>`` that shows it cannot send a bearer token, so the picture is served by an
unguessable id. The URL kept in the profile is https, made from ``BFF_PUBLIC_URL``.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bff.core.errors import BffError, ErrorCode
from bff.web.appstate import services_of, settings_of
from bff.web.gql import build_context, error_response

UPLOAD_PATH = "/api/user/avatar"
MULTIPART_SLACK = 16 * 1024  # boundaries and part headers around the file
FILE_FIELD = "file"  # wx.uploadFile's `name`


def public_base(request: Request) -> str:
    """BFF_PUBLIC_URL; outside production without it, this request's host with https
    (production refuses to start without an https BFF_PUBLIC_URL)."""
    configured = str(settings_of(request).public_url).rstrip("/")
    return configured or f"https://{request.url.netloc}"


async def upload(request: Request) -> Response:
    services = services_of(request)
    try:
        viewer = await build_context(services, request).require_viewer()
        async with request.form(max_files=1, max_fields=4) as form:
            part = form.get(FILE_FIELD)
            if not isinstance(part, UploadFile):
                raise BffError(ErrorCode.BAD_USER_INPUT, "请选择头像图片", field=FILE_FIELD)
            data = await part.read(services.avatars.max_bytes + 1)
        avatar_id = await services.avatars.store(viewer.openid, data)
        url = f"{public_base(request)}/api/avatars/{avatar_id}.jpg"
        await services.sessions.update_profile(viewer.openid, None, url)
    except BffError as error:
        return error_response(error.code, error.message, **error.details)
    return JSONResponse({"avatarUrl": url})


async def picture(request: Request) -> Response:
    avatar_id = request.path_params["avatar_id"]
    row = await services_of(request).avatars.load(avatar_id) if len(avatar_id) == 32 and avatar_id.isalnum() else None
    if row is None:
        return error_response(ErrorCode.NOT_FOUND, "头像不存在")
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
    return Response(row.data, media_type=row.content_type, headers=headers)


def routes() -> list[Route]:
    return [
        Route(UPLOAD_PATH, upload, methods=["POST"]),
        Route("/api/avatars/{avatar_id}.jpg", picture, methods=["GET"]),
    ]
