#!/usr/bin/env bash
# A local cluster on demand, beside the machine's own servers. Called by the Makefile:
#
#   scripts/cluster.sh up       3 RabbitMQ nodes (rabbit-a/b/c@localhost) in one cluster and
#                               a PostgreSQL 15 primary with a streaming replica; prints the
#                               URLs. Idempotent: what already runs is kept.
#   scripts/cluster.sh down     stops and removes everything `up` made
#   scripts/cluster.sh status   the nodes, the cluster's members, the PostgreSQL roles
#   scripts/cluster.sh urls     only the URLs (AMQP_URI=..., DATABASE_URL=..., RABBIT_API=...)
#   scripts/cluster.sh ctl N ARGS...   rabbitmqctl ARGS for node N (a, b or c)
#   scripts/cluster.sh pg-reset        drop both PostgreSQL clusters and make them anew (after a
#                               failover the replica is the primary: tests/chaos starts over)
#
# Never touches rabbit@localhost (5672/15672/25672, cookie /var/lib/rabbitmq/.erlang.cookie)
# or PostgreSQL 15/main (5432). The wrappers in /usr/sbin `su rabbitmq` and so use the main
# node's cookie: the binaries in /usr/lib/rabbitmq/bin are called directly, with a HOME of
# our own holding our own cookie. Needs root (pg_createcluster, su postgres).
set -uo pipefail
# (no `grep -q` at the end of a pipe: it exits at the first match, the writer before it
# dies of SIGPIPE, and pipefail makes the whole pipe fail)

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

DIR=$PWD/${LOCAL_DIR:-.local}/cluster
RMQ_BIN=${RMQ_BIN:-/usr/lib/rabbitmq/bin}
NODES=(a b c)
AMQP_BASE=5700 DIST_BASE=25700 MGMT_BASE=15700 PROM_BASE=15790 # + 1, 2, 3
PG_VERSION=15
PG_PRIMARY=vs-primary PG_PRIMARY_PORT=5441
PG_REPLICA=vs-replica PG_REPLICA_PORT=5442
PG_SLOT=vs_replica
PG_DB=root
ADMIN_USER=vs-admin
CLUSTER_NAME=vs-local
START_TIMEOUT=${START_TIMEOUT:-120} # seconds for each node's await_startup
MAIN_COOKIE=/var/lib/rabbitmq/.erlang.cookie

say() { printf '%s\n' "$*"; }
err() { printf '%s\n' "$*" >&2; }
die() { err "cluster: $*"; exit 1; }

# ---------------------------------------------------------------- RabbitMQ

index_of() { # index_of a → 1
    case $1 in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac
}
node_name() { printf 'rabbit-%s@localhost' "$1"; }

# rmq_env N: the environment of node N and of the CLI talking to it. RABBITMQ_CONF_ENV_FILE
# points at an empty file, so /etc/rabbitmq/rabbitmq-env.conf (NODENAME=rabbit@localhost)
# is never read.
rmq_env() {
    local n=$1 i
    i=$(index_of "$n")
    printf '%s\n' \
        "HOME=$DIR/home" \
        "RABBITMQ_NODENAME=$(node_name "$n")" \
        "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1" \
        "RABBITMQ_NODE_PORT=$((AMQP_BASE + i))" \
        "RABBITMQ_DIST_PORT=$((DIST_BASE + i))" \
        "RABBITMQ_CONF_ENV_FILE=$DIR/rabbitmq-env.conf" \
        "RABBITMQ_CONFIG_FILE=$DIR/rabbit-$n/rabbitmq.conf" \
        "RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins" \
        "RABBITMQ_MNESIA_BASE=$DIR/rabbit-$n/mnesia" \
        "RABBITMQ_LOG_BASE=$DIR/rabbit-$n/log" \
        "RABBITMQ_PID_FILE=$DIR/rabbit-$n/pid" \
        "ERL_EPMD_ADDRESS=127.0.0.1" \
        "ERL_CRASH_DUMP=$DIR/erl_crash.dump" \
        "ERL_FLAGS=-kernel inet_dist_use_interface {127,0,0,1}"
}

