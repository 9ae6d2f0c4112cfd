"""Example models that `openpcf serve --demo` loads (copies of examples/, sub-assemblies by URN)."""
