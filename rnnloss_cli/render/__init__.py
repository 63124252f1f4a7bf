"""Renderers: results in, text out. They format; they never compute a loss."""
