"""The national transactions' handlers, one module per area. Each handler parses the envelope's
`input` once, at its top, into a typed command and calls the domain's services."""
