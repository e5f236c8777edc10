"""eLabFTW: the extra-fields parser, the REST API v2 client, the annotation writer and the adapter.

eLabFTW has no plugin system and no webhooks, so everything here talks to it over its REST API v2;
nothing imports eLabFTW code. Hosts reach this package only through the adapter registry.
"""

ENTRY_MEDIA_TYPE = "application/vnd.elabftw.entity+json"
ANNOTATION_FIELD = "msc_qc"
VERDICT_TAGS = ("qc-pass", "qc-warn", "qc-fail", "qc-error")
REPORT_PREFIX = "msc-qc-report"
ENTITY_TYPES = ("experiments", "items")
