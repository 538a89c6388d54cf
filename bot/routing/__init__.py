"""Procedure routing: NLU result + catalog -> one procedure, candidates, or no procedure."""
