"""`eln-msc watch`: a poller host for ELNs without hooks or webhooks (eLabFTW), written against the
adapter protocol only: `loop` polls and judges, `state` keeps its place in SQLite, `command` is the CLI."""
