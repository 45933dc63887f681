"""What every domain of the exchange shares: configuration, the database, the raw file store,
the error hierarchy, logging and the task-queue interface. Nothing here knows a domain."""
