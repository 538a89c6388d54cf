"""Procedure catalog: file/CSV loading, SQL storage and the in-memory search index."""
