/* SPDX-License-Identifier: MIT */
/**
 * The daemon's modes, each returning an exit code: serve (server_run), --check, and fetch.
 */
#ifndef SINKHOLED_SERVER_H
#define SINKHOLED_SERVER_H

/** Exit codes (README "Command line and signals"). */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_INVALID = 2 };

/** Serve with the config at path until SIGTERM or SIGINT. */
int server_run(const char *config_path);
/** Load and validate the config and every list, print the per-list summary (--check). */
int server_check(const char *config_path);
/** Fetch every feed once into state_dir (`sinkholed fetch`). */
int server_fetch(const char *config_path);

#endif
