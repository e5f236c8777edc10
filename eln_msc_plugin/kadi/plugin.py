"""The Kadi4Mat plugin (entry point `eln_msc` in group `kadi_plugins`).

On every save of a batch record, `kadi_post_resource_change` queues a background task and returns:
it runs inside the web request after the commit, so it is cheap and never raises. The Celery task
judges the revision that triggered it (or stops when a newer one exists) through the Kadi adapter and
the host-neutral judge flow, and writes the annotation back as the plugin's service account (through
the annotation endpoint this plugin adds, kadi/endpoint.py); its own revisions are recognised and
ignored, so there is no loop.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app
from kadi.ext.celery import celery
from kadi.lib.plugins.core import get_plugin_config
from kadi.plugins import hookimpl

from eln_msc_plugin.eln.judge import judge_and_annotate
from eln_msc_plugin.errors import ConfigError, ElnError, ElnMscError
from eln_msc_plugin.kadi import endpoint  # noqa: F401 - registers the annotation endpoint on Kadi's API
from eln_msc_plugin.kadi.adapter import KadiAdapter
from eln_msc_plugin.kadi.annotation import tag_names
from eln_msc_plugin.kadi.content import is_batch_file
from eln_msc_plugin.kadi.revisions import altered_by_hand, object_annotation_only
from eln_msc_plugin.kadi.settings import Settings
from eln_msc_plugin.kadi.token_api import say_token_expiry
from eln_msc_plugin.pipeline import Engine, build_engine

NAME = "eln_msc"
TASK = "eln_msc.judge_record"
FINAL_STATUSES = (400, 404, 409, 410, 413, 422)
LOCK_SECONDS = 120
log = logging.getLogger("eln_msc_plugin.kadi")


def settings() -> Settings:
    return Settings.from_config(get_plugin_config(NAME))


@lru_cache(maxsize=4)
def _engine(policy: str | None, mtime: float) -> Engine:
    return build_engine(policy)


def engine_for(config: Settings) -> Engine:
    mtime = Path(config.policy).stat().st_mtime if config.policy else 0.0
    return _engine(config.policy, mtime)


@lru_cache(maxsize=8)
def _service_user_id(token_hash_source: str, _mtime: float) -> int | None:
    from kadi.lib.api.models import PersonalToken

    token = PersonalToken.get_by_token(token_hash_source)
    return token.user_id if token is not None else None


def service_user_id(config: Settings) -> int | None:
    """The id of the account whose token the plugin writes with (its own revisions are skipped)."""
    mtime = Path(config.token_file).stat().st_mtime if config.token_file else 0.0
    return _service_user_id(config.token().reveal(), mtime)


def _queue(revision: Any) -> None:
    from kadi.modules.records.models import File, Record

    config = settings()
    subject = revision.object
    snapshot = None
    if isinstance(subject, Record):
        record, revision_id, record_type = subject, revision.id, revision.type
        # What the saved revision holds, so the check needs no request to see whether it changed anything.
        snapshot = {"identifier": revision.identifier, "extras": revision.extras, "tags": tag_names(revision.tags)}
    elif isinstance(subject, File):
        if not is_batch_file(str(revision.name or subject.name)):
            return
        record, revision_id, record_type = subject.record, None, subject.record.type
    else:
        return
    if not config.checks_type(record_type) or _own_annotation(revision, config):
        return
    service = service_user_id(config)
    # A person who changed the verdict tag or extra by hand: the check puts the true verdict back and says so.
    altered = altered_by_hand(revision, service) if snapshot is not None else ""
    # Start the check a moment later, so it does not compete with the save's own response for the CPU.
    judge_record_task.apply_async(kwargs={"record_id": record.id, "revision_id": revision_id, "snapshot": snapshot,
                                          "service_user": service, "altered": altered},
                                  countdown=config.start_delay)


def _own_annotation(revision: Any, config: Settings) -> bool:
    """The plugin's own annotation write: by the service account, changing only msc_qc and qc-* tags."""
    return object_annotation_only(revision, service_user_id(config))


@hookimpl
def kadi_post_resource_change(revision: Any) -> None:
    try:
        _queue(revision)
    except Exception as error:  # a save must never fail because of the plugin
        current_app.logger.error("eln-msc: could not queue the QC check of a saved record: %s", error)


