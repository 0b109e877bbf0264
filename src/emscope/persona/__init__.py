"""Persona vectors and training-time monitoring (extraction, steering, screening, EM-onset alarm)."""
