"""The fault suite's load generator (``load``) and checker (``checker``)."""
