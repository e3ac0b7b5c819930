"""broadcast domain."""
