"""Clearing's SQL: `applications` (clr_appy, clr_event, clr_deduction), `items` (what was
counted, and the settlements it is counted from), `orders` (clr_order)."""
