"""Whose records a caller may see.

The console has one tenant today, the fund agency, which sees every institution and person
(`AGENCY`). An institution or a pharmacy chain sees its own codes; the tenancy issue gives
console users such scopes. Repositories that list or fetch records take a `Scope` so that
the filter has one place to live.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    #: the institutions whose records are visible; None: all of them (the agency)
    fixmedins_codes: frozenset[str] | None = None

    @property
    def is_agency(self) -> bool:
        return self.fixmedins_codes is None


#: the fund agency: every record of the pooling region
AGENCY = Scope()
