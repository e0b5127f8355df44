"""Device inventory, import/export, monitoring state, AV/patch alerts and monthly reports."""
