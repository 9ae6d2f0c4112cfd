"""The policy and standards tracker: who requires what, where, for which products.

Public face: `documents` (read, filter, search, and the regulator's create, edit, supersede;
every version immutable and audited), `regions` (a province's page: its policies, grid factors,
certified products, pilots and data-centre requirements; the three map views) and `feed` (the
Atom feed of changes). Everyone reads; only a regulator tenant's admins and members write.
"""
