"""Framework glue: settings, database, errors, security primitives and the app factory."""
