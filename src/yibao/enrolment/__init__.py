"""经办 (enrolment) use cases of the fund agency: institutions and their gateway credentials,
insured persons, their insurance, assistance identities and personal-account credits.

Every service function takes a `Connection` and keyword-only arguments, never commits (the
writer or the unit of work does), writes an `audit_log` row for every change and appends the
replica's payload (`fixmedins` / `psn`) to the change log in the same transaction.

- `institutions` — register, change, list and get institutions (定点医药机构).
- `credentials` — issue, revoke and verify gateway credentials (paasid + secret).
- `persons` — insured persons; `insurance` — their insurance (psn_insu) and identities
  (psn_idet).
- `personal_accounts` — personal-account credits (个人账户划入).
- `audit` — the audit trail; `masking` — masking of personal data for display and logs.
- `repo/` — the SQL, one module per record kind; `scope` — whose records a caller may see.
"""
