"""The on-prem legacy ERP over SOAP/XML."""
