#!/usr/bin/env bash
# Run the nameko services locally. Called by the Makefile; usable directly:
#
#   scripts/services.sh run  [svc...]   foreground, console logs prefixed "[svc] ",
#                                       Ctrl-C / SIGTERM stops them all
#   scripts/services.sh up   [svc...]   background: .local/pids/<svc>.pid, .local/logs/<svc>.log,
#                                       returns once every service's /readyz answers 200
#   scripts/services.sh down            stops what `up` started (pid files only, never by name)
#
# REPLICAS=N (default 1) runs N processes of each service: instances <svc> (the first),
# <svc>-2 … <svc>-N, each with its own supervisor, pid file and log. They share the
# service's queues (competing consumers) and its database; replica k listens for probes
# and metrics on the configured HEALTH_ADDRESS port + 100·(k-1) (registry: 9101, 9201 …)
# and, for jobs, for the bureau's HTTP on WEB_SERVER_ADDRESS's port + (k-1) (8000, 8001 …),
# for loans, the banks' HTTP on WEB_SERVER_ADDRESS_LOANS's (default 8100) + (k-1).
# HEALTH_ADDRESS_<SERVICE> (HEALTH_ADDRESS_REGISTRY=127.0.0.1:19101 …) moves one service's
# probe port, so a second system (tests/e2e) can run beside `make up`; HEALTH_ADDRESS
# alone would give every service the same port. LOCAL_DIR (default .local) holds the pid
# files, logs, secrets and broker passwords.
#
# Each service runs under a supervisor (this script's `supervise`): when nameko exits on
# its own it is restarted with backoff (1, 2, 4 … 30 s; back to 1 s after a minute up),
# and the restart is logged. Every start keeps the last LOG_KEEP logs (<svc>.log.1 …).
# Services default to $SERVICES (or "registry loans jobs training followup"). `run` and `up` first run
# `vetctl check` (one line per unreachable server, exit 1) and `vetctl migrate`.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
SELF=$PWD/scripts/services.sh

VENV=${VENV:-.venv}
NAMEKO=${NAMEKO:-$VENV/bin/nameko}
VETCTL=${VETCTL:-$VENV/bin/vetctl}
LOCAL=${LOCAL_DIR:-.local}
PID_DIR=$LOCAL/pids
LOG_DIR=$LOCAL/logs
UP_TIMEOUT=${UP_TIMEOUT:-60}     # seconds `up` waits for every /readyz to answer 200
STOP_TIMEOUT=${STOP_TIMEOUT:-40} # seconds between SIGTERM and SIGKILL (past SHUTDOWN_GRACE_SECONDS)
LOG_KEEP=${LOG_KEEP:-5}          # rotated logs kept per service
RESTART_MAX_DELAY=${RESTART_MAX_DELAY:-30} # seconds, the longest wait before a restart
REPLICAS=${REPLICAS:-1}          # processes per service
HEALTH_PORT_STEP=100             # replica k's probe port: the first's + 100·(k-1)
[[ $REPLICAS =~ ^[1-9][0-9]?$ ]] || { printf 'REPLICAS must be 1-99, not %s\n' "$REPLICAS" >&2; exit 2; }
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore::DeprecationWarning,ignore::UserWarning}
export EVENTLET_TESTS=${EVENTLET_TESTS:-1} # skips eventlet's deprecation banner (see Makefile)

say() { printf '%s\n' "$*"; }
err() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- helpers

# is_ours PID SVC: PID is alive and is SVC's supervisor (`services.sh supervise SVC`)
# (guards against a stale pid file whose number was reused by another process).
is_ours() {
    local pid=$1 svc=$2 cmdline
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"services.sh supervise $svc "* ]]
}

# service_class SVC: the nameko class to run (its module also imports mixins and bases
# that carry entrypoints, so `nameko run` must be told which class is the service).
service_class() {
    local name=$1
    printf '%sService' "${name^}"
}