# rmq N TOOL ARGS...: run /usr/lib/rabbitmq/bin/TOOL for node N in its environment.
rmq() {
    local n=$1 tool=$2
    shift 2
    local -a env
    mapfile -t env < <(rmq_env "$n")
    env "${env[@]}" "$RMQ_BIN/$tool" "$@"
}
ctl() { local n=$1; shift; rmq "$n" rabbitmqctl -n "$(node_name "$n")" "$@"; }

port_taken() { ss -Hltn "sport = :$1" 2>/dev/null | grep . >/dev/null; }
# (without our cookie nothing of ours runs, and the CLI would only crash trying to make one)
node_running() { [[ -s $DIR/home/.erlang.cookie ]] && ctl "$1" -q ping >/dev/null 2>&1; }

write_rabbit_files() {
    local n i
    mkdir -p "$DIR/home"
    : >"$DIR/rabbitmq-env.conf"
    if [[ ! -s $DIR/home/.erlang.cookie ]]; then
        (umask 077 && head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 \
            >"$DIR/home/.erlang.cookie")
    fi
    chmod 400 "$DIR/home/.erlang.cookie"
    if [[ -r $MAIN_COOKIE ]] && cmp -s "$DIR/home/.erlang.cookie" "$MAIN_COOKIE"; then
        die "our cookie equals the machine node's ($MAIN_COOKIE): refusing"
    fi
    if [[ ! -s $DIR/admin.password ]]; then
        (umask 077 && head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24 \
            >"$DIR/admin.password")
    fi
    echo '[rabbitmq_management,rabbitmq_prometheus].' >"$DIR/enabled_plugins"
    for n in "${NODES[@]}"; do
        i=$(index_of "$n")
        mkdir -p "$DIR/rabbit-$n/mnesia" "$DIR/rabbit-$n/log"
        cat >"$DIR/rabbit-$n/rabbitmq.conf" <<EOF
# written by scripts/cluster.sh: node $(node_name "$n")
listeners.tcp.1 = 127.0.0.1:$((AMQP_BASE + i))
management.tcp.ip = 127.0.0.1
management.tcp.port = $((MGMT_BASE + i))
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $((PROM_BASE + i))
cluster_partition_handling = pause_minority
max_message_size = 4194304
EOF
    done
}

# await_node N: await_startup fails when called before the node has registered with epmd,
# hence the retries.
await_node() {
    local n=$1 deadline=$((SECONDS + START_TIMEOUT))
    until ctl "$n" -q await_startup --timeout 10 >/dev/null 2>&1; do
        ((SECONDS < deadline)) || {
            err "$(node_name "$n") did not start in ${START_TIMEOUT}s; its log:"
            tail -n 20 "$DIR/rabbit-$n/log/"*.log >&2 2>/dev/null
            return 1
        }
        sleep 1
    done
}

in_cluster_with_a() { # in_cluster_with_a N: N's running members include rabbit-a
    ctl "$1" -q cluster_status --formatter json 2>/dev/null \
        | grep "\"$(node_name a)\"" >/dev/null
}

