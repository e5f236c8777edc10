"""Built-in parsers: the v1 interchange format as JSON, JSON Lines and XML."""
