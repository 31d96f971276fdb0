"""Config tables of the reminder channels (``[clients.reminders.email]``, ``[clients.reminders.tripletex]``).

Secrets are named by ``*_env`` keys and resolved at the moment of use, never stored.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _env_name(value: str | None, info: ValidationInfo) -> str | None:
    # Never echo the value: a password pasted here by mistake must not end up in a terminal or a log.
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(
            f"the value of '{info.field_name}' is not a variable name (not shown); give the name of an "
            "environment variable (UPPER_CASE letters, digits, _) that holds the secret"
        )
    return value


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    starttls: bool = True  # refuse to send when the server does not offer STARTTLS
    username: str | None = None
    password_env: str | None = None
    from_address: str
    reply_to: str | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 30

    _env = field_validator("password_env")(_env_name)


class TripletexSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = "https://tripletex.no/v2"
    session_token_env: str
    company_id: str = "0"  # the Basic-auth user: 0 = the token's own company
    dispatch_types: str = "EMAIL"  # EMAIL, NETS_PRINT, OWN_PRINTER, SFTP, API, SMS (comma list)
    timeout_seconds: Annotated[float, Field(gt=0)] = 30

    _env = field_validator("session_token_env")(_env_name)
