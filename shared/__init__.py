"""Code shared by every veteran-services microservice."""
