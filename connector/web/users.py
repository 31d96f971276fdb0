"""Who may use the workbench: password hashes (argon2id), the ``[[web.users]]`` snippet ``arsync users
add`` prints, and the two questions every request asks: may this user see that client, may they approve.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from connector.config import Language, WebConfig

MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
ROLES = ("viewer", "approver")
LOCAL_USER = "local"  # the one user of a workbench on the loopback without [[web.users]]


@dataclass(frozen=True)
class User:
    """What a request knows about its user: never the password hash."""

    name: str
    role: str  # viewer, approver
    clients: frozenset[str] | None  # None: every client
    locale: Language

    @property
    def may_approve(self) -> bool:
        return self.role == "approver"

    def may_see(self, client_id: str) -> bool:
        return self.clients is None or client_id in self.clients

    def visible(self, client_ids: Iterable[str]) -> list[str]:
        return [c for c in client_ids if self.may_see(c)]


def users_from(web: WebConfig) -> dict[str, tuple[User, str]]:
    """Lower-cased name → (user, password hash) from the config."""
    return {
        u.name.lower(): (
            User(u.name, u.role, frozenset(u.clients) if u.clients is not None else None, u.locale or web.locale),
            u.password_hash,
        )
        for u in web.users
    }


def local_user(web: WebConfig) -> User:
    return User(LOCAL_USER, "approver", None, web.locale)


# ---- hashing ------------------------------------------------------------------------------------


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    return (hasher or PasswordHasher()).hash(password)


@cache
def dummy_hash(like: str | None = None) -> str:
    """A hash of nothing anyone knows, made with the same parameters as ``like`` (a configured user's hash),
    so checking an unknown name costs what checking a known one does."""
    hasher = PasswordHasher()
    if like is not None:
        with contextlib.suppress(InvalidHashError):
            hasher = PasswordHasher.from_parameters(extract_parameters(like))
    return hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str, *, like: str | None = None) -> bool:
    """True when the password matches. An unknown user (no hash) is checked against a dummy hash, so the
    answer takes as long either way and does not tell which user names exist."""
    try:
        return PasswordHasher().verify(password_hash or dummy_hash(like), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ---- `arsync users add` -------------------------------------------------------------------------


class UserRefused(ValueError):
    """A user that cannot be added as asked; one line naming the problem."""


def user_snippet(
    name: str,
    role: str,
    password: str,
    clients: Iterable[str] = (),
    *,
    hasher: PasswordHasher | None = None,
) -> str:
    """The ``[[web.users]]`` table to paste into the config: the name, an argon2id hash of the password
    (never the password), the role and, when given, the only clients the user may see."""
    if not _NAME.match(name):
        raise UserRefused(f"'{name}' is not a user name (letters, digits and _ . @ -, at most 64)")
    if role not in ROLES:
        raise UserRefused(f"role '{role}' is not one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserRefused(f"the password is shorter than {MIN_PASSWORD_LENGTH} characters")
    lines = [
        "[[web.users]]",
        f'name = "{name}"',
        f'password_hash = "{hash_password(password, hasher)}"',
        f'role = "{role}"',
    ]
    ids = list(dict.fromkeys(clients))
    if ids:
        lines.append("clients = [" + ", ".join(f'"{c}"' for c in ids) + "]")
    return "\n".join(lines) + "\n"
