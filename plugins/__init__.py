"""Built-in rule plugins, installed as ``seqgan_plugins`` and registered via DEFAULT_PLUGINS."""
