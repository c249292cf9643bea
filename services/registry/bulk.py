"""Registering many veterans in one call: RPCs. Filled in by the bulk work."""


class BulkRpcs:
    pass
