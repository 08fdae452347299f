"""Named analytic queries over the columnar replica (or the row store): cost indicators, dashboards."""
