"""The agency console's use cases, one module per area (auth, institutions, persons, audit).

Each entry point takes the running `Platform` and the signed-in `User`, opens the read
connection or hands a job to the single writer, calls the enrolment and users services,
audits, masks personal data and returns plain data. The HTTP edge (`yibao.api.console`) keeps
the routes, schemas, cookies and status codes.
"""
