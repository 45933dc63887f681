"""The SDMX REST API: structure and data queries over the published catalogue and releases,
in the formats SDMX clients read (``negotiation`` decides which)."""
