"""Regional tables: member states summed per region and quarter, with coverage."""