rabbit_up() {
    local n began=$SECONDS
    write_rabbit_files
    for n in "${NODES[@]}"; do
        if node_running "$n"; then
            say "$(node_name "$n") already running"
        elif port_taken $((AMQP_BASE + $(index_of "$n"))) || port_taken $((DIST_BASE + $(index_of "$n"))); then
            # a node started from another checkout (its own directory and cookie)
            die "port $((AMQP_BASE + $(index_of "$n"))) or $((DIST_BASE + $(index_of "$n"))) is taken by something that is not our $(node_name "$n"): \
run scripts/cluster.sh down in the checkout that started it"
        else
            rmq "$n" rabbitmq-server -detached >/dev/null 2>&1 \
                || die "rabbitmq-server -detached failed for $(node_name "$n")"
        fi
    done
    for n in "${NODES[@]}"; do await_node "$n" || return 1; done
    for n in b c; do
        if in_cluster_with_a "$n"; then
            continue
        fi
        say "joining $(node_name "$n") to $(node_name a)"
        # (the node logs harmless errors about its connection tables while its app is
        # stopped: kept in join.log, shown only on failure)
        { ctl "$n" -q stop_app && ctl "$n" -q join_cluster "$(node_name a)" \
            && ctl "$n" -q start_app; } >"$DIR/join.log" 2>&1 \
            || { cat "$DIR/join.log" >&2; die "join_cluster failed for $(node_name "$n")"; }
    done
    # Unset, each node would report a name of its own (rabbit-a@host, rabbit-b@host...).
    ctl a -q set_cluster_name "$CLUSTER_NAME" >/dev/null || return 1
    # (add_user fails when the user exists: then only the tags and permissions are set)
    ctl a -q add_user "$ADMIN_USER" "$(<"$DIR/admin.password")" >/dev/null 2>&1 \
        || ctl a -q list_users 2>/dev/null | grep "^$ADMIN_USER\b" >/dev/null || return 1
    ctl a -q set_user_tags "$ADMIN_USER" administrator >/dev/null || return 1
    ctl a -q set_permissions -p / "$ADMIN_USER" '.*' '.*' '.*' >/dev/null || return 1
    say "rabbitmq: 3 nodes up in $((SECONDS - began)) s"
}

rabbit_down() {
    local n pid
    for n in c b a; do
        [[ -d $DIR/rabbit-$n ]] || continue
        if node_running "$n"; then
            ctl "$n" -q stop >/dev/null 2>&1 || true
        fi
        # A node killed by a test, or one that ignored stop: its pid file, only if it is
        # still this node's beam (the number may have been reused).
        pid=$({ tr -dc '0-9' <"$DIR/rabbit-$n/pid"; } 2>/dev/null)
        if [[ -n $pid ]] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null \
            | grep -- "$(node_name "$n")" >/dev/null; then
            kill -KILL "$pid" 2>/dev/null
        fi
        say "stopped $(node_name "$n")"
    done
    rm -rf "$DIR"/rabbit-{a,b,c} "$DIR/home" "$DIR/enabled_plugins" \
        "$DIR/rabbitmq-env.conf" "$DIR/admin.password" "$DIR/join.log" "$DIR/erl_crash.dump"
}

rabbit_status() {
    local n i
    for n in "${NODES[@]}"; do
        i=$(index_of "$n")
        if node_running "$n"; then
            say "$(node_name "$n"): running (amqp $((AMQP_BASE + i)), management $((MGMT_BASE + i)), prometheus $((PROM_BASE + i)))"
        else
            say "$(node_name "$n"): not running"
        fi
    done
    # A node paused by pause_minority answers ping but not cluster_status: ask the next.
    for n in "${NODES[@]}"; do
        node_running "$n" && ctl "$n" -q cluster_status --formatter json 2>/dev/null \
            | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("cluster members:", ", ".join(s["disk_nodes"]), "| running:", ", ".join(s["running_nodes"]))' \
            2>/dev/null && break
    done
}

# ---------------------------------------------------------------- PostgreSQL

