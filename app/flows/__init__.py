"""Cross-domain sequences, each written once, top to bottom (see docs/ARCHITECTURE.md)."""
