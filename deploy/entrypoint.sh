#!/bin/sh
# The image's entrypoint (under tini, deploy/Dockerfile):
#   service NAME     run one service: nameko run --config services/NAME/config.yaml
#                    services.NAME.service:<Name>Service (exec'd: tini's SIGTERM reaches nameko)
#   vetctl ARGS...   run vetctl (e.g. `vetctl broker init`, `vetctl migrate`)
#   sh|bash ARGS...  anything else is run as given (debugging)
set -eu

USAGE="usage: entrypoint.sh service {registry|loans|jobs|training|followup} | vetctl ARGS... | COMMAND..."
usage() {
    echo "$USAGE" >&2
    exit 2
}

[ $# -gt 0 ] || usage
case $1 in
    service)
        [ $# -eq 2 ] || usage
        name=$2
        [ -f "services/$name/config.yaml" ] || { echo "entrypoint.sh: no service $name" >&2; usage; }
        # registry -> RegistryService
        first=$(printf '%s' "$name" | cut -c1 | tr '[:lower:]' '[:upper:]')
        exec nameko run --config "services/$name/config.yaml" \
            "services.$name.service:${first}$(printf '%s' "$name" | cut -c2-)Service"
        ;;
    vetctl)
        shift
        exec vetctl "$@"
        ;;
    -h | --help | help)
        echo "$USAGE"
        ;;
    *)
        exec "$@"
        ;;
esac
