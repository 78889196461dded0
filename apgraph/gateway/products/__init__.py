"""API products: views of the one schema, served per version with their own limits."""
