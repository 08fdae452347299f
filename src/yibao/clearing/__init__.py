"""Clearing (清算): the institutions' monthly applications (3203/3204), the agency's review
against its own settlements, deductions, the quality deposit and the payment orders (拨付单).
docs/clearing.md is the staff's guide; `arithmetic` holds the pure rules, `counting` what an
application counts, `service` the application's use cases, `payments` the orders and the
deposit, `events` the recorded steps, `repo` the SQL."""
