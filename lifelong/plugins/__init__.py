"""Built-in plugins. Each module is written exactly as a third-party plugin would be."""
