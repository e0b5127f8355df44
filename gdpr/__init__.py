"""AVV versions and acceptances, TOMs, sub-processors, processing records, DSRs and purges."""
