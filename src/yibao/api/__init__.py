"""HTTP edges: the national-interface gateway, the console API and the pages."""
