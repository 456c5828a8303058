"""Deterministic synthetic web, CRM and e-mail exports with planted ground truth."""

from .dataset import generate

__all__ = ["generate"]
