"""Tenants, users, API clients and their credentials; who a bearer token belongs to.

Passwords and client secrets are hashed with scrypt (a memory-hard KDF from the standard
library). Tokens are 256-bit random values, so a plain sha256 of them is enough to look them up
without keeping them: a stolen database yields no usable token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from openpcf import config
from openpcf.domain.platform import (
    SLUG,
    ClientCredentials,
    IssuedToken,
    NewUser,
    Principal,
    Role,
    TenantInfo,
    TenantKind,
    TokenResponse,
    UserInfo,
)
from openpcf.services.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound
from openpcf.store.audit import attribute
from openpcf.store.models import AccessToken, ApiClient, PersonalToken, Tenant, User

PERSONAL_PREFIX = "opcf_pat_"
ACCESS_PREFIX = "opcf_at_"
CLIENT_PREFIX = "opcf_client_"
SECRET_PREFIX = "opcf_cs_"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


# --- hashing -------------------------------------------------------------------------------


def hash_secret(secret: str) -> str:
    """scrypt$n$r$p$salt$hash (base64), for passwords and client secrets."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return (
        f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}$"
        f"{b64(salt).decode()}${b64(digest).decode()}"
    )


def verify_secret(secret: str, stored: str | None) -> bool:
    try:
        kind, n, r, p, salt, digest = (stored or "").split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(
        secret.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(got, base64.b64decode(digest))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def now() -> datetime:
    return datetime.now(UTC)


def utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; all stored times are UTC."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=UTC)


# --- tenants and users ---------------------------------------------------------------------


def create_tenant(
    session: Session,
    who: Principal,
    slug: str,
    name: str | None = None,
    kind: TenantKind = TenantKind.enterprise,
) -> TenantInfo:
    import re

    if not re.fullmatch(SLUG, slug):
        raise InvalidRequest(
            f"tenant name '{slug}' must be lower-case letters, digits and '-' (at most 63), "
            "as it becomes part of product URNs"
        )
    with session.begin():
        attribute(session, who.actor, slug)
        if session.scalar(select(Tenant).where(Tenant.slug == slug)) is not None:
            raise Conflict(f"tenant '{slug}' already exists")
        tenant = Tenant(slug=slug, name=name or slug, kind=TenantKind(kind).value)
        session.add(tenant)
        session.flush()
        return _tenant_info(tenant)


def get_tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"no tenant '{slug}'")
    return tenant


def list_tenants(session: Session) -> list[TenantInfo]:
    with session.begin():
        return [_tenant_info(t) for t in session.scalars(select(Tenant).order_by(Tenant.slug))]


def create_user(
    session: Session,
    who: Principal,
    tenant: str,
    email: str,
    role: Role,
    password: str | None = None,
    token_days: int | None = 90,
    token_name: str = "first token",
) -> NewUser:
    """A user of the tenant, with a first personal token (returned once)."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise InvalidRequest(f"'{email}' is not an e-mail address")
    if password:
        from openpcf.services.platform.passwords import check_password

        check_password(password, email)
    with session.begin():
        attribute(session, who.actor, tenant)
        t = get_tenant(session, tenant)
        if session.scalar(select(User).where(User.email == email)) is not None:
            raise Conflict(f"a user '{email}' already exists")
        user = User(
            tenant_id=t.id,
            email=email,
            role=Role(role).value,
            password_hash=hash_secret(password) if password else None,
        )
        user.tenant = t
        session.add(user)
        session.flush()
        token = _issue_personal_token(session, user, token_name, token_days)
        return NewUser(user=_user_info(user), token=token)


def issue_personal_token(
    session: Session,
    who: Principal,
    email: str,
    name: str,
    days: int | None = 90,
    replace: bool = False,
) -> IssuedToken:
    """A new personal token for the user; `replace` first deletes the user's tokens of that name."""
    with session.begin():
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"no user '{email}'")
        attribute(session, who.actor, user.tenant.slug)
        if replace:
            for old in session.scalars(
                select(PersonalToken).where(
                    PersonalToken.user_id == user.id, PersonalToken.name == name
                )
            ):
                session.delete(old)
        return _issue_personal_token(session, user, name, days)


def _issue_personal_token(session: Session, user: User, name: str, days: int | None) -> IssuedToken:
    token = _new_token(PERSONAL_PREFIX)
    expires = now() + timedelta(days=days) if days else None
    session.add(
        PersonalToken(
            user_id=user.id,
            name=name,
            token_hash=token_hash(token),
            prefix=token[:16],
            expires_at=expires,
        )
    )
    session.flush()
    return IssuedToken(token=token, name=name, expires_at=expires)


def user_password_ok(session: Session, email: str, password: str) -> Principal | None:
    """The user's principal when the password matches (for a web login)."""
    with session.begin():
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or user.disabled_at or not verify_secret(password, user.password_hash):
            return None
        return _user_principal(user)


# --- API clients and OAuth2 client credentials ---------------------------------------------


def create_client(
    session: Session,
    who: Principal,
    tenant: str,
    name: str = "api client",
    role: Role = Role.member,
) -> ClientCredentials:
    with session.begin():
        attribute(session, who.actor, tenant)
        t = get_tenant(session, tenant)
        client_id = CLIENT_PREFIX + secrets.token_hex(8)
        secret = _new_token(SECRET_PREFIX)
        session.add(
            ApiClient(
                tenant_id=t.id,
                client_id=client_id,
                secret_hash=hash_secret(secret),
                name=name,
                role=Role(role).value,
            )
        )
        session.flush()
        return ClientCredentials(
            tenant=tenant, client_id=client_id, client_secret=secret, name=name, role=role
        )


