"""What the Cartesia and ElevenLabs clients share: one HTTP call that turns every failure
into a VoiceProviderError, and the small normalisations of their voice metadata."""

from __future__ import annotations

from typing import Any, Final

import httpx

from openrevox.voices.models import VOICE_LANGUAGES, VoiceNotFound, VoiceProviderError

# ElevenLabs has answered an unknown voice id with 400 and one of these codes in the past.
_NOT_FOUND_CODES: Final = frozenset({"voice_not_found", "voice_does_not_exist"})
_STATUS_SUMMARIES: Final = {
    401: "rejected the API key",
    403: "refused access with this API key",
    404: "has no such resource",
    429: "is rate limiting requests",
}
_SAMPLE_EXTENSIONS: Final = {
    "audio/webm": "webm",
    "video/webm": "webm",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
}
_GENDERS: Final = {
    "male": "male",
    "masculine": "male",
    "female": "female",
    "feminine": "female",
    "neutral": "neutral",
    "gender_neutral": "neutral",
    "non-binary": "neutral",
    "non_binary": "neutral",
}


def require_api_key(api_key: str, *, provider: str, setting: str) -> str:
    """Fail at construction, not at the first call, and name the missing credential."""
    if not api_key or not api_key.strip():
        raise ValueError(f"the {provider} API key is empty: set {setting}")
    return api_key.strip()


async def send(
    http: httpx.AsyncClient, provider: str, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """One request; any transport failure or non-2xx answer raises VoiceProviderError."""
    try:
        response = await http.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        raise VoiceProviderError(provider, None, f"request failed: {error!r}") from error
    if response.is_success:
        return response
    raise provider_error(provider, response)


def provider_error(provider: str, response: httpx.Response) -> VoiceProviderError:
    status = response.status_code
    detail, code = _error_detail(response)
    summary = _STATUS_SUMMARIES.get(status) or (
        "had a server error" if status >= 500 else "refused the request"
    )
    message = f"{summary}: {detail}" if detail else summary
    if status == 404 or code in _NOT_FOUND_CODES:
        return VoiceNotFound(provider, status, message)
    return VoiceProviderError(provider, status, message)


def _error_detail(response: httpx.Response) -> tuple[str, str | None]:
    """The provider's own message (and machine code, if any), kept short for logs."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300], None
    if isinstance(body, dict):
        detail = body.get("detail", body)
        if isinstance(detail, dict):
            code = detail.get("status") or detail.get("code")
            text = detail.get("message") or detail.get("error") or detail.get("title")
            return str(text or "")[:300], str(code) if code else None
        if detail is not body and detail:
            return str(detail)[:300], None
    return str(body)[:300], None


def language_code(raw: object) -> str | None:
    """'en', 'en-US' or 'fr_CA' -> 'en' / 'fr'; None when outside the contract's languages."""
    if not isinstance(raw, str) or not raw:
        return None
    code = raw.replace("_", "-").split("-", 1)[0].lower()
    return code if code in VOICE_LANGUAGES else None


def gender_label(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    return _GENDERS.get(raw.strip().lower())


def sample_filename(content_type: str) -> str:
    """Providers guess the codec from the file name, so give the sample a telling one."""
    base_type = content_type.split(";", 1)[0].strip().lower()
    return f"sample.{_SAMPLE_EXTENSIONS.get(base_type, 'bin')}"
