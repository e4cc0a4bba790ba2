"""``GET /recordings/{attempt_id}.wav``: an attempt's recording, by signed link (ours).

No API key: the link's signature is the credential, so an ``<audio>`` element or a
webhook consumer can fetch it directly. Range requests are answered with 206 (browsers
seek with them); the first fetch of a simulated call synthesises its audio."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from openrevox.api.deps import Services
from openrevox.errors import Forbidden, NotFound
from openrevox.results.blobstore import BlobStore

router = APIRouter(tags=["recordings"])

MEDIA_TYPE = "audio/wav"
STREAM_CHUNK = 1 << 20
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


PATH = "/recordings/{attempt_id}.wav"
_EXPIRES = re.compile(r"[0-9]{1,12}")


@router.head(PATH, include_in_schema=False)
@router.get(
    PATH,
    operation_id="get_recording",
    summary="Ours: an attempt's recording (WAV, agent left, callee right) by signed link",
    response_class=Response,
    responses={
        200: {"content": {MEDIA_TYPE: {}}, "description": "the whole recording"},
        206: {"content": {MEDIA_TYPE: {}}, "description": "the requested byte range"},
        403: {"description": "expired or altered link"},
        404: {"description": "unknown attempt, or one without a recording"},
    },
)
async def get_recording(
    request: Request,
    services: Services,
    attempt_id: Annotated[str, Path(max_length=64)],
    expires: Annotated[str | None, Query(description="Unix time the link expires")] = None,
    signature: Annotated[str | None, Query(description="HMAC-SHA256, hex")] = None,
) -> Response:
    now = services.clock.now()
    if not expires or not _EXPIRES.fullmatch(expires) or not signature:
        raise Forbidden("the recording link is missing its expiry or signature", code="unsigned")
    services.recording_signer.verify(attempt_id, int(expires), signature, now)
    key = await services.recordings.locate(attempt_id, now)
    headers = {
        "cache-control": f"private, max-age={max(int(expires) - int(now.timestamp()), 0)}",
        "content-disposition": f'inline; filename="{attempt_id}.wav"',
        "accept-ranges": "bytes",
    }
    store = services.recordings.store
    path = store.local_path(key)
    if path is not None:
        return FileResponse(path, media_type=MEDIA_TYPE, headers=headers)
    return await _remote(store, key, request.headers.get("range"), headers)


async def _remote(
    store: BlobStore, key: str, range_header: str | None, headers: dict[str, str]
) -> Response:
    info = await store.stat(key)
    if info is None:
        raise NotFound("the recording is no longer stored", code="no_recording")
    size = info.size
    headers["etag"] = f'"{int(info.modified.timestamp())}-{size}"'
    try:
        wanted = parse_range(range_header, size) if range_header else None
    except Unsatisfiable:
        return Response(status_code=416, headers={"content-range": f"bytes */{size}"})
    if wanted is None:
        start, end, status = 0, size - 1, 200
    else:
        (start, end), status = wanted, 206
        headers["content-range"] = f"bytes {start}-{end}/{size}"
    headers["content-length"] = str(max(end - start + 1, 0))
    return StreamingResponse(
        _chunks(store, key, start, end), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


class Unsatisfiable(Exception):
    """The range starts past the end of the blob (416)."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range as inclusive (start, end); None to ignore the header (several
    ranges or a malformed one: RFC 9110 lets a server answer 200 with everything)."""
    found = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if found is None or (not found[1] and not found[2]):
        return None
    if not found[1]:  # the last N bytes
        suffix = int(found[2])
        if not suffix or not size:
            raise Unsatisfiable
        return max(size - suffix, 0), size - 1
    start = int(found[1])
    end = min(int(found[2]), size - 1) if found[2] else size - 1
    if start >= size:
        raise Unsatisfiable
    if end < start:
        return None
    return start, end


async def _chunks(store: BlobStore, key: str, start: int, end: int) -> AsyncIterator[bytes]:
    position = start
    while position <= end:
        last = min(position + STREAM_CHUNK - 1, end)
        chunk = await store.read_range(key, position, last)
        if not chunk:
            return
        yield chunk
        position += len(chunk)
