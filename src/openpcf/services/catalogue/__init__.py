"""What tenants and regulators keep: products with their model versions, and factor sets.

Public face: `products` (create, version, read), `factor_sets` (upload, publish, search),
`coverage` (the regulator's view of certified products by province and sector).
"""
