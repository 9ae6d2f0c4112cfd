"""Sparse matrix engine: arrays in, arrays out. Knows nothing of files, HTTP or databases."""
