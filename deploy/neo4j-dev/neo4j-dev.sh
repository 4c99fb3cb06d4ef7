#!/usr/bin/env bash
# neo4j-dev.sh - run a throwaway in-process Neo4j Community 5.26 server
# (neo4j-harness, auth disabled, HTTP off, Bolt on 127.0.0.1) without Docker.
#
# Usage:
#   neo4j-dev.sh start [PORT]   build if needed, start in the background, wait for READY
#   neo4j-dev.sh stop           SIGTERM, then SIGKILL after NEO4J_DEV_STOP_TIMEOUT seconds
#   neo4j-dev.sh status         exit 0 if running and the Bolt port answers, else 1
#   neo4j-dev.sh env [PORT]     print `export MODELGRAPH_NEO4J_URI=bolt://127.0.0.1:PORT`
#
# Environment:
#   MODELGRAPH_NEO4J_STATE   state dir (pid, log, classpath, classes);
#                            default ${XDG_CACHE_HOME:-$HOME/.cache}/modelgraph/neo4j-dev
#   NEO4J_DEV_JAVA_OPTS      JVM options (default: -Xmx1g)
#   NEO4J_DEV_PAGECACHE_MB   Neo4j page cache in MiB, off-heap (default: 64)
#   NEO4J_DEV_MVN_OPTS       extra Maven arguments (e.g. -s settings.xml for a mirror)
#   NEO4J_DEV_START_TIMEOUT  seconds to wait for READY (default: 180)
#   NEO4J_DEV_STOP_TIMEOUT   seconds to wait after SIGTERM before SIGKILL (default: 30)
#
# The data lives in a temporary directory that is deleted when the server stops.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/pom.xml"
JAVA_SRC="$SCRIPT_DIR/src/main/java/dev/modelgraph/Neo4jDev.java"
MAIN_CLASS="dev.modelgraph.Neo4jDev"
HOST="127.0.0.1"
DEFAULT_PORT=7687

STATE_DIR="${MODELGRAPH_NEO4J_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelgraph/neo4j-dev}"
PID_FILE="$STATE_DIR/neo4j-dev.pid"
PORT_FILE="$STATE_DIR/neo4j-dev.port"
LOG_FILE="$STATE_DIR/neo4j-dev.log"
BUILD_DIR="$STATE_DIR/build"
CP_FILE="$BUILD_DIR/cp.txt"
CP_STAMP="$BUILD_DIR/cp.stamp"
CLASSES_DIR="$BUILD_DIR/classes"
CLASSES_STAMP="$BUILD_DIR/classes.stamp"

START_TIMEOUT="${NEO4J_DEV_START_TIMEOUT:-180}"
STOP_TIMEOUT="${NEO4J_DEV_STOP_TIMEOUT:-30}"

log() { printf 'neo4j-dev: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
	echo "usage: $(basename "$0") start [PORT] | stop | status | env [PORT]" >&2
	exit "${1:-2}"
}

valid_port() {
	[[ "$1" =~ ^[0-9]+$ ]] && (( 10#$1 >= 1 && 10#$1 <= 65535 ))
}

# port_answers PORT: true if something accepts TCP connections on HOST:PORT.
port_answers() {
	local port="$1"
	if command -v timeout >/dev/null 2>&1; then
		timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$port" >/dev/null 2>&1
	else
		bash -c "exec 3<>/dev/tcp/$HOST/$port" >/dev/null 2>&1
	fi
}

# is_ours PID: true if PID is alive and is our Java process.
is_ours() {
	local pid="$1"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r "/proc/$pid/cmdline" ]]; then
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$MAIN_CLASS"
	elif command -v ps >/dev/null 2>&1; then
		ps -o args= -p "$pid" 2>/dev/null | grep -q "$MAIN_CLASS"
	else
		return 0
	fi
}

# running_pid: print the pid of the running server (and succeed), or fail.
# Removes stale pid/port files.
running_pid() {
	local pid
	[[ -f "$PID_FILE" ]] || return 1
	pid="$(cat "$PID_FILE" 2>/dev/null || true)"
	if is_ours "$pid"; then
		printf '%s\n' "$pid"
		return 0
	fi
	rm -f "$PID_FILE" "$PORT_FILE"
	return 1
}

running_port() {
	local port
	port="$(cat "$PORT_FILE" 2>/dev/null || true)"
	valid_port "$port" || port="$DEFAULT_PORT"
	printf '%s\n' "$port"
}