# service_of INSTANCE: registry-2 → registry; replica_of INSTANCE: registry-2 → 2, registry → 1.
service_of() { printf '%s' "${1%%-*}"; }
replica_of() { [[ $1 == *-* ]] && printf '%s' "${1##*-}" || printf 1; }

# instances SVC...: every instance REPLICAS asks for, in order (registry registry-2 loans …).
instances() {
    local svc k
    for svc in "$@"; do
        printf '%s\n' "$svc"
        for ((k = 2; k <= REPLICAS; k++)); do printf '%s-%d\n' "$svc" "$k"; done
    done
}

# with_port ADDRESS OFFSET: host:port with the port moved by OFFSET.
# (anything without a port, such as HEALTH_ADDRESS=off, is printed as it is)
with_port() {
    [[ $1 =~ :[0-9]+$ ]] || { printf '%s' "$1"; return; }
    printf '%s:%d' "${1%:*}" "$((${1##*:} + $2))"
}

# config_default SVC KEY: KEY's default in SVC's config.yaml (KEY: ${KEY:default}).
config_default() {
    sed -n "s/^$2: \\\${$2:\\(.*\\)}\$/\\1/p" "services/$1/config.yaml"
}

# health_address INSTANCE: host:port of its /healthz, /readyz and /metrics
# ($HEALTH_ADDRESS_<SERVICE>, else $HEALTH_ADDRESS, else the default in its service's
# config.yaml; moved per replica).
health_address() {
    local svc base own
    svc=$(service_of "$1")
    own=HEALTH_ADDRESS_${svc^^}
    base=${!own:-${HEALTH_ADDRESS:-$(config_default "$svc" HEALTH_ADDRESS)}}
    with_port "$base" $((($(replica_of "$1") - 1) * HEALTH_PORT_STEP))
}

# web_address INSTANCE: where a replica of a service with an HTTP entrypoint listens (jobs:
# the bureau's, 8000; loans: the partner banks', 8100): $WEB_SERVER_ADDRESS_<SERVICE>, else
# for jobs $WEB_SERVER_ADDRESS (as before loans had one), else its config.yaml's default.
web_address() {
    local svc base own
    svc=$(service_of "$1")
    own=WEB_SERVER_ADDRESS_${svc^^}
    base=${!own:-}
    [[ -z $base && $svc == jobs ]] && base=${WEB_SERVER_ADDRESS:-}
    base=${base:-$(config_default "$svc" WEB_SERVER_ADDRESS)}
    [[ -n $base ]] || return 1
    with_port "$base" $(($(replica_of "$1") - 1))
}

pid_of() { # pid_of SVC: the pid recorded by `up`, or nothing
    local file=$PID_DIR/$1.pid
    [[ -f $file ]] && tr -dc '0-9' <"$file"
}

