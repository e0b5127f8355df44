"""Service catalogue, contracts, per-device bookings, notice rules and change notices."""
