"""The agency's pages and their static assets (served by yibao itself; no CDN)."""
