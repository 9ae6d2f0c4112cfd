"""Configuration from `OPENPCF_*` environment variables, each with a documented default."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit


def home() -> Path:
    """OPENPCF_HOME: where the embedded database lives. Default: ~/.openpcf."""
    return Path(os.environ.get("OPENPCF_HOME") or Path.home() / ".openpcf")


def database_url() -> str:
    """OPENPCF_DATABASE_URL: a SQLAlchemy URL (postgresql+psycopg://...). Default: SQLite in home."""
    url = os.environ.get("OPENPCF_DATABASE_URL")
    if url:
        return url
    path = home() / "openpcf.db"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def tenant() -> str:
    """OPENPCF_TENANT: the tenant the command line acts for. Default: local."""
    return os.environ.get("OPENPCF_TENANT") or "local"


def token_ttl() -> int:
    """OPENPCF_TOKEN_TTL: seconds an access token from POST /auth/token lives. Default: 3600."""
    return int(os.environ.get("OPENPCF_TOKEN_TTL") or 3600)


def max_model_bytes() -> int:
    """OPENPCF_MAX_MODEL_BYTES: largest model document the API accepts. Default: 2 MiB."""
    return int(os.environ.get("OPENPCF_MAX_MODEL_BYTES") or 2 * 1024 * 1024)


def request_seconds() -> float:
    """OPENPCF_REQUEST_SECONDS: seconds of parsing and calculation one request may take before it
    is refused with 413 limit_exceeded. Default: 30."""
    return float(os.environ.get("OPENPCF_REQUEST_SECONDS") or 30)


def api_threads() -> int:
    """OPENPCF_API_THREADS: worker threads of an API process for blocking work. Default: 8."""
    return int(os.environ.get("OPENPCF_API_THREADS") or 8)


def public_url() -> str:
    """OPENPCF_PUBLIC_URL: base address of the public product pages that label QR codes point to
    (`{public_url}/p/{certificate_id}`). Default: http://127.0.0.1:8000."""
    return (os.environ.get("OPENPCF_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")


# --- PACT exchange: outgoing events and the token endpoint's rate limit ---------------------


def _on(name: str) -> bool:
    return (os.environ.get(name) or "1").lower() not in ("0", "false", "no", "off")


def pact_callback_hosts() -> list[str]:
    """OPENPCF_PACT_CALLBACK_HOSTS: comma-separated hosts (host, host:port, *.domain or *) whose
    Events endpoints PACT answers may be sent to, besides loopback. Default: none."""
    raw = os.environ.get("OPENPCF_PACT_CALLBACK_HOSTS") or ""
    return [h.strip() for h in raw.split(",") if h.strip()]


def pact_callback_loopback() -> bool:
    """OPENPCF_PACT_CALLBACK_LOOPBACK: send PACT answers to loopback and private addresses
    (localhost, 127.0.0.0/8, ::1, 10/8, 172.16/12, 192.168/16, link-local, ...), over plain
    HTTP too, for local testing only. Default: 0 (no: such callbacks are refused, as a request
    naming them would make this server call into its own network)."""
    return (os.environ.get("OPENPCF_PACT_CALLBACK_LOOPBACK") or "0").lower() in (
        "1",
        "true",
        "yes",
        "on",
    )


def pact_partners_file() -> Path | None:
    """OPENPCF_PACT_PARTNERS: YAML/JSON file of partners' credentials for their token endpoints
    ({host: {client_id, client_secret, token_url?}}). Default: none (events sent without token)."""
    raw = os.environ.get("OPENPCF_PACT_PARTNERS")
    return Path(raw) if raw else None


def pact_callback_timeout() -> float:
    """OPENPCF_PACT_CALLBACK_TIMEOUT: seconds one delivery try may take. Default: 10."""
    return float(os.environ.get("OPENPCF_PACT_CALLBACK_TIMEOUT") or 10)


def pact_retry_base() -> timedelta:
    """OPENPCF_PACT_RETRY_BASE: seconds before the first retry; doubled each time (at most 6 h
    apart). Default: 30."""
    return timedelta(seconds=float(os.environ.get("OPENPCF_PACT_RETRY_BASE") or 30))


def pact_max_attempts() -> int:
    """OPENPCF_PACT_MAX_ATTEMPTS: tries per event before giving up (never beyond 72 h). Default: 12."""
    return int(os.environ.get("OPENPCF_PACT_MAX_ATTEMPTS") or 12)


def pact_poll() -> float:
    """OPENPCF_PACT_POLL: seconds between the delivery worker's rounds. Default: 15."""
    return float(os.environ.get("OPENPCF_PACT_POLL") or 15)


def pact_worker() -> bool:
    """OPENPCF_PACT_WORKER: run the delivery worker in the API server. Default: 1 (yes)."""
    return _on("OPENPCF_PACT_WORKER")


def pact_ca_bundle() -> str | None:
    """OPENPCF_PACT_CA_BUNDLE: CA certificates (PEM) trusted for partners' HTTPS endpoints, e.g.
    a partner's self-signed certificate. Default: the system's."""
    return os.environ.get("OPENPCF_PACT_CA_BUNDLE") or None


def pact_event_source(version: str) -> str:
    """The `source` of outgoing PACT events when the request's host is not known:
    //<host of OPENPCF_PUBLIC_URL>/<version>/events."""
    return f"//{urlsplit(public_url()).netloc}/{version}/events"


def token_rate() -> tuple[int, int]:
    """OPENPCF_TOKEN_RATE: POST /auth/token requests allowed per minute per client id and per
    source address, as 'PER_CLIENT,PER_ADDRESS' (0 turns a limit off). Default: 10,30."""
    raw = os.environ.get("OPENPCF_TOKEN_RATE") or "10,30"
    first, _, second = raw.partition(",")
    per_client = int(first)
    return per_client, int(second) if second.strip() else per_client


# --- hardening: hosts, public address, sign-in ----------------------------------------------


def public_url_set() -> bool:
    """Whether OPENPCF_PUBLIC_URL is given (`openpcf serve` needs it outside --demo)."""
    return bool(os.environ.get("OPENPCF_PUBLIC_URL"))


def allowed_hosts() -> list[str]:
    """OPENPCF_ALLOWED_HOSTS: comma-separated host names (host, host:port, *.domain) the server
    answers to; a request whose Host header is another gets 400. Default: none set, every Host
    is answered (`openpcf serve` outside --demo sets it to the public URL's host and the
    listening address)."""
    raw = os.environ.get("OPENPCF_ALLOWED_HOSTS") or ""
    return [h.strip().lower() for h in raw.split(",") if h.strip()]


def password_min_length() -> int:
    """OPENPCF_PASSWORD_MIN_LENGTH: shortest password accepted for a user. Default: 12 (ASVS
    2.1.1)."""
    return int(os.environ.get("OPENPCF_PASSWORD_MIN_LENGTH") or 12)


def sign_in_limits() -> tuple[int, int, int]:
    """OPENPCF_SIGN_IN_LIMITS: 'PER_ACCOUNT,PER_ADDRESS,MINUTES': failed sign-ins allowed per
    e-mail and per source address within MINUTES before further tries are refused until the
    window has passed. Default: 5,50,15."""
    raw = os.environ.get("OPENPCF_SIGN_IN_LIMITS") or "5,50,15"
    account, address, minutes = (int(x) for x in raw.split(","))
    return account, address, minutes


def ledger_checkpoint_minutes() -> float:
    """OPENPCF_LEDGER_CHECKPOINT_MINUTES: the API server signs a checkpoint of the ledger this
    often (when it has grown; the first one this long after start). Default: 60; 0 turns it
    off (then `openpcf ledger checkpoint`, e.g. from cron)."""
    return float(os.environ.get("OPENPCF_LEDGER_CHECKPOINT_MINUTES") or 60)