@celery.task(name=TASK, bind=True, soft_time_limit=600)
def judge_record_task(self: Any, record_id: int, revision_id: int | None = None, snapshot: dict[str, Any] | None = None,
                      service_user: int | None = None, altered: str = "", **kwargs: Any) -> dict[str, Any]:
    """Judge a record revision and annotate it; on a failure to reach Kadi, retry later with backoff."""
    try:
        config = settings()
        say_token_expiry(config.token().reveal())
        with record_lock(record_id), KadiAdapter(config.kadi_url, config.token(), timeout=(5.0, config.timeout),
                                                 write_via="plugin", me=_str_or_none(service_user)) as adapter:
            # A retry reads the record afresh: the snapshot may be of a revision long superseded.
            fresh = snapshot if self.request.retries == 0 and isinstance(snapshot, dict) else {}
            held = {**fresh, "altered": altered} if altered else fresh or None
            ref = adapter.ref(str(record_id), str(revision_id) if revision_id is not None else None, held)
            outcome = judge_and_annotate(adapter, engine_for(config), ref)
    except ElnError as error:
        if error.status in FINAL_STATUSES:  # the record is gone or the request itself is wrong: retrying won't help
            log.error("eln-msc: record %s: %s; not retried", record_id, error)
            return {"record_id": record_id, "status": "failed", "detail": str(error)}
        return _retry(self, record_id, error)
    except (ElnMscError, ConfigError) as error:
        return _retry(self, record_id, error)
    log.info("eln-msc: record %s revision %s: %s (%s; %d reads, %d writes)", record_id, outcome.judged_revision,
             outcome.verdict, outcome.status, outcome.reads, outcome.writes)
    return {"record_id": record_id, "revision_id": outcome.judged_revision, "status": outcome.status,
            "verdict": outcome.verdict, "detail": outcome.detail, "reads": outcome.reads, "writes": outcome.writes}


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _retry(self: Any, record_id: int, error: Exception) -> dict[str, Any]:
    """Log why, and run the task again later with exponential backoff (up to max_retries)."""
    retries = self.request.retries
    if retries >= _max_retries():
        log.error("eln-msc: record %s: giving up after %d retries: %s", record_id, retries, error)
        return {"record_id": record_id, "status": "failed", "detail": str(error)}
    delay = min(_delay() * (2 ** retries), 900)
    log.error("eln-msc: record %s: %s; retrying in %.1f s (attempt %d)", record_id, error, delay, retries + 1)
    raise self.retry(countdown=delay, max_retries=None) from None


@contextmanager
def record_lock(record_id: int) -> Iterator[None]:
    """One check of a record at a time across all workers (a Redis lock on Kadi's Celery broker).

    Two checks of one record writing at once would each judge and write; with the lock, only a person's
    save can land between a check's read and its write, and the annotation endpoint refuses that write.
    """
    import redis

    client = redis.Redis.from_url(current_app.config["CELERY_BROKER_URL"])
    lock = client.lock(f"eln_msc:record:{record_id}", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS)
    try:
        acquired = lock.acquire()
    except redis.RedisError as error:
        raise ElnError(f"cannot take the record lock: {type(error).__name__}", retryable=True) from None
    if not acquired:
        raise ElnError(f"record {record_id} is being checked by another worker for too long", retryable=True)
    try:
        yield
    finally:
        with contextlib.suppress(redis.RedisError):  # expired: the next check takes it anew
            lock.release()


def _delay() -> float:
    try:
        return settings().retry_delay
    except ConfigError:
        return 10.0


def _max_retries() -> int:
    try:
        return settings().max_retries
    except ConfigError:
        return 12


@hookimpl
def kadi_get_background_tasks() -> list[Any]:
    return [judge_record_task]


# --- the record page, live (eln_msc_plugin.kadi.live): the card, its endpoint and the page script ---


@hookimpl
def kadi_get_resource_overview_templates(resource: Any) -> str | None:
    from eln_msc_plugin.kadi.live import overview

    return overview(resource)


@hookimpl
def kadi_get_blueprints() -> Any:
    # Routes are added when their modules are imported: before Kadi registers the blueprints.
    from eln_msc_plugin.kadi import form_check, token_api  # noqa: F401 - POST /eln-msc/check, GET /api/eln_msc/token
    from eln_msc_plugin.kadi.live import blueprint

    return blueprint


@hookimpl
def kadi_get_scripts() -> str | None:
    from eln_msc_plugin.kadi.live import page_script

    return page_script()
