#!/usr/bin/env bash
# Builds tests with a sanitizer and runs them; fails on any report from the project's code.
#
# Usage: scripts/sanitize.sh thread|address [BUILD_DIR]
#   thread   ThreadSanitizer: the operator, the Kubernetes client, the fake API server and their
#            tests (ctest label operator: kube and controller unit tests, the operator end to end
#            against the fake API server). Default BUILD_DIR build-tsan.
#   address  AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included): the worker's
#            and the operator's CPU unit tests (ctest label unit). Default BUILD_DIR build-asan.
# The long training tests (integration, torch) are left to scripts/test.sh. Installs what it needs
# with scripts/install-deps.sh --tests. Every process writes its reports to a file of its own (log_path), so a
# report from a child process (the operator, the fake API server, an MPI rank) fails the run even
# when the test that started it passed. Suppressions (tests/sanitizers/) cover only reports whose
# frames all lie in system libraries built without the sanitizer; each entry says why.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-}
suppressions=$PWD/tests/sanitizers
case $kind in
  thread)
    build=${2:-build-tsan}
    flags="-fsanitize=thread"
    targets=(kubetrain-operator kubetrain-fake-apiserver kube_client_tests controller_unit_tests
      operator_e2e_tests)
    label=operator
    export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 history_size=4 suppressions=$suppressions/tsan.supp"
    ;;
  address)
    build=${2:-build-asan}
    flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
    targets=(kubetrain_backend_cpu_tests kubetrain_model_tests checkpoint_test safetensors_interop_tool
      config_test data_tests dist_test host_gradient_reducer_mpi_test train_test logging_tests
      controller_unit_tests kube_client_tests kubetrain-fake-apiserver)
    label=unit
    export ASAN_OPTIONS="detect_stack_use_after_return=1 strict_init_order=1 check_initialization_order=1"
    export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1 suppressions=$suppressions/ubsan.supp"
    ;;
  *)
    echo "usage: scripts/sanitize.sh thread|address [BUILD_DIR]" >&2
    exit 2
    ;;
esac

bash scripts/install-deps.sh --tests
# -O1 keeps the tests fast enough and the stack traces exact; frame pointers make them complete.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DKUBETRAIN_CUDA=OFF \
  -DCMAKE_CXX_FLAGS="-O1 -g -fno-omit-frame-pointer $flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$build" --target "${targets[@]}"

reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
for variable in TSAN_OPTIONS ASAN_OPTIONS UBSAN_OPTIONS; do
  [[ -n "${!variable:-}" ]] && export "$variable=${!variable} log_path=$reports/$variable"
done

status=0
ctest --test-dir "$build" -L "^$label\$" --output-on-failure --timeout 900 -j "${TEST_JOBS:-2}" || status=$?

shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]})); then
  echo "sanitize.sh: ${#found[@]} process(es) reported under the $kind sanitizer:" >&2
  for report in "${found[@]}"; do
    echo "---- $(basename "$report")" >&2
    cat "$report" >&2
  done
  status=1
fi
((status == 0)) && echo "sanitize.sh: no $kind sanitizer report"
exit "$status"
