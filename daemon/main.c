/* SPDX-License-Identifier: MIT */
/* sinkholed: the command line and the exit codes; server.c runs the daemon. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

#define DEFAULT_CONFIG "/etc/sinkholed/sinkholed.yaml"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sinkholed [-c FILE] [--check] [--version] [--help]\n"
		"       sinkholed fetch [-c FILE]\n"
		"A DNS sinkhole resolver: answers queries for blocklisted domains itself and\n"
		"forwards every other query to the upstream resolvers.\n\n"
		"  -c, --config FILE  config file (default " DEFAULT_CONFIG ")\n"
		"      --check        validate the config and every blocklist, print a summary;\n"
		"                     exit 0 if valid, 2 if not\n"
		"  -V, --version      print the version and exit\n"
		"  -h, --help         print this help and exit\n"
		"  fetch              fetch every feed (blocklists with url:) once into state_dir\n"
		"                     and exit: 0 if every copy is current, 1 if one failed\n\n"
		"Blocklists: local files (YAML, domains, hosts, ...) and feeds fetched over\n"
		"HTTP(S) on their refresh: schedule. A list that breaks keeps its last good\n"
		"version; each load and fetch logs a health line per list.\n\n"
		"Signals: HUP reloads config and blocklists, USR1 reopens the block log,\n"
		"TERM/INT stop gracefully.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = DEFAULT_CONFIG;
	bool check = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:Vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'V':
			printf("sinkholed %s\n", SINKHOLED_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case ':':
			fprintf(stderr, "sinkholed: option %s needs an argument\n",
				argv[optind - 1]);
			usage(stderr);
			return EXIT_INVALID;
		default:
			fprintf(stderr, "sinkholed: unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_INVALID;
		}
	}
	if (optind < argc && strcmp(argv[optind], "fetch") == 0 && optind + 1 == argc && !check)
		return server_fetch(config_path);
	if (optind < argc) {
		fprintf(stderr, "sinkholed: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		return EXIT_INVALID;
	}
	return check ? server_check(config_path) : server_run(config_path);
}
