"""GraphiQL for dev mode, served from the package (no CDN), signed in only on this machine."""
