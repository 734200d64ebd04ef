"""The core: hookspecs, plugin loading, registry, configuration, workspace and the Agent."""
