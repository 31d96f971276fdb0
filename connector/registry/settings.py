"""``[clients.registry]``: the business-register check before a collection notice or case."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

BRREG_URL = "https://data.brreg.no/enhetsregisteret/api"


class RegistrySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False  # off: no lookups (the offline example); on: no notice/case without a fresh check
    base_url: str = BRREG_URL  # tests point this at a local fake
    max_age_days: Annotated[int, Field(ge=0)] = 1  # a cached answer older than this is fetched again
    timeout_seconds: Annotated[float, Field(gt=0)] = 10
