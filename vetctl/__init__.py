"""vetctl, the operators' command line."""

import warnings

# The platform's services, in the order vetctl lists them (status, queues, reports).
SERVICES = ("registry", "loans", "jobs", "training", "followup")

# nameko imports pkg_resources and eventlet announces its deprecation at import: noise for
# an operator. Filtered before anything imports them.
warnings.filterwarnings(
    "ignore", message=r"\s*(Eventlet is deprecated|pkg_resources is deprecated)"
)

import logging  # noqa: E402

# py-amqp warns about frames that arrive while a channel closes (the RPC proxy's reply
# queue at exit): harmless, and not an operator's business.
logging.getLogger("amqp").setLevel(logging.ERROR)
