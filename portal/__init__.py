"""The portal project package: settings, URLs, tenancy, accounts, MFA, audit and the shell."""
