"""Billing runs, invoices and credit notes, gap-free numbering, SEPA and dunning."""
