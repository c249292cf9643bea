"""Enterprises' booklets (一企一册): RPCs. Filled in by the enterprises work."""


class EnterpriseRpcs:
    pass
