"""The pure AP domain: ids, money, entities, rules. Imports nothing but the standard library."""
