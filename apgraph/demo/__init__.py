"""The deterministic demo network (`generator`, pure) and its database loader (`writer`)."""
