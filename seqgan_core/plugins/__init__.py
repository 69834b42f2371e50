"""The plugin system: hook specifications and the plugin manager that loads built-ins and entry points."""
