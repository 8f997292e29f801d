"""A static site generator for news portals."""

__version__ = "0.1.0"
