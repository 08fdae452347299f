"""The enrolment domain's SQL, one module per record kind (credentials, persons, institutions,
insurance, personal accounts, audit). Services call these functions and decide; only the unit
of work commits."""
