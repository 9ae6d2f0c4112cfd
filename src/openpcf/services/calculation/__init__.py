"""A product model's footprint: from a model file or a stored version to a `Result`.

Public face: `project.load_project` (model + factor files), `calculate.calculate`,
`check.check` (rule and profile breaches), `compare.compare` (profiles side by side with a
reconciliation), `uncertainty.monte_carlo`, `cbam.embedded_emissions`, and `stored` for
calculations kept per tenant (run, list, read). `inventory` turns a project into the engine's
arrays; `methodology` and `profile_comparison` serve the profile views of the API and web.
"""
