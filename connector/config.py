"""The accountant's configuration: one TOML file, one ``[[clients]]`` table per client company.

Secrets are never read from the file. A key ending in ``_env`` names an environment variable (or a
file of that name in ``ARSYNC_SECRETS_DIR``); :func:`secret` resolves it at the moment of use.
Every problem in the file is reported at once, each naming file, client, key and what is wrong.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

CONFIG_ENV = "ARSYNC_CONFIG"
SECRETS_DIR_ENV = "ARSYNC_SECRETS_DIR"
DEFAULT_CONFIG = "arsync.toml"

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Keys that look like a secret written into the file instead of named by an *_env key.
_SECRET_WORDS = ("token", "password", "secret", "api_key", "apikey", "client_secret", "subscription_key")

Language = Literal["nb", "da", "sv"]
LANGUAGE_BY_COUNTRY: dict[str, Language] = {"NO": "nb", "DK": "da", "SE": "sv"}


class ConfigError(Exception):
    """One or more problems in the configuration; ``problems`` holds one line per problem."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                low = str(key).lower()
                if not low.endswith("_env") and any(word in low for word in _SECRET_WORDS):
                    raise ValueError(
                        f"'{key}' looks like a secret; secrets are never read from the config file — "
                        f"put it in an environment variable and name it with '{key}_env = \"VARIABLE\"'"
                    )
        return data


def _check_env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError(f"'{value}' is not an environment variable name (use UPPER_CASE letters, digits, _)")
    return value


class StoreConfig(_Strict):
    url: str = "sqlite:///arsync.db"


class LedgerConfig(_Strict):
    kind: Literal["ehf", "tripletex", "fiken", "poweroffice", "economic"]
    path: Path | None = None  # folder of sent EHF documents and received responses (kind = "ehf")
    base_url: str | None = None
    company_id: str | None = None
    token_env: str | None = None
    max_age_days: Annotated[int, Field(ge=0)] = 2  # older than this → ledger_stale

    _env = field_validator("token_env")(_check_env_name)

    @model_validator(mode="after")
    def _path_for_files(self) -> LedgerConfig:
        if self.kind == "ehf" and self.path is None:
            raise ValueError("a ledger of kind 'ehf' needs 'path' (the folder of EHF/PEPPOL documents)")
        return self


class BankConfig(_Strict):
    kind: Literal["camt", "ocr"]
    path: Path  # folder the bank (or the client's bank integration) drops files into
    account: str | None = None  # restrict to one creditor account; all accounts in the files otherwise


class StepConfig(_Strict):
    """One rung of the dunning ladder.

    ``days`` counts from the due date for the first step and from the previous step otherwise.
    """

    action: Literal["reminder", "collection_notice", "collection_case"]
    days: Annotated[int, Field(ge=0)]
    fee: bool = False
    channel: str = "outbox"


def default_ladder() -> list[StepConfig]:
    # Norwegian shape: purring ≥14 days after due (so a fee is lawful), inkassovarsel with a
    # 14-day deadline, then the case once that deadline has passed.
    return [
        StepConfig(action="reminder", days=14, fee=True),
        StepConfig(action="collection_notice", days=14),
        StepConfig(action="collection_case", days=14),
    ]


class PolicyConfig(_Strict):
    grace_days: Annotated[int, Field(ge=0)] = 3
    min_amount: Annotated[Decimal, Field(ge=0)] = Decimal("0")
    bank_max_age_days: Annotated[int, Field(ge=0)] = 3
    auto_approve: bool = False
    steps: list[StepConfig] = Field(default_factory=default_ladder)

    @field_validator("min_amount", mode="before")
    @classmethod
    def _no_float_money(cls, value: Any) -> Any:
        if isinstance(value, float):
            # TOML 100.5 arrives as a binary float; take its literal text so no fraction is invented.
            return Decimal(repr(value))
        return value

    @field_validator("steps")
    @classmethod
    def _ladder_order(cls, steps: list[StepConfig]) -> list[StepConfig]:
        order = ["reminder", "collection_notice", "collection_case"]
        ranks = [order.index(s.action) for s in steps]
        if ranks != sorted(ranks):
            raise ValueError("steps must go up the ladder: reminder(s), then collection_notice, then collection_case")
        if steps and "collection_case" in [s.action for s in steps[:-1]]:
            raise ValueError("collection_case must be the last step")
        if any(s.action == "collection_case" for s in steps) and not any(
            s.action == "collection_notice" for s in steps
        ):
            raise ValueError("a collection_case step needs a collection_notice step before it (inkassovarsel)")
        return steps


class CollectionConfig(_Strict):
    provider: Literal["outbox"] = "outbox"
    path: Path | None = None

    @model_validator(mode="after")
    def _path_for_outbox(self) -> CollectionConfig:
        if self.provider == "outbox" and self.path is None:
            raise ValueError("the 'outbox' provider needs 'path' (the folder case files are written to)")
        return self


