"""Clearing (清算): the institutions' monthly applications (3203/3204), the agency's review
against its own settlements, deductions, the quality deposit and the payment orders (拨付单).
docs/clearing.md is the staff's guide; `arithmetic` holds the pure rules, `repo` the SQL,
`service` the use cases."""
