"""Errors raised by the model layer."""

from __future__ import annotations


class ModelNotAvailableError(RuntimeError):
    """A model could not be found locally and could not be fetched from the hub."""
