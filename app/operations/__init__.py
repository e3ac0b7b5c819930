"""operations domain."""
