"""Load generator and baseline server: how many phones Kenniskring carries (docs/PERFORMANCE.md)."""
