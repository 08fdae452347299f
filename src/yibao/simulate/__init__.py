"""The synthetic city: a deterministic generator of institutions, insured persons and a year
of visits with labelled anomalies, the demo city, and the bulk loader. See docs/simulate.md."""
