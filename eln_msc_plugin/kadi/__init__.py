"""Kadi4Mat: the extras parser, the annotation sink, the on-save judge and the Kadi plugin itself.

Only `eln_msc_plugin.kadi.plugin` imports Kadi; everything else talks to Kadi over its REST API.
"""

KADI_RECORD = "application/vnd.kadi.record+json"
ANNOTATION_KEY = "msc_qc"
TAG_PREFIX = "qc-"
VERDICT_TAGS = ("qc-pass", "qc-warn", "qc-fail", "qc-error")
REPORT_PREFIX = "msc-qc-report"
