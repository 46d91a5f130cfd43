"""Errors of the store."""

from __future__ import annotations


class StoreError(Exception):
    """The store file is unusable (locked, corrupt, or of a newer format)."""


class SyncDataError(Exception):
    """An upload breaks a persister rule, such as the same ``_key`` twice."""
