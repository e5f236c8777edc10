"""What the batch-record schema checks beyond JSON Schema's keywords, for the compiled check and jsonschema alike:
the format `msc-date` (a real day and time, not only the shape of one), NaN as no number, and error messages
for people (values quoted as JSON and bounded, an impossible date said in words).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import jsonschema

from eln_msc_plugin.display import quoted
from eln_msc_plugin.limits import MAX_QUOTED_CHARS


def date_problem(text: str) -> str | None:
    """Why `text` is not a real date or date-time (`2020-02-30`, month 13, an offset of +99:99), or None.

    The schema's pattern gives the shape of a date; this is the calendar: what the rules can read."""
    try:
        datetime.fromisoformat(text)
    except ValueError as error:
        reason = str(error)
        return "its UTC offset is not within ±24 hours" if "timedelta" in reason else reason
    return None


def _real_date(text: Any) -> bool:
    return type(text) is not str or date_problem(text) is None  # a value of another type fails on its `type`


# The `format`s of the schema, each a test of a string that already has the shape its pattern asks for.
FORMATS: dict[str, Callable[[str], bool]] = {"msc-date": _real_date}


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())
    for name in FORMATS:
        checker.checks(name)(FORMATS[name])
    return checker


FORMAT_CHECKER = _format_checker()


def _is_number(checker: Any, instance: Any) -> bool:
    """A JSON number, and not NaN: a record handed over decoded can hold one, and every bound lets it through."""
    return type(instance) is not bool and isinstance(instance, (int, float)) and instance == instance


Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("number", _is_number))


def readable(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """The error with a message for people: the value it quotes bounded and written as in JSON (not a Python
    repr of ten megabytes), and an impossible date said in words."""
    instance = error.instance
    if error.validator == "format" and isinstance(instance, str):
        error.message = f"{quoted(instance)} is not a real date or time: {date_problem(instance)}"
    elif isinstance(instance, str) or instance is None or (
            isinstance(instance, (list, dict)) and len(error.message) > MAX_QUOTED_CHARS):
        # a list or object is written out only by the messages that quote it whole: the long ones
        text = repr(instance)
        if text in error.message:
            error.message = error.message.replace(text, quoted(instance))
    return error
