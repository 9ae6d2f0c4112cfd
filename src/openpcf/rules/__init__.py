"""Methodology profiles and product rules: data files plus the loader that validates them."""
