"""HTTP plumbing every domain's routes share: the application context, the request's unit of
work, the caller, problem-details responses."""
