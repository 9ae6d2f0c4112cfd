"""Factor sets: the bundled national set, user sets, lookup, search and electricity resolution."""