# with_privileges CMD...: run as root (directly, or through sudo).
with_privileges() {
	if [[ "$(id -u)" -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

java_cmd() {
	if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/$1" ]]; then
		printf '%s\n' "$JAVA_HOME/bin/$1"
	else
		command -v "$1" 2>/dev/null || printf '%s\n' "$1"
	fi
}

ensure_tools() {
	local missing=0
	command -v "$(java_cmd java)" >/dev/null 2>&1 || missing=1
	command -v "$(java_cmd javac)" >/dev/null 2>&1 || missing=1
	command -v mvn >/dev/null 2>&1 || missing=1
	if (( missing )); then
		command -v apt-get >/dev/null 2>&1 ||
			die "java/javac/mvn not found and apt-get is unavailable; install JDK 17+ and Maven 3.6+"
		log "java, javac or mvn missing: installing openjdk-17-jdk-headless and maven with apt-get"
		with_privileges env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		with_privileges env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends openjdk-17-jdk-headless maven >&2
	fi
	local java ver major
	java="$(java_cmd java)"
	ver="$("$java" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)"
	major="${ver%%.*}"
	if [[ "$major" == "1" ]]; then major=0; fi
	if ! [[ "$major" =~ ^[0-9]+$ ]] || (( major < 17 )); then
		die "Java 17 or newer is required (found '${ver:-unknown}' at $java); set JAVA_HOME to a JDK 17+"
	fi
}

# checksum FILE...: a content fingerprint (cksum is POSIX, so no sha256sum/shasum dependency).
checksum() {
	cat "$@" | cksum | awk '{print $1 "-" $2}'
}

# classpath_complete: every entry of the cached classpath still exists (~/.m2 may have been pruned).
classpath_complete() {
	local entry cp
	[[ -s "$CP_FILE" ]] || return 1
	cp="$(cat "$CP_FILE")"
	local IFS=':'
	for entry in $cp; do
		[[ -e "$entry" ]] || return 1
	done
	return 0
}

resolve_classpath() {
	local want
	want="$(checksum "$POM")"
	if [[ "$(cat "$CP_STAMP" 2>/dev/null || true)" == "$want" ]] && classpath_complete; then
		return 0
	fi
	log "resolving the neo4j-harness classpath with Maven (the first time, this downloads ~170 MB into ~/.m2)"
	mkdir -p "$BUILD_DIR"
	local attempt=1 max=5 delay=5 extra=()
	local mvn_opts=()
	if [[ -n "${NEO4J_DEV_MVN_OPTS:-}" ]]; then
		read -r -a mvn_opts <<<"$NEO4J_DEV_MVN_OPTS"
	fi
	while :; do
		rm -f "$CP_FILE.tmp"
		if mvn -B -q -Dstyle.color=never -f "$POM" ${mvn_opts[@]+"${mvn_opts[@]}"} ${extra[@]+"${extra[@]}"} \
			dependency:build-classpath -Dmdep.outputFile="$CP_FILE.tmp" >&2 &&
			[[ -s "$CP_FILE.tmp" ]]; then
			break
		fi
		if (( attempt >= max )); then
			die "Maven could not resolve the classpath after $max attempts (see the output above)"
		fi
		log "Maven failed (attempt $attempt/$max); retrying in ${delay}s"
		sleep "$delay"
		attempt=$((attempt + 1))
		delay=$((delay * 2))
		# -U: do not trust failures cached in ~/.m2 (e.g. after HTTP 429);
		# a single download thread to be gentle with a rate-limiting repository.
		extra=(-U -Daether.connector.basic.threads=1)
	done
	mv -f "$CP_FILE.tmp" "$CP_FILE"
	printf '%s\n' "$want" >"$CP_STAMP"
	rm -f "$CLASSES_STAMP"
}

compile_classes() {
	local javac want
	javac="$(java_cmd javac)"
	want="$(checksum "$POM" "$JAVA_SRC")-$("$javac" -version 2>&1 | tr -c 'A-Za-z0-9.\n' '_')"
	if [[ "$(cat "$CLASSES_STAMP" 2>/dev/null || true)" == "$want" ]] &&
		[[ -f "$CLASSES_DIR/dev/modelgraph/Neo4jDev.class" ]]; then
		return 0
	fi
	log "compiling $(basename "$JAVA_SRC")"
	rm -rf "$CLASSES_DIR.tmp"
	mkdir -p "$CLASSES_DIR.tmp"
	"$javac" --release 17 -encoding UTF-8 -nowarn -Xlint:-path -d "$CLASSES_DIR.tmp" \
		-cp "$(cat "$CP_FILE")" "$JAVA_SRC" >&2
	rm -rf "$CLASSES_DIR"
	mv "$CLASSES_DIR.tmp" "$CLASSES_DIR"
	printf '%s\n' "$want" >"$CLASSES_STAMP"
}

# wait_ready PID PORT: wait for the READY line and the port; on failure show the log's tail.
wait_ready() {
	local pid="$1" port="$2" waited=0
	while (( waited < START_TIMEOUT * 2 )); do
		if ! is_ours "$pid"; then
			log "error: the server exited during startup; last lines of $LOG_FILE:"
			tail -n 40 "$LOG_FILE" >&2 || true
			rm -f "$PID_FILE" "$PORT_FILE"
			exit 1
		fi
		if grep -q '^READY ' "$LOG_FILE" 2>/dev/null && port_answers "$port"; then
			return 0
		fi
		sleep 0.5
		waited=$((waited + 1))
	done
	log "error: no READY line after ${START_TIMEOUT}s; last lines of $LOG_FILE:"
	tail -n 40 "$LOG_FILE" >&2 || true
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$PID_FILE" "$PORT_FILE"
	exit 1
}

cmd_start() {
	local port="${1:-$DEFAULT_PORT}" pid
	valid_port "$port" || die "invalid port: $port"
	port=$((10#$port))
	mkdir -p "$STATE_DIR"

	# Serialize concurrent `start` calls when flock(1) is available.
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$STATE_DIR/lock"
		flock -w 900 9 || die "timed out waiting for another neo4j-dev.sh start"
	fi

	if pid="$(running_pid)"; then
		local cur
		cur="$(running_port)"
		if [[ "$cur" != "$port" ]]; then
			die "already running (pid $pid) on bolt://$HOST:$cur, not on port $port; run '$0 stop' first"
		fi
		if ! port_answers "$port"; then
			log "already running (pid $pid) but not answering yet; waiting"
			wait_ready "$pid" "$port"
		fi
		echo "neo4j-dev already running (pid $pid): bolt://$HOST:$port"
		return 0
	fi

	if port_answers "$port"; then
		die "port $port on $HOST is already in use by another process (not a neo4j-dev server started from $STATE_DIR); pick another port: $0 start PORT"
	fi

	ensure_tools
	resolve_classpath
	compile_classes

	local java_opts=()
	read -r -a java_opts <<<"${NEO4J_DEV_JAVA_OPTS:--Xmx1g}"
	if [[ -n "${NEO4J_DEV_PAGECACHE_MB:-}" ]]; then
		[[ "$NEO4J_DEV_PAGECACHE_MB" =~ ^[0-9]+$ ]] || die "NEO4J_DEV_PAGECACHE_MB must be a number of MiB"
		java_opts+=("-Dneo4j.dev.pagecache=$NEO4J_DEV_PAGECACHE_MB")
	fi
	local java
	java="$(java_cmd java)"

	: >"$LOG_FILE"
	# CLASSPATH via the environment keeps the (long) classpath off the command line.
	# 9>&- : the server must not inherit the start lock.
	CLASSPATH="$CLASSES_DIR:$(cat "$CP_FILE")" \
		nohup "$java" ${java_opts[@]+"${java_opts[@]}"} "$MAIN_CLASS" "$port" \
		</dev/null >>"$LOG_FILE" 2>&1 9>&- &
	pid=$!
	# Until the forked shell has exec'd java, /proc/PID/cmdline is still this
	# script's; wait for that so is_ours (and a concurrent `status`) sees the server.
	local i=0
	while ! is_ours "$pid" && kill -0 "$pid" 2>/dev/null && ((i < 100)); do
		sleep 0.05
		i=$((i + 1))
	done
	printf '%s\n' "$pid" >"$PID_FILE"
	printf '%s\n' "$port" >"$PORT_FILE"
	log "started pid $pid, log $LOG_FILE; waiting up to ${START_TIMEOUT}s for Bolt on $HOST:$port"
	wait_ready "$pid" "$port"
	echo "neo4j-dev running (pid $pid): bolt://$HOST:$port"
}

cmd_stop() {
	local pid waited=0
	if ! pid="$(running_pid)"; then
		rm -f "$PID_FILE" "$PORT_FILE"
		echo "neo4j-dev not running"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	while is_ours "$pid" && (( waited < STOP_TIMEOUT * 2 )); do
		sleep 0.5
		waited=$((waited + 1))
	done
	if is_ours "$pid"; then
		log "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$PID_FILE" "$PORT_FILE"
	echo "neo4j-dev stopped (pid $pid)"
}

cmd_status() {
	local pid port
	if pid="$(running_pid)"; then
		port="$(running_port)"
		if port_answers "$port"; then
			echo "neo4j-dev running (pid $pid): bolt://$HOST:$port"
			return 0
		fi
		echo "neo4j-dev process $pid is alive but $HOST:$port does not answer"
		return 1
	fi
	echo "neo4j-dev not running"
	return 1
}

cmd_env() {
	local port
	if running_pid >/dev/null; then
		port="$(running_port)"
	else
		port="${1:-$DEFAULT_PORT}"
		valid_port "$port" || die "invalid port: $port"
		port=$((10#$port))
	fi
	echo "export MODELGRAPH_NEO4J_URI=bolt://$HOST:$port"
}

main() {
	local cmd="${1:-}"
	[[ $# -gt 0 ]] && shift
	case "$cmd" in
	start) [[ $# -le 1 ]] || usage; cmd_start "$@" ;;
	stop) [[ $# -eq 0 ]] || usage; cmd_stop ;;
	status) [[ $# -eq 0 ]] || usage; cmd_status ;;
	env) [[ $# -le 1 ]] || usage; cmd_env "$@" ;;
	-h | --help | help) usage 0 ;;
	*) usage ;;
	esac
}

main "$@"
