"""Verifiers' Ed25519 signing keys: one per verifier user, made on first need.

Where the private key lives: a PKCS#8 PEM file `<hex fingerprint>.pem` in OPENPCF_KEYS_DIR
(default OPENPCF_HOME/keys), created 0600 in a 0700 folder, encrypted with
OPENPCF_KEY_PASSPHRASE when that is set. The database holds the public key only.

Threat model, honestly: the server signs on the verifier's behalf (custodial keys). A
certificate proves that a verification body's server, acting for the named verifier user
(signed in with that user's credentials, audited), signed exactly these numbers; it does not
prove the person's own hand. Whoever can read the key files (root on the server, a backup) can
forge signatures of those keys until they are retired; a stolen database alone cannot (no
private keys in it), and a passphrase keeps a stolen key folder useless without it. Tampering
with a stored certificate or footprint is detected (signature, result hash, the ledger), but
the issuing body must retire a leaked key and revoke what it signed.
"""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf import config
from openpcf.domain.certification import SigningKeyInfo, fingerprint, public_raw
from openpcf.domain.platform import Principal, Role, TenantKind
from openpcf.services.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from openpcf.services.platform.access import require
from openpcf.services.platform.accounts import utc
from openpcf.store.audit import attribute
from openpcf.store.models import Tenant, User
from openpcf.store.models_certification import SigningKey


def keys_dir() -> Path:
    """OPENPCF_KEYS_DIR: folder of verifiers' private signing keys. Default OPENPCF_HOME/keys."""
    return Path(os.environ.get("OPENPCF_KEYS_DIR") or config.home() / "keys")


def _passphrase() -> bytes | None:
    """OPENPCF_KEY_PASSPHRASE: encrypts the private key files when set."""
    value = os.environ.get("OPENPCF_KEY_PASSPHRASE")
    return value.encode() if value else None


def create_key(session: Session, owner: User) -> SigningKey:
    """A new key for the verifier user `owner` (in the caller's transaction); earlier keys of
    the user are retired (they still check what they signed)."""
    if owner.role != Role.verifier.value or owner.tenant.kind != TenantKind.verifier.value:
        raise PermissionDenied(
            f"{owner.email} is not a verifier of a verification body: only they sign"
        )
    for old in session.scalars(
        select(SigningKey).where(SigningKey.owner == owner.email, SigningKey.retired_at.is_(None))
    ):
        old.retired_at = datetime.now(UTC)
    private = Ed25519PrivateKey.generate()
    raw = public_raw(private.public_key())
    fp = fingerprint(raw)
    _write_private(fp, private)
    row = SigningKey(
        fingerprint=fp,
        tenant_id=owner.tenant_id,
        owner=owner.email,
        public_key=base64.b64encode(raw).decode(),
    )
    row.tenant = owner.tenant
    session.add(row)
    session.flush()
    return row


def active_key(session: Session, who: Principal) -> tuple[SigningKey, Ed25519PrivateKey]:
    """The signing key of the verifier user acting, made on first use (in the caller's
    transaction)."""
    require(who, Role.verifier)
    if who.kind != "user":
        raise PermissionDenied(
            "a certificate is signed by a person: sign in as a verifier user, not as an API client"
        )
    row = session.scalar(
        select(SigningKey).where(
            SigningKey.owner == who.subject,
            SigningKey.tenant_id == who.tenant_id,
            SigningKey.retired_at.is_(None),
        )
    )
    if row is None:
        user = session.scalar(select(User).where(User.email == who.subject))
        if user is None:
            raise NotFound(f"no user '{who.subject}'")
        row = create_key(session, user)
    return row, _read_private(row.fingerprint)


def new_key_for(session: Session, who: Principal, email: str) -> SigningKeyInfo:
    """Rotate: a new key for `email` (the verifier user themself, or the operator)."""
    with session.begin():
        if who.kind != "operator" and who.subject != email.strip().lower():
            raise PermissionDenied("a verifier makes their own signing key only")
        attribute(session, who.actor, who.tenant)
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"no user '{email}'")
        if who.kind == "operator":
            attribute(session, who.actor, user.tenant.slug)
        return key_info(create_key(session, user))


