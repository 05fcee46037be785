"""Pytest fixtures for the fake catalog site (filled in by the Catalog issue)."""
