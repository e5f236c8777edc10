"""The backfill: judge and annotate historical Kadi4Mat records, resumably, and write a report.

A thin host around `judge_and_annotate` (the same parsers, rules and sink as the on-save plugin):
`listing` pages through the records, `runner` judges them with worker threads, `state` keeps the
progress in SQLite, `report` writes HTML, CSV and JSON. See docs/backfill.md.
"""