pg_exists() { pg_lsclusters -h "$PG_VERSION" "$1" >/dev/null 2>&1; }
pg_online() { pg_lsclusters -h "$PG_VERSION" "$1" 2>/dev/null | awk '{print $4}' | grep online >/dev/null; }
pg_start() { pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$1" start; }
psql_at() { su postgres -c "psql -X -q -At -h 127.0.0.1 -p $1 -d ${3:-postgres} -c \"$2\""; }

# pg_create NAME PORT: a cluster with the settings both get (the replica must be able to
# serve as a primary once promoted), in Debian's conf.d (postgresql.conf includes it).
pg_create() {
    pg_createcluster "$PG_VERSION" "$1" -p "$2" -- --auth=trust >/dev/null \
        || die "pg_createcluster $1 failed"
    cat >"/etc/postgresql/$PG_VERSION/$1/conf.d/vs-cluster.conf" <<'EOF'
# written by scripts/cluster.sh
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
wal_log_hints = on
# each service process holds up to max_workers + 2 pooled connections and its relay's one:
# 5 services x 2 replicas x 13 = 130, beyond the default 100 (the standby needs as many)
max_connections = 300
EOF
}

# pg_roles_ok: the primary writes and the replica is in recovery (a run that failed over
# and stopped there, here or in another checkout, leaves the replica promoted).
pg_roles_ok() {
    [[ $(psql_at "$PG_PRIMARY_PORT" "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]] \
        && [[ $(psql_at "$PG_REPLICA_PORT" "SELECT pg_is_in_recovery()" 2>/dev/null) == t ]]
}

pg_accepting() { # pg_accepting PORT: up to 30 s for a server to take connections
    local deadline=$((SECONDS + 30))
    until pg_isready -q -h 127.0.0.1 -p "$1"; do
        ((SECONDS < deadline)) || { err "postgresql on port $1 takes no connections"; return 1; }
        sleep 1
    done
}

pg_up() {
    local began=$SECONDS
    pg_make || return 1
    pg_accepting "$PG_PRIMARY_PORT" && pg_accepting "$PG_REPLICA_PORT" || return 1
    if ! pg_roles_ok; then
        # Throw-away clusters: what a failed-over pair holds is not worth mending.
        say "postgresql: $PG_PRIMARY/$PG_REPLICA left failed over (or half made): making them anew"
        pg_down
        pg_make || return 1
        pg_roles_ok || die "after making them anew, $PG_PRIMARY is not a primary or $PG_REPLICA not in recovery"
    fi
    say "postgresql: $PG_PRIMARY (port $PG_PRIMARY_PORT) and $PG_REPLICA (port $PG_REPLICA_PORT) up in $((SECONDS - began)) s"
}

pg_make() {
    local data
    if ! pg_exists "$PG_PRIMARY"; then
        pg_create "$PG_PRIMARY" "$PG_PRIMARY_PORT"
    fi
    pg_online "$PG_PRIMARY" || pg_start "$PG_PRIMARY" || die "could not start $PG_PRIMARY"
    if [[ $(psql_at "$PG_PRIMARY_PORT" "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") != 1 ]]; then
        psql_at "$PG_PRIMARY_PORT" "CREATE DATABASE $PG_DB" || return 1
    fi
    if ! pg_exists "$PG_REPLICA"; then
        pg_create "$PG_REPLICA" "$PG_REPLICA_PORT"
        data=$(pg_lsclusters -h "$PG_VERSION" "$PG_REPLICA" | awk '{print $6}')
        [[ $data == /var/lib/postgresql/* ]] || die "unexpected data directory: $data"
        rm -rf "$data" && install -d -o postgres -g postgres -m 700 "$data"
        # a slot left by an earlier replica of the same name
        psql_at "$PG_PRIMARY_PORT" "SELECT pg_drop_replication_slot('$PG_SLOT') FROM pg_replication_slots WHERE slot_name = '$PG_SLOT'" >/dev/null
        su postgres -c "pg_basebackup -h 127.0.0.1 -p $PG_PRIMARY_PORT -U postgres -D $data -R -X stream -c fast -C -S $PG_SLOT" \
            || die "pg_basebackup failed"
        cp "/etc/postgresql/$PG_VERSION/$PG_PRIMARY/pg_hba.conf" "/etc/postgresql/$PG_VERSION/$PG_REPLICA/pg_hba.conf"
    fi
    pg_online "$PG_REPLICA" || pg_start "$PG_REPLICA" || die "could not start $PG_REPLICA"
    # Once the replica streams: the primary waits for its flush before a commit returns (any
    # standby: '*'), so a failover to the replica loses nothing a client was told was done.
    # (Set before the replica exists, CREATE DATABASE above would wait for ever.) Only the
    # primary has it: the replica, once promoted, has no standby to wait for.
    cat >"/etc/postgresql/$PG_VERSION/$PG_PRIMARY/conf.d/vs-primary.conf" <<'EOF'
# written by scripts/cluster.sh: the primary only
synchronous_standby_names = '*'
EOF
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_PRIMARY" reload \
        || die "could not reload $PG_PRIMARY"
}

pg_down() {
    local name
    for name in "$PG_REPLICA" "$PG_PRIMARY"; do
        if pg_exists "$name"; then
            pg_dropcluster --stop "$PG_VERSION" "$name" && say "dropped postgresql $PG_VERSION/$name"
        fi
        # pg_dropcluster leaves the directory when a file it did not make is in it (ours)
        rm -f "/etc/postgresql/$PG_VERSION/$name/conf.d/vs-cluster.conf" \
            "/etc/postgresql/$PG_VERSION/$name/conf.d/vs-primary.conf"
        rmdir "/etc/postgresql/$PG_VERSION/$name/conf.d" "/etc/postgresql/$PG_VERSION/$name" 2>/dev/null
    done
}

pg_status() {
    local name port role
    for name in "$PG_PRIMARY" "$PG_REPLICA"; do
        port=$PG_PRIMARY_PORT
        [[ $name == "$PG_REPLICA" ]] && port=$PG_REPLICA_PORT
        if ! pg_exists "$name"; then
            say "postgresql $PG_VERSION/$name: absent"
        elif ! pg_online "$name"; then
            say "postgresql $PG_VERSION/$name (port $port): down"
        else
            role=$(psql_at "$port" "SELECT CASE WHEN pg_is_in_recovery() THEN 'replica (in recovery)' ELSE 'primary' END")
            say "postgresql $PG_VERSION/$name (port $port): $role"
        fi
    done
}

# ---------------------------------------------------------------- commands

cmd_urls() {
    local pw=guest user=guest
    if [[ -s $DIR/admin.password ]]; then user=$ADMIN_USER pw=$(<"$DIR/admin.password"); fi
    # kombu takes ';'-separated alternates and fails over between them.
    say "AMQP_URI='pyamqp://$user:$pw@127.0.0.1:5701//;pyamqp://$user:$pw@127.0.0.1:5702//;pyamqp://$user:$pw@127.0.0.1:5703//'"
    say "DATABASE_URL='postgresql://postgres@127.0.0.1:$PG_PRIMARY_PORT,127.0.0.1:$PG_REPLICA_PORT/$PG_DB?target_session_attrs=read-write'"
    say "RABBIT_API='http://127.0.0.1:15701/api'"
    say "# management: http://127.0.0.1:15701/ (user $user, password in $DIR/admin.password)"
}

cmd_up() {
    [[ $(id -u) == 0 ]] || die "needs root (pg_createcluster, su postgres)"
    [[ -x $RMQ_BIN/rabbitmq-server ]] || die "no $RMQ_BIN/rabbitmq-server"
    mkdir -p "$DIR"
    rabbit_up || die "rabbitmq did not come up (scripts/cluster.sh down removes what was made)"
    pg_up || die "postgresql did not come up (scripts/cluster.sh down removes what was made)"
    cmd_urls
}

cmd_down() {
    [[ $(id -u) == 0 ]] || die "needs root (pg_dropcluster)"
    rabbit_down
    pg_down
    rmdir "$DIR" 2>/dev/null || true
    say "cluster: down"
}

cmd_status() {
    rabbit_status
    pg_status
}

usage() { err "usage: $0 {up|down|status|urls|pg-reset|ctl NODE ARGS...}"; exit 2; }
(($#)) || usage
if [[ $1 == ctl ]]; then
    (($# >= 3)) && [[ -n $(index_of "$2") ]] || usage
    shift
    ctl "$@"
    exit
fi
(($# == 1)) || usage
case $1 in
    pg-reset)
        [[ $(id -u) == 0 ]] || die "needs root"
        pg_down && pg_up ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    urls) cmd_urls ;;
    *) usage ;;
esac
