"""Pytest fixtures for dataset tests: a local HTTP server and dataset folders."""
