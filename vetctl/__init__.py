"""vetctl, the operators' command line."""
import warnings

# nameko imports pkg_resources and eventlet announces its deprecation at import: noise for
# an operator. Filtered before anything imports them.
warnings.filterwarnings("ignore", message=r"\s*(Eventlet is deprecated|pkg_resources is deprecated)")
