"""Searching veterans and the registry's statistics: RPCs. Filled in by the search work."""


class SearchRpcs:
    pass
