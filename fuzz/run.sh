#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of fuzz/targets/ against PermIDKit (see fuzz/README.md).
#
#   fuzz/run.sh [SECONDS_PER_TARGET]        (default 60)
#
# For each target: compile Sources/PermIDKit/*.swift with the target's harness into one
# -sanitize=fuzzer,address executable (cached by a hash of everything that goes into it), replay
# every input under fuzz/regressions/<target>/, then fuzz for SECONDS_PER_TARGET starting from a
# temporary copy of fuzz/corpus/<target>/ (the repository is never written to). Prints one line
# per target, then exactly "N passed, M failed"; exits 1 if any target failed (build error, a
# crashing regression input, or a crash / leak / timeout / OOM found by libFuzzer).
#
# Environment: FUZZ_TARGETS (space-separated subset to run), FUZZ_BUILD_DIR (binary cache,
# default ${TMPDIR:-/tmp}/fuzz-build-permid), SWIFTC (compiler; default swiftc on PATH, else
# /opt/swift/usr/bin/swiftc).
set -uo pipefail

usage() { echo "usage: fuzz/run.sh [SECONDS_PER_TARGET]" >&2; exit 2; }
[ $# -le 1 ] || usage
seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || usage

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzz=$root/fuzz
targets=(${FUZZ_TARGETS:-json_record base64url permid_der announce})
build_dir=${FUZZ_BUILD_DIR:-${TMPDIR:-/tmp}/fuzz-build-permid}

# --- toolchain -----------------------------------------------------------------------------------
swiftc=${SWIFTC:-}
if [ -z "$swiftc" ]; then
    if command -v swiftc >/dev/null 2>&1; then swiftc=$(command -v swiftc)
    elif [ -x /opt/swift/usr/bin/swiftc ]; then swiftc=/opt/swift/usr/bin/swiftc
    else echo "fuzz/run.sh: swiftc not found (looked on PATH and in /opt/swift/usr/bin)" >&2; exit 2
    fi
fi
toolbin=$(dirname "$(readlink -f "$swiftc")")

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-run.XXXXXX")
# Build from a snapshot of the sources, so edits made while this runs cannot break or skew a build
# (stack traces in the logs name the snapshot's files, $work/src/...).
mkdir -p "$work/src/PermIDKit" "$work/src/CCrypto" "$work/src/CSodium"
cp "$root"/Sources/PermIDKit/*.swift "$work/src/PermIDKit/"
cp "$root"/Sources/CCrypto/* "$work/src/CCrypto/"
cp "$root"/Sources/CSodium/* "$work/src/CSodium/"
library=("$work"/src/PermIDKit/*.swift)

flags=(-swift-version 6 -sanitize=fuzzer,address -parse-as-library -O -g -module-name PermIDKit
       -I "$work/src/CCrypto" -I "$work/src/CSodium")
for library_name in libcrypto libsodium; do
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists $library_name 2>/dev/null; then
        for flag in $(pkg-config --cflags-only-I $library_name); do flags+=(-Xcc "$flag"); done
        for flag in $(pkg-config --libs-only-L $library_name); do flags+=("$flag"); done
    fi
done
flags+=(-lcrypto -lsodium)
# The toolchain's lld links quietly; gold (the default on Linux) warns once per ASan symbol.
[ -x "$toolbin/ld.lld" ] && flags+=(-use-ld=lld)

# Let libFuzzer and ASan report crashes: Swift's own backtracer would take the signal first.
export SWIFT_BACKTRACE=enable=no
[ -x "$toolbin/llvm-symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$toolbin/llvm-symbolizer"

mkdir -p "$build_dir"
toolchain_id=$("$swiftc" --version 2>&1)

echo "fuzz: ${#targets[@]} targets, ${seconds} s each; logs, corpora and artifacts in $work"

passed=0
failed=0
summary=()

report_failure() { # target, reason, log: a target that could not be run at all
    summary+=("$1: FAILED ($2)")
    summary+=("  log: $3" "  --- last 40 lines of the log ---")
    while IFS= read -r line; do summary+=("  | $line"); done < <(tail -n 40 "$3")
    failed=$((failed + 1))
}

for target in "${targets[@]}"; do
    harness=$work/src/$target.swift
    log=$work/$target.log
    : > "$log"
    if ! cp "$fuzz/targets/$target.swift" "$harness" 2> "$log"; then
        report_failure "$target" "no such target" "$log"
        continue
    fi

    # --- build (cached by the hash of compiler, flags and every input file) ---------------------
    key=$( { echo "$toolchain_id"; printf '%s\n' "${flags[@]/#$work/}"; cat "${library[@]}" "$work"/src/CCrypto/* "$work"/src/CSodium/* "$harness"; } \
           | sha256sum | cut -c1-16)
    binary=$build_dir/$target-$key
    if [ -x "$binary" ]; then
        echo "[$target] using cached build $binary"
    else
        echo "[$target] compiling"
        partial=$binary.partial.$$
        if ! "$swiftc" "${flags[@]}" "${library[@]}" "$harness" -o "$partial" > "$work/$target.build.log" 2>&1; then
            rm -f "$partial"
            report_failure "$target" "does not compile" "$work/$target.build.log"
            continue
        fi
        mv -f "$partial" "$binary"
    fi

    common=(-timeout=10 -rss_limit_mb=2048)
    dict=()
    case $target in json_record|announce) dict=(-dict="$fuzz/json.dict") ;; esac

    # --- replay the committed regression inputs ---------------------------------------------------
    regressions=()
    if [ -d "$fuzz/regressions/$target" ]; then
        while IFS= read -r -d '' file; do regressions+=("$file"); done \
            < <(find "$fuzz/regressions/$target" -type f ! -name '*.md' ! -name '.*' -print0 | sort -z)
    fi
    crashing=()
    passing=()
    first_crash_log=""
    for index in "${!regressions[@]}"; do
        file=${regressions[$index]}
        replay_log=$work/$target.regression-$index.log
        if timeout -k 10 120 "$binary" "${common[@]}" "$file" > "$replay_log" 2>&1 < /dev/null; then
            passing+=("$file")
        else
            crashing+=("$file")
            [ -n "$first_crash_log" ] || first_crash_log=$replay_log
        fi
    done

    # --- fuzz ---------------------------------------------------------------------------------------
    corpus=$work/corpus/$target
    artifacts=$work/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    [ -d "$fuzz/corpus/$target" ] && cp -R "$fuzz/corpus/$target/." "$corpus/"
    for file in "${passing[@]}"; do cp "$file" "$corpus/regression-$(basename "$file")"; done
    echo "[$target] fuzzing for ${seconds} s"
    timeout -k 30 $((seconds + 300)) "$binary" "${common[@]}" "${dict[@]}" -max_total_time="$seconds" \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >> "$log" 2>&1 < /dev/null
    status=$?

    executions=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n1)
    [ -n "$executions" ] || executions=$(grep -oE '^#[0-9]+' "$log" | tail -n1 | tr -d '#')
    executions=${executions:-0}
    artifact=$(find "$artifacts" -type f | head -n1)

    problems=()
    if [ ${#crashing[@]} -gt 0 ]; then
        first=$(grep -m1 -E 'Fatal error: |ERROR: ' "$first_crash_log" | sed -E 's/^.*(Fatal error: |ERROR: )//')
        problems+=("${#crashing[@]} of ${#regressions[@]} regression inputs crash, first ${crashing[0]##*/}: $first")
    fi
    if [ "$status" -ne 0 ] || [ -n "$artifact" ]; then
        fuzzlog=$(cat "$log")
        if grep -q 'ERROR: libFuzzer: timeout' <<< "$fuzzlog"; then reason="timeout"
        elif grep -q 'ERROR: LeakSanitizer' <<< "$fuzzlog"; then reason="leak"
        elif grep -q 'ERROR: libFuzzer: out-of-memory' <<< "$fuzzlog"; then reason="out of memory"
        elif grep -q 'ERROR: AddressSanitizer' <<< "$fuzzlog"; then
            reason="AddressSanitizer: $(grep -m1 -oE 'ERROR: AddressSanitizer: [a-z-]+' <<< "$fuzzlog" | cut -d' ' -f3)"
        elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then reason="hung past -max_total_time, killed"
        else reason="crash"
        fi
        message=$(grep -m1 -E 'Fatal error: ' <<< "$fuzzlog" | sed 's/^.*Fatal error: //')
        [ -n "$message" ] && reason="$reason: $message"
        problems+=("fuzzing found: $reason")
    fi

    if [ ${#problems[@]} -eq 0 ]; then
        summary+=("$target: $executions executions in ${seconds} s, passed")
        passed=$((passed + 1))
        continue
    fi
    summary+=("$target: $executions executions, FAILED")
    for problem in "${problems[@]}"; do summary+=("  $problem"); done
    [ -n "$artifact" ] && summary+=("  artifact: $artifact")
    for file in "${crashing[@]}"; do summary+=("  crashing regression input: $file"); done
    if [ -n "$first_crash_log" ]; then
        summary+=("  log of ${crashing[0]##*/}: $first_crash_log" "  --- last 40 lines ---")
        while IFS= read -r line; do summary+=("  | $line"); done < <(tail -n 40 "$first_crash_log")
    fi
    if [ "$status" -ne 0 ] || [ -n "$artifact" ]; then
        summary+=("  fuzzing log: $log" "  --- last 40 lines ---")
        while IFS= read -r line; do summary+=("  | $line"); done < <(tail -n 40 "$log")
    fi
    failed=$((failed + 1))
done

echo
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