def rotate_client_secret(session: Session, who: Principal, client_id: str) -> ClientCredentials:
    with session.begin():
        client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
        if client is None:
            raise NotFound(f"no API client '{client_id}'")
        attribute(session, who.actor, client.tenant.slug)
        secret = _new_token(SECRET_PREFIX)
        client.secret_hash = hash_secret(secret)
        for token in session.scalars(
            select(AccessToken).where(AccessToken.api_client_id == client.id)
        ):
            session.delete(token)  # tokens of the old secret stop working
        return ClientCredentials(
            tenant=client.tenant.slug,
            client_id=client_id,
            client_secret=secret,
            name=client.name,
            role=Role(client.role),
        )


def issue_access_token(
    session: Session, client_id: str, client_secret: str, scope: str | None = None
) -> TokenResponse:
    """OAuth2 client credentials grant (RFC 6749 section 4.4): a bearer token for the client."""
    with session.begin():
        client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
        # verify a secret even for an unknown client, so timing does not tell which ids exist
        ok = verify_secret(client_secret, client.secret_hash if client else _DUMMY_HASH)
        if client is None or not ok or client.revoked_at is not None:
            raise AuthenticationFailed("unknown client or wrong client secret")
        attribute(session, f"client:{client.client_id}", client.tenant.slug)
        ttl = config.token_ttl()
        token = _new_token(ACCESS_PREFIX)
        session.add(
            AccessToken(
                api_client_id=client.id,
                token_hash=token_hash(token),
                scope=scope,
                expires_at=now() + timedelta(seconds=ttl),
            )
        )
        return TokenResponse(access_token=token, expires_in=ttl, scope=scope)


_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


# --- who a bearer token belongs to ---------------------------------------------------------


# Asked on every request: built once, with the token's hash as a parameter.
_ACCESS_TOKEN = (
    select(
        AccessToken.expires_at,
        ApiClient.revoked_at,
        ApiClient.client_id,
        ApiClient.role,
        ApiClient.tenant_id,
        Tenant.slug,
    )
    .join(ApiClient, ApiClient.id == AccessToken.api_client_id)
    .join(Tenant, Tenant.id == ApiClient.tenant_id)
    .where(AccessToken.token_hash == bindparam("digest"))
)
_PERSONAL_TOKEN = (
    select(
        PersonalToken.expires_at,
        PersonalToken.revoked_at,
        User.email,
        User.role,
        User.disabled_at,
        User.tenant_id,
        Tenant.slug,
    )
    .join(User, User.id == PersonalToken.user_id)
    .join(Tenant, Tenant.id == User.tenant_id)
    .where(PersonalToken.token_hash == bindparam("digest"))
)


def principal_for_token(session: Session, token: str) -> Principal:
    """The user or client a bearer token stands for; AuthenticationFailed if none (now).

    Every request asks this: one prepared query of plain columns (no ORM objects)."""
    digest = {"digest": token_hash(token)}
    with session.begin():
        if token.startswith(ACCESS_PREFIX):
            row = session.execute(_ACCESS_TOKEN, digest).first()
            if row is None:
                raise AuthenticationFailed("invalid access token")
            if utc(row.expires_at) <= now():  # type: ignore[operator]
                raise AuthenticationFailed("the access token has expired; request a new one")
            if row.revoked_at is not None:
                raise AuthenticationFailed("the API client is revoked")
            return Principal(
                kind="client",
                subject=row.client_id,
                tenant=row.slug,
                tenant_id=row.tenant_id,
                role=Role(row.role),
            )
        row = session.execute(_PERSONAL_TOKEN, digest).first()
        if row is None or not token.startswith(PERSONAL_PREFIX):
            raise AuthenticationFailed("invalid token")
        if row.revoked_at is not None:
            raise AuthenticationFailed("the token is revoked")
        expires = utc(row.expires_at)
        if expires is not None and expires <= now():
            raise AuthenticationFailed("the token has expired; create a new one")
        if row.disabled_at is not None:
            raise AuthenticationFailed("the user is disabled")
        return Principal(
            kind="user",
            subject=row.email,
            tenant=row.slug,
            tenant_id=row.tenant_id,
            role=Role(row.role),
        )


def _user_principal(user: User) -> Principal:
    return Principal(
        kind="user",
        subject=user.email,
        tenant=user.tenant.slug,
        tenant_id=user.tenant_id,
        role=Role(user.role),
    )


def _tenant_info(t: Tenant) -> TenantInfo:
    return TenantInfo(
        slug=t.slug, name=t.name, kind=TenantKind(t.kind), created_at=utc(t.created_at)
    )


def _user_info(u: User) -> UserInfo:
    return UserInfo(
        email=u.email, tenant=u.tenant.slug, role=Role(u.role), created_at=utc(u.created_at)
    )


def operator(name: str | None = None) -> Principal:
    """The person running a platform command on the server (openpcf tenants/users/clients)."""
    import getpass

    if name is None:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    return Principal(kind="operator", subject=name)
