"""The HTTP application: assembles every domain's routes, the probes and the OpenAPI
document. Routes themselves live with their domains."""
