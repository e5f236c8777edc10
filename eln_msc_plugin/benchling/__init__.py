"""Benchling: an App that receives signed webhooks, reads the batch through the API, writes the verdict back.

Importing this package (or its plugin module) does not import `benchling-sdk`; the adapter, the webhook
check and the receiver import it when they are first used (install the `[benchling]` extra).
"""

from eln_msc_plugin.errors import ConfigError

EXTRA_HINT = "install the Benchling extra: pip install 'eln-msc-plugin[benchling]'"


def require_sdk() -> None:
    """Refuse clearly when benchling-sdk is not installed (the core installs without it)."""
    try:
        import benchling_sdk  # noqa: F401
    except ImportError:
        raise ConfigError(f"benchling-sdk is not installed: {EXTRA_HINT}") from None
