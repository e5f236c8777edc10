"""The plugin's settings in Kadi's `PLUGIN_CONFIG["eln_msc"]`, checked once, with the token kept secret."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eln_msc_plugin.eln.http import Token
from eln_msc_plugin.errors import ConfigError

KNOWN = {"kadi_url", "token_file", "token_env", "record_types", "policy", "retry_delay", "max_retries", "timeout",
         "start_delay"}


@dataclass(frozen=True)
class Settings:
    kadi_url: str
    token_file: str | None = None
    token_env: str | None = None
    record_types: tuple[str, ...] = ("msc_batch",)
    policy: str | None = None
    retry_delay: float = 10.0
    max_retries: int = 12
    timeout: float = 30.0
    start_delay: float = 0.25
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Settings:
        unknown = set(config) - KNOWN
        if unknown:
            raise ConfigError(f"PLUGIN_CONFIG['eln_msc']: unknown key(s) {sorted(unknown)}; "
                              f"known: {sorted(KNOWN)}")
        if not config.get("kadi_url"):
            raise ConfigError("PLUGIN_CONFIG['eln_msc']['kadi_url'] is not set "
                              "(the base URL the worker uses for the API)")
        if not (config.get("token_file") or config.get("token_env")):
            raise ConfigError("PLUGIN_CONFIG['eln_msc'] needs 'token_file' or 'token_env' (never the token itself)")
        types = config.get("record_types", ("msc_batch",))
        if isinstance(types, str) or not all(isinstance(t, str) for t in types or ()):
            raise ConfigError("PLUGIN_CONFIG['eln_msc']['record_types'] must be a list of record types")
        return cls(
            kadi_url=str(config["kadi_url"]), token_file=config.get("token_file"), token_env=config.get("token_env"),
            record_types=tuple(types or ()), policy=config.get("policy"),
            retry_delay=float(config.get("retry_delay", 10.0)), max_retries=int(config.get("max_retries", 12)),
            timeout=float(config.get("timeout", 30.0)), start_delay=float(config.get("start_delay", 0.25)),
        )

    def token(self) -> Token:
        if self.token_file:
            return Token.from_file(self.token_file)
        return Token.from_env(str(self.token_env))

    def checks_type(self, record_type: str | None) -> bool:
        """True when records of this type are batch records (an empty list means every record)."""
        return not self.record_types or record_type in self.record_types
