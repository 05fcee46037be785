"""Pytest fixtures that start the real stack (filled in next)."""