class RemindersConfig(_Strict):
    channel: Literal["outbox"] = "outbox"
    path: Path | None = None  # defaults to <collection path>/../reminders when not given


class ClientConfig(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    name: str
    org_no: str
    country: Literal["NO", "DK", "SE"]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    ledger: LedgerConfig
    bank: list[BankConfig] = Field(default_factory=list)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    collection: CollectionConfig
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)

    @property
    def language(self) -> Language:
        return LANGUAGE_BY_COUNTRY[self.country]

    @field_validator("org_no")
    @classmethod
    def _org_no_digits(cls, value: str) -> str:
        compact = re.sub(r"[\s.-]", "", value)
        if not compact.isdigit():
            raise ValueError(f"'{value}' is not an organisation number (digits only)")
        return compact


class Settings(BaseSettings):
    """The whole file. ``ARSYNC_STORE__URL`` in the environment overrides ``[store] url``."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True, env_prefix="ARSYNC_", env_nested_delimiter="__")

    store: StoreConfig = Field(default_factory=StoreConfig)
    clients: list[ClientConfig] = Field(default_factory=list)
    source_file: Path | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @field_validator("clients")
    @classmethod
    def _unique_ids(cls, clients: list[ClientConfig]) -> list[ClientConfig]:
        seen: set[str] = set()
        for client in clients:
            if client.id in seen:
                raise ValueError(f"client id '{client.id}' is used twice")
            seen.add(client.id)
        return clients

    def client(self, client_id: str) -> ClientConfig:
        for client in self.clients:
            if client.id == client_id:
                return client
        raise ConfigError([f"{self.source_file}: no client with id '{client_id}'"])

    def select(self, client_ids: Iterable[str]) -> list[ClientConfig]:
        ids = list(client_ids)
        if not ids:
            return list(self.clients)
        unknown = [i for i in ids if i not in {c.id for c in self.clients}]
        if unknown:
            raise ConfigError([f"{self.source_file}: no client with id '{i}'" for i in unknown])
        return [self.client(i) for i in ids]


def locate(explicit: str | os.PathLike[str] | None) -> Path:
    """--config, then $ARSYNC_CONFIG, then ./arsync.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return Path(DEFAULT_CONFIG)


def load(path: str | os.PathLike[str] | None = None) -> Settings:
    file = locate(path)
    if not file.is_file():
        raise ConfigError([f"{file}: config file not found (give --config FILE or set {CONFIG_ENV})"])
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{file}: not valid TOML: {exc}"]) from None
    try:
        settings = Settings(**raw)
    except ValidationError as exc:
        raise ConfigError(_problems(file, raw, exc)) from None
    return _resolve_paths(settings, file)


def _problems(file: Path, raw: dict[str, Any], exc: ValidationError) -> list[str]:
    clients = raw.get("clients") if isinstance(raw.get("clients"), list) else []
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "clients" and isinstance(loc[1], int):
            entry = clients[loc[1]] if loc[1] < len(clients) else {}
            cid = entry.get("id") if isinstance(entry, dict) else None
            where = f"client '{cid}'" if cid else f"clients[{loc[1]}]"
            loc = loc[2:]
        key = ".".join(str(p) for p in loc if not str(p).startswith(("function-after", "function-before")))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against config.example.toml)"
        if err["type"] == "missing":
            msg = "required key is missing"
        parts = [str(file)] + [p for p in (where, key) if p]
        out.append(f"{': '.join(parts)}: {msg}")
    return out


def _resolve_paths(settings: Settings, file: Path) -> Settings:
    base = file.resolve().parent

    def fix(p: Path | None) -> Path | None:
        if p is None:
            return None
        p = p.expanduser()
        return p if p.is_absolute() else (base / p)

    clients = []
    for c in settings.clients:
        collection = c.collection.model_copy(update={"path": fix(c.collection.path)})
        reminders_path = fix(c.reminders.path)
        if reminders_path is None and collection.path is not None:
            reminders_path = collection.path.parent / "reminders"
        clients.append(
            c.model_copy(
                update={
                    "ledger": c.ledger.model_copy(update={"path": fix(c.ledger.path)}),
                    "bank": [b.model_copy(update={"path": fix(b.path)}) for b in c.bank],
                    "collection": collection,
                    "reminders": c.reminders.model_copy(update={"path": reminders_path}),
                }
            )
        )
    url = settings.store.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        url = prefix + str(base / url[len(prefix) :])
    return settings.model_copy(update={"clients": clients, "store": StoreConfig(url=url), "source_file": file})


def secret(env_name: str) -> str:
    """The value of a secret named by an ``*_env`` key: the environment, then $ARSYNC_SECRETS_DIR/NAME."""
    value = os.environ.get(env_name)
    if value:
        return value
    secrets_dir = os.environ.get(SECRETS_DIR_ENV)
    if secrets_dir:
        candidate = Path(secrets_dir) / env_name
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8").strip()
    raise ConfigError([f"secret {env_name} is not set (environment variable or file in ${SECRETS_DIR_ENV})"])
