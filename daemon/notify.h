/* SPDX-License-Identifier: MIT */
/**
 * The service manager's readiness protocol (sd_notify(3), documented as stable): one datagram
 * of "KEY=value" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. Without it (not started
 * by systemd with Type=notify) every call does nothing.
 */
#ifndef SINKHOLED_NOTIFY_H
#define SINKHOLED_NOTIFY_H

#include <stdint.h>

/** Send one message, formatted like printf ("READY=1\nSTATUS=..."). 0 or a negative errno. */
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** The watchdog interval in microseconds set for this process (WatchdogSec=), or 0. */
uint64_t notify_watchdog_usec(void);
/** CLOCK_MONOTONIC in microseconds, for RELOADING=1's MONOTONIC_USEC. */
uint64_t notify_monotonic_usec(void);

#endif
