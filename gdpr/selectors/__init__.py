"""The gdpr app's reads, one module per topic (avv, subprocessors, records); every read of
customer-owned rows goes through ``visible_to``."""
