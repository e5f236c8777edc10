# Appended to the test stack's Kadi config by scripts/test: retry quickly so fault tests finish fast.
PLUGIN_CONFIG["eln_msc"]["retry_delay"] = 0.5
PLUGIN_CONFIG["eln_msc"]["max_retries"] = 40
