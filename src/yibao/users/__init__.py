"""Agency console accounts: users, password hashing, bearer tokens / session cookies."""