# stop_pids PID...: SIGTERM each supervisor (it passes the signal on to nameko once, and
# exits when nameko has stopped), wait up to STOP_TIMEOUT seconds, then SIGKILL what is
# left, with its whole process group when it leads one.
stop_pids() {
    local pid deadline left
    (($#)) || return 0
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null
    done
    deadline=$((SECONDS + STOP_TIMEOUT))
    while :; do
        left=()
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
        ((${#left[@]})) || return 0
        ((SECONDS < deadline)) || break
        sleep 0.2
    done
    err "still running after ${STOP_TIMEOUT}s, sending SIGKILL: ${left[*]}"
    for pid in "${left[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    done
    return 0
}

prepare() { # the servers answer (else vetctl's one-line messages), broker users, then
    # migrations + queues. `broker init` (as the bootstrap administrator: BROKER_ADMIN_URI,
    # else AMQP_URI, else registry's config) makes every service's own broker user and the
    # exchanges (shared/data/broker_access.yaml); each service then runs as itself.
    "$VETCTL" check || exit 1
    LOCAL_DIR=$LOCAL "$VETCTL" broker init || exit 1
    "$VETCTL" migrate || exit 1
    # Without VET_AUTH_SECRET: one random secret kept under .local/, and an admin token in
    # .local/admin.token for vetctl and nameko shell.
    if [[ -z ${VET_AUTH_SECRET:-} ]]; then
        LOCAL_DIR=$LOCAL "$VETCTL" auth init || exit 1
        VET_AUTH_SECRET=$(<"$LOCAL/auth.secret")
        export VET_AUTH_SECRET
    fi
    # Without BANK_HMAC_SECRETS: one random secret per demo bank (products.yaml) kept in
    # .local/bank.secrets, so that `vetctl demo` can sign the banks' reports to loans' HTTP.
    if [[ -z ${BANK_HMAC_SECRETS:-} ]]; then
        if [[ ! -s $LOCAL/bank.secrets ]]; then
            (umask 077 && "$VENV/bin/python" -c 'import secrets; print(",".join(
                f"{code}={secrets.token_hex(32)}" for code in ("demo_bank_a", "demo_bank_b")))' \
                >"$LOCAL/bank.secrets") || exit 1
        fi
        BANK_HMAC_SECRETS=$(<"$LOCAL/bank.secrets")
        export BANK_HMAC_SECRETS
    fi
}

# start_service PIDFILE SVC LOG [WRAPPER...]: SVC's supervisor, through a bash that writes
# its own pid to PIDFILE and then execs it, so the pid recorded is the supervisor's.
# It execs: call it only in a subshell (with & or in a pipeline). SIGINT is ignored (the
# `exec` builtin would otherwise undo bash's ignoring of it in background commands), so a
# Ctrl-C reaches only this script, whose trap stops the services with one SIGTERM each.
start_service() {
    local pidfile=$1 svc=$2 log=$3
    shift 3
    trap '' INT QUIT
    exec "$@" bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" \
        "$BASH" "$SELF" supervise "$svc" "$log"
}

# rotate LOG: LOG → LOG.1 → … → LOG.$LOG_KEEP (the oldest dropped).
rotate() {
    local log=$1 i
    [[ -s $log ]] || return 0
    for ((i = LOG_KEEP - 1; i >= 1; i--)); do
        [[ -f $log.$i ]] && mv -f "$log.$i" "$log.$((i + 1))"
    done
    mv -f "$log" "$log.1"
}

# supervise INSTANCE LOG: run `nameko run` for INSTANCE (registry, registry-2 …), appending
# to LOG ("-" for standard output); restart it with backoff whenever it exits without being
# asked to. SIGTERM (or INT, HUP) is passed on to nameko and ends the loop once nameko has
# stopped.
cmd_supervise() {
    local instance=$1 log=$2 child= status delay=1 began uri svc health web
    local stop=0
    svc=$(service_of "$instance")
    trap 'stop=1; [[ -n $child ]] && kill -TERM "$child" 2>/dev/null' TERM INT HUP
    # The service's own broker login, never the administrator's (made by `broker init`).
    uri=$(LOCAL_DIR=$LOCAL "$VETCTL" broker uri "$svc") || exit 1
    health=$(health_address "$instance")
    web=$(web_address "$instance") || web=
    while ((!stop)); do
        if [[ $log != - ]]; then
            rotate "$log"
            exec >>"$log" 2>&1
        fi
        began=$SECONDS
        # (env execs nameko: $! is nameko's pid)
        env AMQP_URI="$uri" HEALTH_ADDRESS="$health" ${web:+"WEB_SERVER_ADDRESS=$web"} \
            SERVICE_INSTANCE="$instance" "$NAMEKO" run --config "services/$svc/config.yaml" \
            "services.$svc.service:$(service_class "$svc")" </dev/null &
        child=$!
        # `wait` returns early when a trapped signal arrives: wait until nameko is gone.
        while :; do
            wait "$child"
            status=$?
            kill -0 "$child" 2>/dev/null || break
        done
        child=
        ((stop)) && break
        ((SECONDS - began >= 60)) && delay=1
        printf '{"event": "supervisor.restarting", "service": "%s", "instance": "%s", "exit_status": %d, "delay_s": %d, "level": "warning"}\n' \
            "$svc" "$instance" "$status" "$delay"
        sleep "$delay" &
        wait $! 2>/dev/null
        delay=$((delay * 2 > RESTART_MAX_DELAY ? RESTART_MAX_DELAY : delay * 2))
    done
    exit 0
}

tail_log() {
    err "---- last 20 lines of $LOG_DIR/$1.log ----"
    tail -n 20 "$LOG_DIR/$1.log" >&2 2>/dev/null
    err "----"
}

# ---------------------------------------------------------------- run (foreground)

cmd_run() {
    local svc pid status=0 tmp deadline
    local -a pids=() alive
    for svc in "$@"; do
        pid=$(pid_of "$svc")
        if [[ -n $pid ]] && is_ours "$pid" "$svc"; then
            err "$svc is already running in the background (pid $pid, from \`make up\`): \`make down\` first"
            exit 1
        fi
    done
    prepare
    export LOG_FORMAT=console
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vet-run.XXXXXX")

    # A signal only sets a flag; the loop below sends SIGTERM once (nameko's graceful
    # stop). A second signal after that sends SIGKILL.
    stopping=0 terminated=0
    on_signal() {
        if ((terminated)); then
            err "killing ${pids[*]}"
            kill -KILL "${pids[@]}" 2>/dev/null
        fi
        stopping=1
    }
    trap on_signal INT TERM HUP

    # The services ignore SIGINT (see start_service): they stop on the SIGTERM sent below.
    for svc in "$@"; do
        # (in a pipeline $! would be sed's pid, hence the pid file)
        start_service "$tmp/$svc.pid" "$svc" - 2>&1 </dev/null | sed -u "s/^/[$svc] /" &
    done
    for svc in "$@"; do
        for _ in {1..50}; do [[ -s $tmp/$svc.pid ]] && break; sleep 0.1; done
        pid=$(tr -dc '0-9' <"$tmp/$svc.pid" 2>/dev/null)
        [[ -n $pid ]] && pids+=("$pid")
    done
    ((stopping)) || say "running: $* (Ctrl-C stops them all)"

    # Until a signal arrives (each supervisor restarts its service if it exits).
    while ((!stopping)); do
        for svc in "$@"; do
            pid=$(tr -dc '0-9' <"$tmp/$svc.pid" 2>/dev/null)
            if ! kill -0 "${pid:-0}" 2>/dev/null; then
                err "$svc's supervisor (pid ${pid:-?}) exited; stopping the others"
                stopping=1 status=1
                break
            fi
        done
        ((stopping)) || sleep 0.5
    done

    err "stopping $*..."
    terminated=1
    kill -TERM "${pids[@]}" 2>/dev/null
    deadline=$((SECONDS + STOP_TIMEOUT))
    while :; do
        alive=()
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
        ((${#alive[@]})) || break
        if ((SECONDS >= deadline)); then
            err "still running after ${STOP_TIMEOUT}s, sending SIGKILL: ${alive[*]}"
            kill -KILL "${alive[@]}" 2>/dev/null
            break
        fi
        sleep 0.2
    done
    wait # the pipelines: sed prints the last lines before we return
    rm -rf "$tmp"
    trap - INT TERM HUP
    say "stopped: $*"
    exit "$status"
}

# ---------------------------------------------------------------- up (background)

cmd_up() {
    local svc pid
    local -a start=() started=()
    mkdir -p "$PID_DIR" "$LOG_DIR"
    for svc in "$@"; do
        pid=$(pid_of "$svc")
        if [[ -n $pid ]] && is_ours "$pid" "$svc"; then
            say "$svc is already up (pid $pid, log $LOG_DIR/$svc.log)"
        else
            [[ -f $PID_DIR/$svc.pid ]] && rm -f "$PID_DIR/$svc.pid" # stale
            start+=("$svc")
        fi
    done
    ((${#start[@]})) || return 0

    prepare

    # Ctrl-C while waiting: stop what this invocation started.
    cleanup_started() {
        local s p pids=()
        for s in "${started[@]}"; do
            p=$(pid_of "$s") && [[ -n $p ]] && pids+=("$p")
        done
        stop_pids "${pids[@]}"
        for s in "${started[@]}"; do rm -f "$PID_DIR/$s.pid"; done
    }
    trap 'err "interrupted: stopping ${started[*]:-nothing}"; cleanup_started; exit 130' INT TERM HUP

    for svc in "${start[@]}"; do
        # setsid: its own session and process group, so it outlives this shell and its
        # terminal, and `down` can signal the whole group. The supervisor rotates the log.
        start_service "$PID_DIR/$svc.pid" "$svc" "$LOG_DIR/$svc.log" setsid </dev/null \
            >/dev/null 2>&1 &
        started+=("$svc")
    done
    for svc in "${start[@]}"; do
        for _ in {1..50}; do [[ -s $PID_DIR/$svc.pid ]] && break; sleep 0.1; done
    done

    # Wait until each answers health() by RPC, or dies, or UP_TIMEOUT passes.
    local -a waiting=("${start[@]}") still failed=()
    local deadline=$((SECONDS + UP_TIMEOUT))
    while ((${#waiting[@]})); do
        still=()
        for svc in "${waiting[@]}"; do
            pid=$(pid_of "$svc")
            if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then
                err "$svc died while starting"
                failed+=("$svc")
            elif curl -fsS -m 2 -o /dev/null "http://$(health_address "$svc")/readyz" 2>/dev/null; then
                :
            else
                still+=("$svc")
            fi
        done
        waiting=("${still[@]}")
        ((${#failed[@]})) && break
        ((${#waiting[@]})) || break
        if ((SECONDS >= deadline)); then
            err "timed out after ${UP_TIMEOUT}s waiting for /readyz of: ${waiting[*]}"
            failed+=("${waiting[@]}")
            break
        fi
        sleep 1
    done

    if ((${#failed[@]})); then
        for svc in "${failed[@]}"; do tail_log "$svc"; done
        err "stopping ${started[*]}"
        cleanup_started
        trap - INT TERM HUP
        exit 1
    fi
    trap - INT TERM HUP
    for svc in "${start[@]}"; do
        say "$svc up: pid $(pid_of "$svc"), log $LOG_DIR/$svc.log"
    done
}

# ---------------------------------------------------------------- down

cmd_down() {
    local file svc pid
    local -a pids=() names=() files=()
    shopt -s nullglob
    for file in "$PID_DIR"/*.pid; do
        svc=$(basename "$file" .pid)
        pid=$(pid_of "$svc")
        if [[ -n $pid ]] && is_ours "$pid" "$svc"; then
            pids+=("$pid") names+=("$svc (pid $pid)")
        else
            say "$svc: stale pid file (pid ${pid:-?} is not running it), removing"
        fi
        files+=("$file")
    done
    if ((${#pids[@]} == 0)); then
        rm -f "${files[@]}"
        say "nothing running"
        return 0
    fi
    say "stopping ${names[*]}"
    stop_pids "${pids[@]}"
    rm -f "${files[@]}"
    say "stopped"
}

# ---------------------------------------------------------------- main

usage() { err "usage: $0 {run|up|down} [service...]"; exit 2; }
(($#)) || usage
command=$1
shift
if [[ $command == supervise ]]; then
    (($# == 2)) || usage
    cmd_supervise "$@"
fi
(($#)) || set -- ${SERVICES:-registry loans jobs training followup}
mapfile -t all_instances < <(instances "$@")
set -- "${all_instances[@]}"
case $command in
    run) cmd_run "$@" ;;
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    *) usage ;;
esac
