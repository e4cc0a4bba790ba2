"""Runtime configuration, read once from ``OPENREVOX_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"OPENREVOX_{name}")
    return value if value not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    return float(raw) if raw is not None else default


def _positive(name: str, default: float) -> float:
    value = _env_float(name, default)
    if value <= 0:
        raise ValueError(f"OPENREVOX_{name} must be a positive number of seconds, not {value}")
    return value


def _fidelity(value: str) -> str:
    fidelity = value.strip().lower()
    if fidelity not in ("text", "audio"):
        raise ValueError(f"OPENREVOX_SIM_FIDELITY must be text or audio, not {value!r}")
    return fidelity


TELEPHONY_CHOICES = ("sim", "twilio")
STT_PROVIDERS = ("soniox", "deepgram", "openai", "local")
TTS_FALLBACKS = ("local", "openai")


def _one_of(name: str, value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is None or not value.strip():
        return None
    choice = value.strip().lower()
    if choice not in choices:
        raise ValueError(f"OPENREVOX_{name} must be one of {', '.join(choices)}, not {value!r}")
    return choice


def _telephony(value: str) -> str:
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in TELEPHONY_CHOICES]
    if unknown or not names:
        raise ValueError(
            f"OPENREVOX_TELEPHONY is a comma list of {', '.join(TELEPHONY_CHOICES)}, not {value!r}"
        )
    return ",".join(dict.fromkeys(names))


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "", "*", "[::]"})


def wildcard_host(host: str) -> bool:
    """Whether ``host`` listens on every interface (no single address to link to)."""
    return host.strip() in WILDCARD_HOSTS


def listen_url(host: str, port: int) -> str:
    """The URL of a server listening on ``host:port`` (127.0.0.1 for a wildcard host)."""
    name = "127.0.0.1" if wildcard_host(host) else host.strip().strip("[]")
    if ":" in name:  # an IPv6 address
        name = f"[{name}]"
    return f"http://{name}:{port}"


def normalize_database_url(url: str) -> str:
    """Pick the async driver for plain ``postgresql://`` and ``sqlite://`` URLs."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("openrevox-data")
    database_url: str = ""
    # The base of every link handed out. Unless OPENREVOX_PUBLIC_URL sets it
    # (``public_url_explicit``), it follows the address the server listens on
    # (``listening_on``).
    public_url: str = "http://127.0.0.1:8000"
    public_url_explicit: bool = False
    bootstrap_api_key: str | None = None
    default_country: str = "US"
    telephony_provider: str = "sim"  # a comma list: sim, twilio
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_key_sid: str | None = None
    twilio_api_key_secret: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_calls_per_second: float = 1.0
    twilio_request_timeout_seconds: float = 10.0
    twilio_ring_timeout_seconds: int = 30
    twilio_callback_grace_seconds: float = 15.0
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    # JSON: dedicated-instance name -> {"base_url", "api_key"?, "model"?}
    llm_endpoints: str | None = None
    llm_timeout_seconds: float = 15.0
    openrouter_api_key: str | None = None
    openrouter_base_url: str = "https://openrouter.ai/api/v1"
    calendly_api_key: str | None = None
    calendly_base_url: str = "https://api.calendly.com"
    # Fernet keys (comma-separated, the first encrypts) for secrets at rest; unset: a key
    # file made once in data_dir (never in the database).
    encryption_key: str | None = None
    auth_cache_seconds: float = 5.0
    rate_limit_per_second: float = 100.0
    rate_limit_burst: float = 200.0
    sim_speed: float = 1.0
    sim_fidelity: str = "text"  # text | audio (real audio through the whole pipeline)
    worker_capacity: int = 200
    lease_seconds: float = 30.0
    recovery_seconds: float = 5.0
    poll_seconds: float = 0.2
    concurrency_key_default_limit: int = 1
    organization_concurrency_limit: int = 10
    webhook_allow_hosts: tuple[str, ...] = ()
    webhook_timeout_seconds: float = 10.0
    webhook_retry_schedule: str | None = None
    cartesia_api_key: str | None = None
    cartesia_base_url: str = "https://api.cartesia.ai"
    elevenlabs_api_key: str | None = None
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    soniox_api_key: str | None = None
    soniox_base_url: str = "wss://stt-rt.soniox.com"
    elevenlabs_tts_model: str = "eleven_flash_v2_5"
    deepgram_api_key: str | None = None
    deepgram_base_url: str = "wss://api.deepgram.com"
    deepgram_model: str = "nova-3"
    openai_speech_base_url: str | None = None  # any OpenAI-compatible speech server
    openai_speech_api_key: str | None = None
    openai_tts_model: str = "tts-1"
    openai_tts_voice: str = "alloy"
    openai_stt_model: str = "whisper-1"
    stt_provider: str | None = None  # unset: Soniox when it has a key, else local
    tts_fallback: str = "local"
    # "allow": the bundled local kit may serve real carrier calls (else they are refused)
    local_speech: str = "refuse"
    extra: dict[str, str] = field(default_factory=dict)
    blob_store: str = "local"  # local | s3
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    secret_key: str | None = None  # unset: one random secret, kept in the database
    recording_url_ttl_seconds: int = 3600
    recording_retention_days: float | None = None  # unset: keep recordings forever

    def __post_init__(self) -> None:
        if not self.database_url:
            url = f"sqlite+aiosqlite:///{(self.data_dir / 'openrevox.db').as_posix()}"
            object.__setattr__(self, "database_url", url)
        object.__setattr__(self, "database_url", normalize_database_url(self.database_url))

    @property
    def carriers(self) -> tuple[str, ...]:
        """The real carriers configured (``OPENREVOX_TELEPHONY`` without ``sim``)."""
        names = (name.strip() for name in self.telephony_provider.split(","))
        return tuple(name for name in names if name and name != "sim")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def listening_on(self, host: str, port: int) -> Settings:
        """These settings for a server listening on ``host:port``: links follow that
        address unless OPENREVOX_PUBLIC_URL set them. A wildcard host (0.0.0.0, ::)
        names no address a client can use: links go to 127.0.0.1 then (``wildcard_host``
        tells the caller to warn)."""
        if self.public_url_explicit:
            return self
        return replace(self, public_url=listen_url(host, port))

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            data_dir=Path(_env("DATA_DIR", "openrevox-data") or "openrevox-data"),
            database_url=_env("DATABASE_URL", "") or "",
            public_url=(_env("PUBLIC_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
            public_url_explicit=_env("PUBLIC_URL") is not None,
            bootstrap_api_key=_env("BOOTSTRAP_API_KEY"),
            default_country=(_env("DEFAULT_COUNTRY", "US") or "US").upper(),
            telephony_provider=_telephony(_env("TELEPHONY", "sim") or "sim"),
            twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
            twilio_api_key_sid=_env("TWILIO_API_KEY_SID"),
            twilio_api_key_secret=_env("TWILIO_API_KEY_SECRET"),
            twilio_api_base_url=(
                _env("TWILIO_API_BASE_URL", "https://api.twilio.com") or ""
            ).rstrip("/"),
            twilio_calls_per_second=_env_float("TWILIO_CALLS_PER_SECOND", 1.0),
            twilio_request_timeout_seconds=_positive("TWILIO_REQUEST_TIMEOUT_SECONDS", 10.0),
            twilio_ring_timeout_seconds=int(_env_float("TWILIO_RING_TIMEOUT_SECONDS", 30)),
            twilio_callback_grace_seconds=_positive("TWILIO_CALLBACK_GRACE_SECONDS", 15.0),
            llm_base_url=_env("LLM_BASE_URL"),
            llm_api_key=_env("LLM_API_KEY"),
            llm_endpoints=_env("LLM_ENDPOINTS"),
            llm_timeout_seconds=_positive("LLM_TIMEOUT_SECONDS", 15.0),
            openrouter_api_key=_env("OPENROUTER_API_KEY"),
            openrouter_base_url=_env("OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1") or "",
            calendly_api_key=_env("CALENDLY_API_KEY"),
            calendly_base_url=_env("CALENDLY_BASE_URL", "https://api.calendly.com") or "",
            encryption_key=_env("ENCRYPTION_KEY"),
            auth_cache_seconds=_env_float("AUTH_CACHE_SECONDS", 5.0),
            rate_limit_per_second=_env_float("RATE_LIMIT_PER_SECOND", 100.0),
            rate_limit_burst=_env_float("RATE_LIMIT_BURST", 200.0),
            sim_speed=_env_float("SIM_SPEED", 1.0),
            sim_fidelity=_fidelity(_env("SIM_FIDELITY", "text") or "text"),
            worker_capacity=int(_env_float("WORKER_CAPACITY", 200)),
            lease_seconds=_positive("LEASE_SECONDS", 30.0),
            recovery_seconds=_positive("RECOVERY_SECONDS", 5.0),
            poll_seconds=_positive("POLL_SECONDS", 0.2),
            concurrency_key_default_limit=int(_env_float("CONCURRENCY_KEY_DEFAULT_LIMIT", 1)),
            organization_concurrency_limit=int(_env_float("ORGANIZATION_CONCURRENCY_LIMIT", 10)),
            webhook_allow_hosts=tuple(
                h.strip().lower()
                for h in (_env("WEBHOOK_ALLOW_HOSTS", "") or "").split(",")
                if h.strip()
            ),
            webhook_timeout_seconds=_env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0),
            webhook_retry_schedule=_env("WEBHOOK_RETRY_SCHEDULE"),
            cartesia_api_key=_env("CARTESIA_API_KEY"),
            cartesia_base_url=_env("CARTESIA_BASE_URL", "https://api.cartesia.ai") or "",
            elevenlabs_api_key=_env("ELEVENLABS_API_KEY"),
            elevenlabs_base_url=_env("ELEVENLABS_BASE_URL", "https://api.elevenlabs.io") or "",
            soniox_api_key=_env("SONIOX_API_KEY"),
            soniox_base_url=_env("SONIOX_BASE_URL", "wss://stt-rt.soniox.com") or "",
            elevenlabs_tts_model=_env("ELEVENLABS_TTS_MODEL", "eleven_flash_v2_5") or "",
            deepgram_api_key=_env("DEEPGRAM_API_KEY"),
            deepgram_base_url=_env("DEEPGRAM_BASE_URL", "wss://api.deepgram.com") or "",
            deepgram_model=_env("DEEPGRAM_MODEL", "nova-3") or "nova-3",
            openai_speech_base_url=_env("OPENAI_SPEECH_BASE_URL"),
            openai_speech_api_key=_env("OPENAI_SPEECH_API_KEY"),
            openai_tts_model=_env("OPENAI_TTS_MODEL", "tts-1") or "tts-1",
            openai_tts_voice=_env("OPENAI_TTS_VOICE", "alloy") or "alloy",
            openai_stt_model=_env("OPENAI_STT_MODEL", "whisper-1") or "whisper-1",
            stt_provider=_one_of("STT_PROVIDER", _env("STT_PROVIDER"), STT_PROVIDERS),
            tts_fallback=_one_of("TTS_FALLBACK", _env("TTS_FALLBACK"), TTS_FALLBACKS) or "local",
            local_speech=_one_of("LOCAL_SPEECH", _env("LOCAL_SPEECH"), ("allow", "refuse"))
            or "refuse",
            blob_store=(_env("BLOB_STORE", "local") or "local").lower(),
            s3_bucket=_env("S3_BUCKET"),
            s3_endpoint_url=_env("S3_ENDPOINT_URL"),
            s3_region=_env("S3_REGION"),
            secret_key=_env("SECRET_KEY"),
            recording_url_ttl_seconds=int(_env_float("RECORDING_URL_TTL_SECONDS", 3600)),
            recording_retention_days=(
                _env_float("RECORDING_RETENTION_DAYS", 0.0)
                if _env("RECORDING_RETENTION_DAYS") is not None
                else None
            ),
        )
