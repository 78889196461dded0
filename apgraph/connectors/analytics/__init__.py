"""The analytics platform's payment-forecast webhook."""
