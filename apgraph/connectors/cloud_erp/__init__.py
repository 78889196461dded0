"""The cloud ERP over JSON REST with OAuth2 client credentials."""
