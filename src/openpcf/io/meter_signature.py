"""Signed meter messages: a meter holding an Ed25519 key proves its readings are its own.

The broker's credentials and ACLs say which account may publish to which topics; a signature
says which *meter* produced a message, end to end, whoever relayed it. A meter registered with
a `public_key` must send its readings wrapped as

    {"payload": "<the readings JSON, as a string>", "sig": "<base64 Ed25519 signature>"}

where the signature covers the UTF-8 bytes of `<topic>\\n<payload>`: the topic is signed too,
so a signed message cannot be replayed as another meter's. (Replaying it on its own topic
repeats readings already stored: counted once.)
"""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MAX_SIGNED = 16 * 1024 * 1024


def signed_bytes(topic: str, payload: str) -> bytes:
    return f"{topic}\n{payload}".encode()


def sign_message(topic: str, payload: str, key: Ed25519PrivateKey) -> bytes:
    """The MQTT payload of `payload` (readings JSON) signed by a meter's key."""
    sig = base64.b64encode(key.sign(signed_bytes(topic, payload))).decode()
    return json.dumps({"payload": payload, "sig": sig}).encode()


def verified_payload(topic: str, message: bytes, public_key: str) -> bytes | str:
    """The readings payload of a message signed with the meter's key, or why it is refused."""
    if len(message) > MAX_SIGNED:
        return f"signed message of {len(message)} bytes; at most {MAX_SIGNED}"
    try:
        doc = json.loads(message)
    except (UnicodeDecodeError, ValueError):
        doc = None
    if not isinstance(doc, dict) or set(doc) != {"payload", "sig"}:
        return (
            "unsigned reading: this meter has a registered key, so its messages must be "
            '{"payload": "...", "sig": "..."} signed with it'
        )
    payload, sig = doc["payload"], doc["sig"]
    if not isinstance(payload, str) or not isinstance(sig, str):
        return "payload and sig of a signed message must be strings"
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(sig, validate=True), signed_bytes(topic, payload))
    except (InvalidSignature, ValueError, binascii.Error):
        return "bad signature: the message is not signed with this meter's registered key"
    return payload.encode()
