"""Where PACT answers may be sent: only where the partner registered, never into our network.

A RequestCreated event names the requester's Events endpoint in its `source`; answering it
makes this server send an HTTP request there, so a forged `source` would turn the server into
a proxy into its own network (SSRF: `http://127.0.0.1:8299/internal/admin?action=delete`).
The rules:

1. A client (or its tenant, "company") with a registered callback URL is answered there only:
   the source must have the registered scheme, host and port, and a path under the registered
   one (`openpcf clients callback CLIENT URL`, `openpcf tenants callback TENANT URL`).
2. Without a registration, the host must be in OPENPCF_PACT_CALLBACK_HOSTS (an operator-wide
   list: weaker, every client may then name every listed host).
3. HTTPS only. Loopback and private, link-local, multicast and reserved addresses are refused
   unless the operator turns on OPENPCF_PACT_CALLBACK_LOOPBACK for local tests (then loopback
   hosts need no registration, and plain HTTP is allowed to them).
4. At send time the host name is resolved and every address it resolves to must pass rule 3;
   the connection then goes to the checked address (the URL's host kept for the Host header
   and TLS server name), so a name that resolves elsewhere a moment later (DNS rebinding)
   cannot redirect it. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.orm import Session

from openpcf import config
from openpcf.domain.platform import Principal
from openpcf.io.pact.schema import PactVersion
from openpcf.store.models import ApiClient, Tenant

SETTING = "OPENPCF_PACT_CALLBACK_LOOPBACK"


class CallbackRefused(ValueError):
    """The event's `source` is not a host openpcf may call back; the message says why."""


def registered_callback(session: Session, who: Principal) -> str | None:
    """The callback URL registered for the requesting client, else for its tenant."""
    from sqlalchemy import select

    if who.kind == "client":
        url = session.scalar(
            select(ApiClient.callback_url).where(ApiClient.client_id == who.subject)
        )
        if url:
            return url
    if who.tenant_id is None:
        return None
    return session.scalar(select(Tenant.pact_callback_url).where(Tenant.id == who.tenant_id))


def check_registration(url: str) -> str:
    """A callback URL to register: https://host[:port][/path] (http only to loopback when
    OPENPCF_PACT_CALLBACK_LOOPBACK is on); returned normalised, else CallbackRefused."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CallbackRefused(f"'{url}' is not an https://host/path URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise CallbackRefused(f"'{url}' must carry no credentials, query or fragment")
    if parts.scheme == "http" and not (
        _private(parts.hostname) and config.pact_callback_loopback()
    ):
        raise CallbackRefused(f"'{url}': events are sent over HTTPS only (PACT)")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def callback_url(source: str, version: PactVersion, registered: str | None = None) -> str:
    """The Events endpoint a request's `source` names, if allowed (else CallbackRefused)."""
    text = source.strip()
    if text.startswith("//"):
        text = "https:" + text
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise CallbackRefused(
            f"source '{source}' names no host to answer to (expected //host/path or "
            "https://host/path)"
        )
    if parts.username or parts.password:
        raise CallbackRefused(f"source '{source}' must not carry credentials")
    path = parts.path if parts.path not in ("", "/") else f"/{version}/events"
    query = f"?{parts.query}" if parts.query else ""
    target = f"{parts.scheme}://{parts.netloc.lower()}{path}{query}"
    if registered:
        base = check_registration(registered)
        if not (target == base or target.startswith(base + "/") or target.startswith(base + "?")):
            raise CallbackRefused(
                f"source '{source}' is not under the callback URL registered for the requester "
                f"({base})"
            )
    reason = refusal(parts.hostname, parts.port, registered=bool(registered))
    if reason:
        raise CallbackRefused(reason)
    if parts.scheme == "http" and not _private(parts.hostname):
        raise CallbackRefused(f"source '{source}': events are sent over HTTPS only (PACT)")
    return target


def refusal(host: str, port: int | None = None, registered: bool = False) -> str | None:
    """Why `host` may not be called back (by its name or literal address), or None."""
    host = host.lower().rstrip(".").strip("[]")
    if _private(host):
        if config.pact_callback_loopback():
            return None
        return (
            f"callback host {host} is a loopback or private address; such callbacks are only "
            f"for local tests ({SETTING}=1)"
        )
    if registered:
        return None
    for allowed in config.pact_callback_hosts():
        name, _, want_port = allowed.lower().partition(":")
        if want_port and port is not None and want_port != str(port):
            continue
        if name == "*" or name == host or (name.startswith("*.") and host.endswith(name[1:])):
            return None
    return (
        f"callback host {host} is not allowed: register the client's callback URL (openpcf "
        "clients callback) or add the host to OPENPCF_PACT_CALLBACK_HOSTS (comma-separated host "
        "names, *.domain or *)"
    )


def _private(host: str) -> bool:
    """A loopback name, or a literal address that is not public."""
    host = host.lower().strip("[]")
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return not _public(ipaddress.ip_address(host))
    except ValueError:
        return False


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _public(ip.ipv4_mapped)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


def checked_address(host: str, port: int) -> str:
    """The address to connect to: `host` resolved, every address public (or the test setting
    on); CallbackRefused otherwise (names that resolve into our network, DNS rebinding)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise CallbackRefused(f"callback host {host} does not resolve ({exc})") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise CallbackRefused(f"callback host {host} resolves to no address")
    if not config.pact_callback_loopback():
        for address in addresses:
            if not _public(ipaddress.ip_address(address.split("%")[0])):
                raise CallbackRefused(
                    f"callback host {host} resolves to {address}, a loopback or private "
                    f"address; refused ({SETTING}=1 allows it for local tests)"
                )
    return addresses[0]


def pinned_request(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """`http.request` to the checked address of the URL's host (Host header and TLS server
    name stay the host name, so certificates are verified against it)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    reason = refusal(host, parts.port, registered=True)  # literal addresses and the setting
    if reason:
        raise CallbackRefused(reason)
    address = checked_address(host, port)
    shown = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{shown}:{port}", parts.path, parts.query, ""))
    headers = dict(kwargs.pop("headers", None) or {})
    headers["host"] = parts.netloc
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return http.request(method, pinned, headers=headers, extensions=extensions, **kwargs)


def register_callback(
    session: Session, actor: str, url: str | None, client_id: str | None = None,
    tenant: str | None = None,
) -> str | None:  # fmt: skip
    """Register (or with None, clear) where PACT answers to a client's, or a tenant's,
    requests go; returns the normalised URL. Operators only (the CLI)."""
    from sqlalchemy import select

    from openpcf.services.errors import InvalidRequest, NotFound
    from openpcf.store.audit import attribute

    try:
        clean = check_registration(url) if url else None
    except CallbackRefused as exc:
        raise InvalidRequest(str(exc)) from None
    with session.begin():
        if client_id is not None:
            client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
            if client is None:
                raise NotFound(f"no API client '{client_id}'")
            attribute(session, actor, client.tenant.slug)
            client.callback_url = clean
        else:
            row = session.scalar(select(Tenant).where(Tenant.slug == tenant))
            if row is None:
                raise NotFound(f"no tenant '{tenant}'")
            attribute(session, actor, row.slug)
            row.pact_callback_url = clean
    return clean