def retire_key(session: Session, who: Principal, fp: str) -> SigningKeyInfo:
    """Retire a key (after a leak, or when its verifier leaves): it signs nothing more."""
    with session.begin():
        row = session.scalar(select(SigningKey).where(SigningKey.fingerprint == fp))
        if row is None:
            raise NotFound(f"no signing key {fp}")
        if who.kind != "operator":
            require(who, Role.admin, Role.verifier)
            if row.tenant_id != who.tenant_id or (
                who.role == Role.verifier and row.owner != who.subject
            ):
                raise NotFound(f"no signing key {fp}")
        if row.retired_at is not None:
            raise Conflict(f"key {fp} was retired on {utc(row.retired_at):%Y-%m-%d}")
        attribute(session, who.actor, row.tenant.slug)
        row.retired_at = datetime.now(UTC)
        session.flush()
        return key_info(row)


def list_keys(session: Session, body: str | None = None) -> list[SigningKeyInfo]:
    """Public keys of verification bodies (all, or one body's), retired ones included."""
    query = select(SigningKey).join(Tenant, Tenant.id == SigningKey.tenant_id)
    if body:
        query = query.where(Tenant.slug == body)
    rows = session.scalars(query.order_by(Tenant.slug, SigningKey.created_at, SigningKey.id))
    return [key_info(r) for r in rows]


def key_by_fingerprint(session: Session, fp: str) -> SigningKey | None:
    return session.scalar(select(SigningKey).where(SigningKey.fingerprint == fp))


def key_info(row: SigningKey) -> SigningKeyInfo:
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(row.public_key))
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return SigningKeyInfo(
        fingerprint=row.fingerprint,
        body=row.tenant.slug,
        body_name=row.tenant.name,
        owner=row.owner,
        public_key=row.public_key,
        public_key_pem=pem,
        created_at=utc(row.created_at),
        retired_at=utc(row.retired_at),
    )


def trusted_fingerprints(text: str, source: str = "trust list") -> set[str]:
    """Fingerprints of a trust list: the JSON `openpcf certificate keys --export` writes
    ({"keys": [{"fingerprint", "public_key", ...}]}, or a bare list), or PEM public keys.

    JSON is tried first: the export carries each key's PEM too (`public_key_pem`, its line
    breaks escaped), so the mere presence of a PEM header does not make a file PEM."""
    import json

    try:
        data = json.loads(text)
    except ValueError as exc:
        if "-----BEGIN PUBLIC KEY-----" in text:
            return _pem_fingerprints(text, source)
        raise InvalidRequest(f"{source}: neither JSON nor PEM public keys ({exc})") from None
    items = data.get("keys") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidRequest(f'{source}: expected {{"keys": [...]}} or a list of keys')
    found = set()
    for i, item in enumerate(items):
        try:
            raw = base64.b64decode(item["public_key"], validate=True)
            Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidRequest(f"{source}: keys[{i}]: no readable public_key ({exc})") from None
        # the fingerprint is recomputed from the key: a list cannot vouch for a key it lacks
        found.add(fingerprint(raw))
    return found


def _pem_fingerprints(text: str, source: str) -> set[str]:
    found: set[str] = set()
    for block in text.split("-----END PUBLIC KEY-----")[:-1]:
        pem = block[block.index("-----BEGIN PUBLIC KEY-----") :] + "-----END PUBLIC KEY-----"
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except ValueError as exc:
            raise InvalidRequest(f"{source}: a PEM public key cannot be read ({exc})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise InvalidRequest(f"{source}: a key is not Ed25519")
        found.add(fingerprint(public_raw(key)))
    return found


def _path(fp: str) -> Path:
    return keys_dir() / f"{fp.removeprefix('sha256:')}.pem"


def _write_private(fp: str, key: Ed25519PrivateKey) -> None:
    folder = keys_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    passphrase = _passphrase()
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    fd = os.open(_path(fp), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def _read_private(fp: str) -> Ed25519PrivateKey:
    path = _path(fp)
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise Conflict(
            f"the private half of signing key {fp} is not on this server ({path}); set "
            "OPENPCF_KEYS_DIR to where it is, or make a new key: openpcf certificate keys "
            "create --user EMAIL"
        ) from None
    try:
        key = serialization.load_pem_private_key(pem, password=_passphrase())
    except (TypeError, ValueError) as exc:
        raise Conflict(
            f"signing key {fp} cannot be read ({exc}); check OPENPCF_KEY_PASSPHRASE"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise Conflict(f"{path} is not an Ed25519 key")
    return key
