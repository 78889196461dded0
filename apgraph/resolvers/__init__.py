"""Resolvers: arguments → one service or repository call → GraphQL types. No business `if`s."""
