/* SPDX-License-Identifier: MIT */
/** Whole files, read-only, for the list loaders. */
#ifndef SINKHOLED_UTIL_READFILE_H
#define SINKHOLED_UTIL_READFILE_H

#include <stdbool.h>
#include <stddef.h>

/**
 * The whole file at path: a private read-only mapping of a regular file (no copy, no fresh
 * pages to zero), else read into a malloc'd buffer. *mapped says which. Returns 0 or a
 * negative errno. Release with readfile_release().
 */
int readfile(const char *path, char **out, size_t *len, bool *mapped);
/** Release what readfile() returned. */
void readfile_release(char *text, size_t len, bool mapped);

#endif
