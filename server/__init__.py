"""Kenniskring: live quiz and voting for social-domain teams."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kenniskring")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
