"""Use cases: each calls the core (domain, factors, engine, io) and returns values."""
