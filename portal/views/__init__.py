"""Views of the portal shell. They read through selectors and write through services."""
