"""Stand-ins for the external systems of DESIGN §6, as small Starlette apps with switchable
faults. They speak their vendors' shapes on their own: importing a connector's mapping here
would make every adapter test pass by construction."""
