"""Who calls the exchange: member states, API clients, their roles, secrets and access tokens."""
