"""Portal pages of the device inventory: list, detail, add/edit/retire, import and export.

The views read through ``devices.selectors`` and write through ``devices.services``; who may
do what comes from ``portal.roles`` (checked here for the buttons and again by the services).
"""
