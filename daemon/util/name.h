/* SPDX-License-Identifier: MIT */
/**
 * Domain names in presentation form ("WWW.Evil.com.", RFC 1035 escapes) to the canonical wire
 * form every table of the daemon uses: lowercase labels (RFC 4343), each prefixed by its
 * length, ending with the root label.
 */
#ifndef SINKHOLED_UTIL_NAME_H
#define SINKHOLED_UTIL_NAME_H

#include <stddef.h>
#include <stdint.h>

/**
 * Convert text[0..n) into canonical wire form in out. Returns the length (root label
 * included), or -EINVAL with *why set: empty name or label, label > 63 bytes, name > 255,
 * bad escape, control or non-ASCII byte, the root, or a wildcard label ("*" alone: a listed
 * domain already matches all its subdomains).
 */
int name_to_wire(const char *text, size_t n, uint8_t out[255], const char **why);

/** Room for a name in presentation form, escapes included. */
#define NAME_TEXT_MAX 1024

/**
 * Undo the usual defanging of an IOC name s[0..*n): "evil[.]com", "evil(.)com", "evil{.}com",
 * "evil[dot]com", and URLs ("hxxp://evil.com:8080/path" is evil.com). Returns s when there was
 * nothing to undo, else buf holding the result, with *n its length. The result is not checked.
 */
const char *name_defang(const char *s, size_t *n, char buf[NAME_TEXT_MAX]);

#endif
