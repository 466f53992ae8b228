/* SPDX-License-Identifier: MIT */
/** Civil (proleptic Gregorian, UTC) dates and times of list entries, without the C library's
 * time zone machinery. */
#ifndef SINKHOLED_UTIL_CIVIL_H
#define SINKHOLED_UTIL_CIVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Days since 1970-01-01 of year y, month m (1-12), day d (1-31). */
int64_t civil_days(int64_t y, unsigned m, unsigned d);
/** The date of day z since 1970-01-01 (Howard Hinnant's civil_from_days): the inverse. */
void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/** s[0..n) as n decimal digits into *out; false if any is not a digit. */
bool civil_digits(const char *s, int n, int *out);
/**
 * s[0..n) as YYYY-MM-DD (midnight UTC) or RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm),
 * 'T' or a space between date and time) into Unix seconds. With a space, the zone may be left
 * out: "YYYY-MM-DD HH:MM:SS" (as ThreatFox writes it) is UTC. With is_expires, a date means
 * "after this day": the first inactive second is the next midnight, and a fraction rounds up.
 */
bool civil_parse_time(const char *s, size_t n, bool is_expires, int64_t *out);

#endif
