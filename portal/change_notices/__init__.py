"""Change notices with an objection window (DESIGN "The mechanisms every app shares" 8): the
kinds apps declare (``kinds``), the model (``models``, portal app) and the services."""
