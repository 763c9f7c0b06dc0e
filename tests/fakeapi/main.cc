// kubetrain-fake-apiserver: the in-memory Kubernetes API server tests run the operator against.
// Prints the port on stdout once it accepts connections; stops on SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "tests/fakeapi/fake_api_server.h"

int main(int argc, char** argv) {
  using kubetrain::fakeapi::FakeApiServer;
  using kubetrain::fakeapi::FakeApiServerOptions;

  FakeApiServerOptions options;
  std::string codes = "500";
  CLI::App app{"In-memory Kubernetes API server for kubetrain's tests (127.0.0.1 only)"};
  app.add_option("--port", options.port, "Port to listen on (0: any free port)");
  app.add_option("--event-window", options.event_window,
                 "Watch events retained; watches from older resourceVersions get 410 Gone")
      ->check(CLI::PositiveNumber);
  app.add_option("--bookmark-interval-ms", options.bookmark_interval_ms,
                 "BOOKMARK cadence on watches that ask for them")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", options.threads,
                 "Concurrent connections (each open watch and idle keep-alive holds one)")
      ->check(CLI::PositiveNumber);
  app.add_option("--error-rate", options.faults.error_rate,
                 "Fraction of API requests answered with an injected error")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--error-codes", codes, "Comma-separated HTTP codes to inject, e.g. 409,429,500");
  app.add_option("--drop-watch-every", options.faults.drop_watch_every,
                 "End every watch after this many events (0: never)");
  app.add_option("--latency-ms", options.faults.latency_ms, "Latency added to every request");
  app.add_option("--retry-after-seconds", options.faults.retry_after_seconds,
                 "Retry-After of injected 429 answers");
  app.add_option("--error-verbs", options.faults.verbs,
                 "Inject errors only into these verbs (get, list, watch, create, update, patch, "
                 "delete)")
      ->delimiter(',');
  bool no_log = false;
  app.add_flag("--no-request-log", no_log, "Do not keep the log served at /fake/requests");
  CLI11_PARSE(app, argc, argv);
  options.log_requests = !no_log;
  options.faults.codes.clear();
  std::stringstream list(codes);
  for (std::string code; std::getline(list, code, ',');) {
    try {
      options.faults.codes.push_back(std::stoi(code));
    } catch (const std::exception&) {
      std::cerr << "--error-codes: '" << code << "' is not an HTTP status code\n";
      return 2;
    }
  }
  if (options.faults.codes.empty()) {
    std::cerr << "--error-codes: give at least one HTTP status code\n";
    return 2;
  }

  // Signals are taken synchronously below, so every thread started from here blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  FakeApiServer server(options);
  try {
    std::cout << server.start() << std::endl;
  } catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    return 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  server.stop();
  return 0;
}
