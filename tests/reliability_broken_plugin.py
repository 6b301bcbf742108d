"""A plugin that fails at import, as a broken third-party install would."""

raise ImportError("reliability_broken_plugin: a required dependency (libfoo) is not installed")
