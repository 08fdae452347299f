"""Agency console accounts: users, password hashing, bearer tokens / session cookies
(`service`), their SQL (`repo`) and the sign-in throttle (`throttle`)."""
