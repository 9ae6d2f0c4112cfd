"""What a password must be (ASVS 2.1): at least OPENPCF_PASSWORD_MIN_LENGTH characters (12),
at most 128, and not guessable by zxcvbn's estimate (score 3 of 4 at least: "safely
unguessable", about 10^8 guesses or more), with the e-mail's parts counted as known words."""

from __future__ import annotations

import re

from openpcf import config
from openpcf.services.errors import InvalidRequest

MAX_LENGTH = 128
MIN_SCORE = 3


def check_password(password: str, email: str = "") -> None:
    """InvalidRequest naming what is wrong with the password, else nothing."""
    shortest = config.password_min_length()
    if len(password) < shortest:
        raise InvalidRequest(
            f"the password has {len(password)} characters; at least {shortest} are needed"
        )
    if len(password) > MAX_LENGTH:
        raise InvalidRequest(f"the password is longer than {MAX_LENGTH} characters")
    from zxcvbn import zxcvbn

    known = [w for w in re.split(r"[@._+-]+", email.lower()) if w]
    verdict = zxcvbn(password[:100], user_inputs=known)
    if verdict["score"] < MIN_SCORE:
        advice = verdict["feedback"].get("warning") or "it is easy to guess"
        hints = " ".join(verdict["feedback"].get("suggestions") or [])
        raise InvalidRequest(f"the password is too weak: {advice}. {hints}".strip())
